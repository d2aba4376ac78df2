package onnx

import (
	"errors"
	"testing"

	"github.com/onnxkit/onnxkit/tensor"
)

// TestCheck breaks testModel one way at a time; each error must name the
// node or value at fault.
func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		change func(m *Model)
		want   string
	}{
		{"valid", func(m *Model) {}, ""},
		{"ir version unset", func(m *Model) { m.IRVersion = 0 },
			`onnx: invalid format: ir_version 0: want 3 or later`},
		{"ir version too new", func(m *Model) { m.IRVersion = 99 },
			`onnx: unsupported: ir_version 99 is newer than 13`},
		{"no opsets", func(m *Model) { m.OpsetImports = nil },
			`onnx: invalid format: opset_import is empty`},
		{"default domain missing", func(m *Model) { m.OpsetImports = m.OpsetImports[1:] },
			`onnx: invalid format: node "/conv1/Conv" (Conv): domain "" is not in opset_import`},
		{"domain twice", func(m *Model) { m.OpsetImports = append(m.OpsetImports, OpsetImport{Version: 12}) },
			`onnx: invalid format: opset_import: domain "" imported twice`},
		{"opset version 0", func(m *Model) { m.OpsetImports[0].Version = 0 },
			`onnx: invalid format: opset_import: domain "" at version 0`},
		{"no graph", func(m *Model) { m.Graph = nil }, `onnx: invalid format: model has no graph`},
		{"dangling input", func(m *Model) { m.Graph.Nodes[1].Inputs[0] = "x2" },
			`onnx: invalid format: node "relu" (Relu): input "x2" is not produced before use`},
		{"unnamed node", func(m *Model) { m.Graph.Nodes[1].Name = ""; m.Graph.Nodes[1].Inputs[0] = "x2" },
			`onnx: invalid format: node 1 (Relu): input "x2" is not produced before use`},
		{"duplicate node name", func(m *Model) { m.Graph.Nodes[2].Name = "relu" },
			`onnx: invalid format: node "relu" (Probe): name also used by node 1`},
		{"empty op type", func(m *Model) { m.Graph.Nodes[1].OpType = "" },
			`onnx: invalid format: node 1 has no op_type`},
		{"output not produced", func(m *Model) { m.Graph.Outputs[0].Name = "z" },
			`onnx: invalid format: output "z" is not produced`},
		{"output unnamed", func(m *Model) { m.Graph.Outputs[0].Name = "" },
			`onnx: invalid format: output 0 has no name`},
		{"input twice", func(m *Model) { m.Graph.Inputs[1].Name = "x" },
			`onnx: invalid format: input "x" is already produced by graph input`},
		{"initializer twice", func(m *Model) { m.Graph.Initializers[1].Name = "W" },
			`onnx: invalid format: initializer "W" defined twice`},
		{"initializer shape", func(m *Model) { m.Graph.Inputs[1].Shape[2].Value = 5 },
			`onnx: invalid format: initializer "W": shape [1 1 3 3], but the graph input declares dim 2 = 5`},
		{"initializer rank", func(m *Model) { m.Graph.Inputs[1].Shape = m.Graph.Inputs[1].Shape[:3] },
			`onnx: invalid format: initializer "W": shape [1 1 3 3], but the graph input declares rank 3`},
		{"initializer type", func(m *Model) { m.Graph.Inputs[1].ElemType = 7 },
			`onnx: invalid format: initializer "W": float32, but the graph input declares int64`},
		{"initializer invalid", func(m *Model) {
			m.Graph.Initializers[1].Tensor = &tensor.Tensor{DType: tensor.Float32, Shape: []int{2}}
		},
			`onnx: invalid format: initializer "B": invalid tensor`},
		{"bad declared dim", func(m *Model) { m.Graph.Outputs[0].Shape[1].Value = -2 },
			`onnx: invalid format: output "y": dim 1 is -2`},
		{"dims without shape", func(m *Model) { m.Graph.Outputs[0].HasShape = false },
			`onnx: invalid format: output "y": dims given but HasShape is false`},
		{"attribute twice", func(m *Model) {
			n := m.Graph.Nodes[0]
			n.Attrs = append(n.Attrs, n.Attrs[0])
		}, `onnx: invalid format: node "/conv1/Conv" (Conv): attribute "kernel_shape" given twice`},
		{"subgraph reads its node's output", func(m *Model) {
			m.Graph.Nodes[2].Attr("g").G.Nodes[0].Inputs[0] = "p"
		}, `onnx: invalid format: node "probe" (Probe): attribute "g": node "inner" (Identity): input "p" is not produced before use`},
		{"subgraph shadows outer value", func(m *Model) {
			m.Graph.Nodes[2].Attr("g").G.Nodes[0].Outputs[0] = "x"
			m.Graph.Nodes[2].Attr("g").G.Outputs[0].Name = "x"
		}, `onnx: invalid format: node "probe" (Probe): attribute "g": node "inner" (Identity): output "x" shadows a value of an outer graph (graph input)`},
		{"subgraph nil", func(m *Model) { m.Graph.Nodes[2].Attr("g").G = nil },
			`onnx: invalid format: node "probe" (Probe): attribute "g": nil graph`},
		{"function reads unknown value", func(m *Model) { m.Functions[0].Nodes[0].Inputs[0] = "q" },
			`onnx: invalid format: function "Probe": node 0 (Identity): input "q" is not produced before use`},
		{"function twice", func(m *Model) { m.Functions = append(m.Functions, m.Functions[0]) },
			`onnx: invalid format: function "Probe" of domain "com.onnxkit.test" defined twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testModel()
			tt.change(m)
			err := Check(m)
			if tt.want == "" {
				if err != nil {
					t.Errorf("Check = %v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Errorf("Check = %v\nwant %s", err, tt.want)
			}
			var fe *FormatError
			var ue *UnsupportedError
			if !errors.As(err, &fe) && !errors.As(err, &ue) {
				t.Errorf("Check error is %T", err)
			}
		})
	}
}

// TestCheckNil checks Check on models with nil parts, as code building a
// model by hand might leave them.
func TestCheckNil(t *testing.T) {
	tests := []*Model{
		nil,
		{IRVersion: 8, OpsetImports: []OpsetImport{{Version: 13}}, Graph: &Graph{Nodes: []*Node{nil}}},
		{IRVersion: 8, OpsetImports: []OpsetImport{{Version: 13}}, Graph: &Graph{Inputs: []*ValueInfo{nil}}},
		{IRVersion: 8, OpsetImports: []OpsetImport{{Version: 13}}, Graph: &Graph{Initializers: []*Initializer{{Name: "a"}}}},
		{IRVersion: 8, OpsetImports: []OpsetImport{{Version: 13}}, Graph: &Graph{
			Nodes: []*Node{{OpType: "If", Attrs: []*Attribute{nil}}}}},
		{IRVersion: 8, OpsetImports: []OpsetImport{{Version: 13}}, Graph: &Graph{}, Functions: []*Function{nil}},
	}
	for i, m := range tests {
		if err := Check(m); err == nil {
			t.Errorf("Check(model %d) = nil, want an error", i)
		}
	}
}
