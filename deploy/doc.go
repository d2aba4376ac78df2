// Package deploy holds the container image and KServe manifests for
// onnxkit serve; its test checks that they name only flags and ports the
// command has. It has no code.
package deploy
