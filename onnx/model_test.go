package onnx

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/onnxkit/onnxkit/tensor"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// testModel is a small model touching every part of the format: a
// symbolic batch dim, initializers of several dtypes, metadata, a
// model-local function, and a node with one attribute of every type,
// including a subgraph that reads a value of the outer graph.
//
//	x [N,1,4,4] -> Conv(W, B) -> c [N,1,2,2] -> Relu -> y
//	                             c -> Probe(...) -> p
func testModel() *Model {
	w := tensor.FromFloat32([]float32{1, 0, -1, 2, 0, -2, 1, 0, -1}, 1, 1, 3, 3)
	b := tensor.FromFloat32([]float32{0.5}, 1)
	shape := tensor.FromInt64([]int64{-1, 4}, 2)
	body := &Graph{
		Name:    "body",
		Nodes:   []*Node{{Name: "inner", OpType: "Identity", Inputs: []string{"c"}, Outputs: []string{"body_out"}}},
		Outputs: []*ValueInfo{{Name: "body_out", DType: tensor.Float32, ElemType: 1}},
	}
	attrs := []*Attribute{
		{Name: "f", Type: AttrFloat, F: 0.25},
		{Name: "i", Type: AttrInt, I: -7},
		{Name: "s", Type: AttrString, S: []byte("same")},
		{Name: "t", Type: AttrTensor, T: tensor.FromInt64([]int64{3, 1, 4}, 3)},
		{Name: "g", Type: AttrGraph, G: body},
		{Name: "floats", Type: AttrFloats, Floats: []float32{1.5, -2}},
		{Name: "ints", Type: AttrInts, Ints: []int64{1, 1, 0, 0}},
		{Name: "strings", Type: AttrStrings, Strings: [][]byte{[]byte("a"), []byte("bc")}},
		{Name: "tensors", Type: AttrTensors, Tensors: []*tensor.Tensor{
			{DType: tensor.Bool, Shape: []int{2}, B: []bool{true, false}},
			{DType: tensor.Int8, I8: []int8{-3}},
		}},
		{Name: "graphs", Type: AttrGraphs, Graphs: []*Graph{{
			Name:    "body2",
			Nodes:   []*Node{{OpType: "Identity", Inputs: []string{"x"}, Outputs: []string{"body2_out"}}},
			Outputs: []*ValueInfo{{Name: "body2_out"}},
		}}},
	}
	return &Model{
		IRVersion:       8,
		OpsetImports:    []OpsetImport{{Domain: "", Version: 13}, {Domain: "com.onnxkit.test", Version: 1}},
		ProducerName:    "onnxkit-test",
		ProducerVersion: "0.1",
		Domain:          "com.onnxkit",
		ModelVersion:    3,
		DocString:       "a model for tests",
		Metadata:        []StringPair{{"author", "onnx_test.go"}, {"license", "none"}},
		Graph: &Graph{
			Name:      "g",
			DocString: "main graph",
			Inputs: []*ValueInfo{
				{Name: "x", DType: tensor.Float32, ElemType: 1, HasShape: true,
					Shape: []Dim{{Value: -1, Param: "N"}, {Value: 1}, {Value: 4}, {Value: 4}}},
				{Name: "W", DType: tensor.Float32, ElemType: 1, HasShape: true,
					Shape: []Dim{{Value: 1}, {Value: 1}, {Value: 3}, {Value: 3}}},
			},
			Initializers: []*Initializer{
				{Name: "W", DocString: "weights", Tensor: w},
				{Name: "B", Tensor: b},
				{Name: "shape", Tensor: shape},
				{Name: "f64", Tensor: &tensor.Tensor{DType: tensor.Float64, Shape: []int{2}, F64: []float64{1e300, -0.5}}},
				{Name: "i32", Tensor: &tensor.Tensor{DType: tensor.Int32, Shape: []int{1}, I32: []int32{-70000}}},
				{Name: "u8", Tensor: &tensor.Tensor{DType: tensor.Uint8, Shape: []int{2, 0}, U8: []uint8{}}},
			},
			Nodes: []*Node{
				{Name: "/conv1/Conv", OpType: "Conv", Inputs: []string{"x", "W", "B"}, Outputs: []string{"c"},
					Attrs: []*Attribute{{Name: "kernel_shape", Type: AttrInts, Ints: []int64{3, 3}}}},
				{Name: "relu", OpType: "Relu", Inputs: []string{"c"}, Outputs: []string{"y"}, DocString: "activation"},
				{Name: "probe", OpType: "Probe", Domain: "com.onnxkit.test", Inputs: []string{"c", "", "shape"},
					Outputs: []string{"p", ""}, Attrs: attrs},
			},
			Outputs: []*ValueInfo{
				{Name: "y", DType: tensor.Float32, ElemType: 1, HasShape: true,
					Shape: []Dim{{Value: -1, Param: "N"}, {Value: 1}, {Value: 2}, {Value: 2}}},
				{Name: "p", DType: tensor.Invalid, ElemType: 14, HasShape: true, Shape: []Dim{{Value: -1}}},
			},
			ValueInfo: []*ValueInfo{{Name: "c", DType: tensor.Float32, ElemType: 1}},
		},
		Functions: []*Function{{
			Name:              "Probe",
			Domain:            "com.onnxkit.test",
			Inputs:            []string{"a", "b", "s"},
			Outputs:           []string{"o", "o2"},
			Attributes:        []string{"f"},
			AttributeDefaults: []*Attribute{{Name: "i", Type: AttrInt, I: 2}},
			Nodes: []*Node{
				{OpType: "Identity", Inputs: []string{"a"}, Outputs: []string{"o"}},
				{OpType: "Constant", Outputs: []string{"o2"},
					Attrs: []*Attribute{{Name: "value_float", Type: AttrFloat, RefAttrName: "f"}}},
			},
			OpsetImports: []OpsetImport{{Domain: "", Version: 13}},
		}},
	}
}

// TestRoundTrip encodes testModel and decodes it again: every field must
// come back as it was.
func TestRoundTrip(t *testing.T) {
	m := testModel()
	if err := Check(m); err != nil {
		t.Fatalf("Check(testModel()) = %v", err)
	}
	data, err := Encode(m)
	if err != nil {
		t.Fatalf("Encode(testModel()) = %v", err)
	}
	got, err := Decode(data)
	if err != nil {
		t.Fatalf("Decode(Encode(testModel())) = %v", err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("Decode(Encode(m)) differs from m\ngot  %+v\nwant %+v", got.Graph, m.Graph)
		for i := range m.Graph.Nodes {
			if !reflect.DeepEqual(got.Graph.Nodes[i], m.Graph.Nodes[i]) {
				t.Errorf("node %d: got %+v, want %+v", i, got.Graph.Nodes[i], m.Graph.Nodes[i])
			}
		}
	}
	again, err := Encode(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, data) {
		t.Errorf("Encode(Decode(data)) != data")
	}
}

// TestGolden compares Encode(testModel()) and EncodeTensor of a few
// tensors with the files in testdata/, which also seed the fuzz targets.
// Run with -update to rewrite them after a deliberate change.
func TestGolden(t *testing.T) {
	files := map[string]func() ([]byte, error){
		"small.onnx":  func() ([]byte, error) { return Encode(testModel()) },
		"nested.onnx": func() ([]byte, error) { return Encode(nested(3)) },
		"float32.pb": func() ([]byte, error) {
			return EncodeTensor("x", tensor.FromFloat32([]float32{1, -2.5, 3e-8, 0, 1e9, -0}, 2, 3))
		},
		"int64.pb": func() ([]byte, error) { return EncodeTensor("shape", tensor.FromInt64([]int64{-1, 400}, 2)) },
		"bool.pb": func() ([]byte, error) {
			return EncodeTensor("", &tensor.Tensor{DType: tensor.Bool, Shape: []int{}, B: []bool{true}})
		},
	}
	for name, f := range files {
		want, err := f()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what Encode writes now (run go test -update if the change is deliberate)", path)
		}
	}
}
