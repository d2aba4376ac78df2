// Package onnxpb holds the protobuf messages of the ONNX file format,
// generated from onnx.proto. It is the wire layer under package onnx, which
// converts these messages to and from plain Go values; other packages should
// use package onnx instead.
//
// onnx.pb.go is committed so that building never needs protoc. To
// regenerate it, put protoc and protoc-gen-go v1.36.12 on PATH and run
// go generate in this folder; TestGenerated fails when the committed file
// is stale.
package onnxpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative onnx.proto
