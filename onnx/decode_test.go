package onnx

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxkit/onnxkit/internal/onnxpb"
)

// baseProto returns testModel as a ModelProto to mutate.
func baseProto(t testing.TB) *onnxpb.ModelProto {
	data, err := Encode(testModel())
	if err != nil {
		t.Fatal(err)
	}
	mp := new(onnxpb.ModelProto)
	if err := proto.Unmarshal(data, mp); err != nil {
		t.Fatal(err)
	}
	return mp
}

// mutated encodes testModel's ModelProto after f changed it.
func mutated(f func(mp *onnxpb.ModelProto)) func(t testing.TB) []byte {
	return func(t testing.TB) []byte {
		mp := baseProto(t)
		f(mp)
		b, err := proto.Marshal(mp)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

func raw(b []byte) func(testing.TB) []byte { return func(testing.TB) []byte { return b } }

// node returns the main graph's node with the given name.
func node(mp *onnxpb.ModelProto, name string) *onnxpb.NodeProto {
	for _, n := range mp.Graph.Node {
		if n.Name == name {
			return n
		}
	}
	panic("no node " + name)
}

func attr(n *onnxpb.NodeProto, name string) *onnxpb.AttributeProto {
	for _, a := range n.Attribute {
		if a.Name == name {
			return a
		}
	}
	panic("no attribute " + name)
}

// decodeAndCheck is what a loader does with an untrusted file.
func decodeAndCheck(data []byte) error {
	m, err := Decode(data)
	if err != nil {
		return err
	}
	return Check(m)
}

// TestDecodeBad is the corpus of bad models, each with the error expected
// from Decode followed by Check. Format errors are *FormatError, the rest
// *UnsupportedError.
func TestDecodeBad(t *testing.T) {
	small, err := os.ReadFile(filepath.Join("testdata", "small.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	rnd := make([]byte, 256)
	rand.New(rand.NewSource(1)).Read(rnd)
	badUTF8 := bytes.Replace(small, []byte("relu"), []byte("\xffelu"), 1)

	tests := []struct {
		name        string
		data        func(testing.TB) []byte
		want        string
		unsupported bool
	}{
		{"empty", raw(nil), `onnx: invalid format: model has no graph`, false},
		// The last field of small.onnx is the function: its length now
		// runs past the end.
		{"truncated", raw(small[:len(small)-1]),
			`onnx: invalid format: functions[0]: unexpected EOF`, false},
		{"truncated header", raw(small[:1]), `onnx: invalid format: ir_version: unexpected EOF`, false},
		{"random bytes", raw(rnd), ``, false},
		{"text", raw([]byte("this is not an onnx model\n")), ``, false},
		{"invalid utf-8 in node name", raw(badUTF8),
			`onnx: invalid format: graph.node[1].name: invalid UTF-8 in a string`, false},
		{"dims far larger than data", mutated(func(mp *onnxpb.ModelProto) {
			mp.Graph.Initializer[0].Dims = []int64{1000, 1000, 3, 3}
		}), `onnx: invalid format: initializer "W": 36 bytes of raw_data, want 36000000 (9000000 elements of float32)`, false},
		{"negative dims", mutated(func(mp *onnxpb.ModelProto) {
			mp.Graph.Initializer[1].Dims = []int64{-1}
		}), `onnx: invalid format: initializer "B": dim 0 is negative (-1)`, false},
		{"negative declared dim", mutated(func(mp *onnxpb.ModelProto) {
			mp.Graph.Input[0].Type.GetTensorType().Shape.Dim[2].Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: -4}
		}), `onnx: invalid format: input "x": dim 2 is negative (-4)`, false},
		{"bad tensor attribute", mutated(func(mp *onnxpb.ModelProto) {
			attr(node(mp, "probe"), "t").T.Dims = []int64{5}
		}), `onnx: invalid format: node "probe" (Probe): attribute "t": 24 bytes of raw_data, want 40 (5 elements of int64)`, false},
		{"bad tensor in subgraph", mutated(func(mp *onnxpb.ModelProto) {
			g := attr(node(mp, "probe"), "g").G
			g.Initializer = append(g.Initializer, &onnxpb.TensorProto{Name: "k", DataType: 1, Dims: []int64{2}})
		}), `onnx: invalid format: node "probe" (Probe): attribute "g": initializer "k": 0 bytes of raw_data, want 8 (2 elements of float32)`, false},
		{"unknown attribute type", mutated(func(mp *onnxpb.ModelProto) {
			attr(node(mp, "probe"), "i").Type = 99
		}), `onnx: invalid format: node "probe" (Probe): attribute "i": unknown attribute type 99`, false},
		{"attribute without type or value", mutated(func(mp *onnxpb.ModelProto) {
			a := attr(node(mp, "probe"), "i")
			a.Type, a.I = 0, 0
		}), `onnx: invalid format: node "probe" (Probe): attribute "i": no type and no value`, false},
		{"graph attribute without graph", mutated(func(mp *onnxpb.ModelProto) {
			attr(node(mp, "probe"), "g").G = nil
		}), `onnx: invalid format: node "probe" (Probe): attribute "g": type graph but no graph`, false},
		{"no graph", mutated(func(mp *onnxpb.ModelProto) { mp.Graph = nil }),
			`onnx: invalid format: model has no graph`, false},
		{"dangling node input", mutated(func(mp *onnxpb.ModelProto) {
			node(mp, "relu").Input[0] = "nope"
		}), `onnx: invalid format: node "relu" (Relu): input "nope" is not produced before use`, false},
		{"out of order", mutated(func(mp *onnxpb.ModelProto) {
			n := mp.Graph.Node
			n[0], n[1] = n[1], n[0]
		}), `onnx: invalid format: node "relu" (Relu): input "c" is not produced before use (node "/conv1/Conv" (Conv) produces it later)`, false},
		{"cycle", mutated(func(mp *onnxpb.ModelProto) {
			// conv reads y, which relu makes from conv's output.
			node(mp, "/conv1/Conv").Input[0] = "y"
		}), `onnx: invalid format: node "/conv1/Conv" (Conv): input "y" is not produced before use (node "relu" (Relu) produces it later)`, false},
		{"duplicate outputs", mutated(func(mp *onnxpb.ModelProto) {
			node(mp, "relu").Output[0] = "c"
		}), `onnx: invalid format: node "relu" (Relu): output "c" is already produced by node "/conv1/Conv" (Conv)`, false},
		{"output overwrites input", mutated(func(mp *onnxpb.ModelProto) {
			node(mp, "relu").Output[0] = "x"
		}), `onnx: invalid format: node "relu" (Relu): output "x" is already produced by graph input`, false},
		{"complex64 initializer", mutated(func(mp *onnxpb.ModelProto) {
			mp.Graph.Initializer[1] = &onnxpb.TensorProto{Name: "B", DataType: 14, Dims: []int64{1}, FloatData: []float32{1, 0}}
		}), `onnx: unsupported: initializer "B": data type complex64`, true},
		{"external data", mutated(func(mp *onnxpb.ModelProto) {
			w := mp.Graph.Initializer[0]
			w.RawData = nil
			w.DataLocation = onnxpb.TensorProto_EXTERNAL
			w.ExternalData = []*onnxpb.StringStringEntryProto{{Key: "location", Value: "model.onnx.data"}, {Key: "offset", Value: "0"}}
		}), `onnx: unsupported: initializer "W": external data (location "model.onnx.data")`, true},
		{"sparse initializer", mutated(func(mp *onnxpb.ModelProto) {
			mp.Graph.SparseInitializer = []*onnxpb.SparseTensorProto{{Values: &onnxpb.TensorProto{Name: "sp"}}}
		}), `onnx: unsupported: sparse initializer "sp"`, true},
		{"type attribute", mutated(func(mp *onnxpb.ModelProto) {
			a := attr(node(mp, "probe"), "i")
			a.Type = onnxpb.AttributeProto_TYPE_PROTO
		}), `onnx: unsupported: node "probe" (Probe): attribute "i": type attributes`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := decodeAndCheck(tt.data(t))
			if err == nil {
				t.Fatalf("Decode+Check = nil, want %s", tt.want)
			}
			if tt.want != "" && err.Error() != tt.want {
				t.Errorf("Decode+Check = %s\nwant %s", err, tt.want)
			}
			var fe *FormatError
			var ue *UnsupportedError
			if tt.unsupported && !errors.As(err, &ue) || !tt.unsupported && !errors.As(err, &fe) {
				t.Errorf("Decode+Check error %v is %T", err, err)
			}
			if !strings.HasPrefix(err.Error(), "onnx: ") {
				t.Errorf("error %q lacks the onnx: prefix", err)
			}
		})
	}
}

// TestDecodeTruncated decodes every prefix of small.onnx: none may panic,
// all but the full file must fail, and a cut inside a record must be
// reported as io.ErrUnexpectedEOF.
func TestDecodeTruncated(t *testing.T) {
	small, err := os.ReadFile(filepath.Join("testdata", "small.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	var eof int
	for n := 0; n < len(small); n++ {
		_, err := Decode(small[:n])
		if err == nil {
			// A cut between two top-level fields gives a shorter valid
			// message, which may still decode (say, without functions).
			continue
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			eof++
		}
	}
	// Every cut lands inside a record except the 12 at the start of a
	// top-level field of small.onnx (ir_version, producer_name,
	// producer_version, domain, model_version, doc_string, graph, two
	// opset_import, two metadata_props, functions).
	if want := len(small) - 12; eof != want {
		t.Errorf("%d of %d prefixes report io.ErrUnexpectedEOF, want %d", eof, len(small), want)
	}
	if _, err := Decode(small); err != nil {
		t.Errorf("Decode(small.onnx) = %v", err)
	}
}

// nested returns a model whose graph nests If subgraphs depth levels deep.
func nested(depth int) *Model {
	g := &Graph{Nodes: []*Node{{OpType: "Identity", Inputs: []string{"x"}, Outputs: []string{"y0"}}},
		Outputs: []*ValueInfo{{Name: "y0"}}}
	for i := 1; i < depth; i++ {
		out := "y" + itoa(i)
		g = &Graph{
			Nodes: []*Node{{OpType: "If", Inputs: []string{"x"}, Outputs: []string{out},
				Attrs: []*Attribute{{Name: "then_branch", Type: AttrGraph, G: g}}}},
			Outputs: []*ValueInfo{{Name: out}},
		}
	}
	g.Inputs = []*ValueInfo{{Name: "x"}}
	return &Model{IRVersion: 8, OpsetImports: []OpsetImport{{Version: 13}}, Graph: g}
}

func TestDecodeDepth(t *testing.T) {
	tests := []struct {
		depth, max int
		ok         bool
	}{
		{3, 3, true},
		{4, 3, false},
		{DefaultMaxGraphDepth, 0, true},
		{DefaultMaxGraphDepth + 1, 0, false},
		{2000, 0, false}, // caught by the protobuf recursion limit
	}
	for _, tt := range tests {
		data, err := Encode(nested(tt.depth))
		if err != nil {
			t.Fatal(err)
		}
		m, err := DecodeOptions{MaxGraphDepth: tt.max}.Decode(data)
		if tt.ok {
			if err != nil {
				t.Errorf("Decode(depth %d, max %d) = %v", tt.depth, tt.max, err)
			} else if err := Check(m); err != nil {
				t.Errorf("Check(depth %d) = %v", tt.depth, err)
			}
			continue
		}
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Errorf("Decode(depth %d, max %d) = %v, want a FormatError", tt.depth, tt.max, err)
		}
	}
	// The error names the way down to the graph that is too deep.
	data, _ := Encode(nested(3))
	_, err := DecodeOptions{MaxGraphDepth: 2}.Decode(data)
	want := `onnx: invalid format: node 0 (If): attribute "then_branch": node 0 (If): attribute "then_branch": subgraphs nested deeper than 2 levels`
	if err == nil || err.Error() != want {
		t.Errorf("Decode(depth 3, max 2) = %v, want %s", err, want)
	}
}

// TestNormalizeDomain checks that "ai.onnx" becomes "" in opset imports
// and node domains.
func TestNormalizeDomain(t *testing.T) {
	data := mutated(func(mp *onnxpb.ModelProto) {
		mp.OpsetImport[0].Domain = "ai.onnx"
		node(mp, "relu").Domain = "ai.onnx"
	})(t)
	m, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := m.Opset(""); !ok || v != 13 {
		t.Errorf(`Opset("") = %d, %v, want 13, true`, v, ok)
	}
	if d := m.Graph.Nodes[1].Domain; d != "" {
		t.Errorf("relu domain = %q, want \"\"", d)
	}
}

// TestReadFile checks that errors name the file.
func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.onnx")
	if err := os.WriteFile(path, []byte{0x08}, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(path)
	if want := "onnx: " + path + ": invalid format: ir_version: unexpected EOF"; err == nil || err.Error() != want {
		t.Errorf("ReadFile(bad) = %v, want %s", err, want)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing.onnx")); err == nil || !strings.Contains(err.Error(), "missing.onnx") {
		t.Errorf("ReadFile(missing) = %v, want an error naming the file", err)
	}
	m, err := ReadFile(filepath.Join("testdata", "small.onnx"))
	if err != nil {
		t.Fatalf("ReadFile(small.onnx) = %v", err)
	}
	if m.Graph.Nodes[0].Name != "/conv1/Conv" {
		t.Errorf("ReadFile(small.onnx): first node %q, want /conv1/Conv", m.Graph.Nodes[0].Name)
	}
}

// TestTrainingInfoKept checks that training_info, which the Model types do
// not describe, survives Decode -> Encode.
func TestTrainingInfoKept(t *testing.T) {
	data := mutated(func(mp *onnxpb.ModelProto) {
		mp.TrainingInfo = []*onnxpb.TrainingInfoProto{{
			Algorithm:     &onnxpb.GraphProto{Name: "train"},
			UpdateBinding: []*onnxpb.StringStringEntryProto{{Key: "W", Value: "W_new"}},
		}}
		mp.Graph.Input = append(mp.Graph.Input, &onnxpb.ValueInfoProto{Name: "seq", Type: &onnxpb.TypeProto{
			Value: &onnxpb.TypeProto_SequenceType{SequenceType: &onnxpb.TypeProto_Sequence{
				ElemType: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: 1}}}}}}})
	})(t)
	m, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if in := m.Graph.Inputs[2]; !in.NonTensor() || m.Graph.Inputs[0].NonTensor() {
		t.Errorf("NonTensor() of a sequence input = %v, of a tensor input = %v, want true, false", in.NonTensor(), m.Graph.Inputs[0].NonTensor())
	}
	out, err := Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	mp := new(onnxpb.ModelProto)
	if err := proto.Unmarshal(out, mp); err != nil {
		t.Fatal(err)
	}
	if len(mp.TrainingInfo) != 1 || mp.TrainingInfo[0].GetAlgorithm().GetName() != "train" {
		t.Errorf("training_info after Encode = %v", mp.TrainingInfo)
	}
	if st := mp.Graph.Input[2].GetType().GetSequenceType(); st.GetElemType().GetTensorType().GetElemType() != 1 {
		t.Errorf("sequence input after Encode = %v", mp.Graph.Input[2])
	}
}
