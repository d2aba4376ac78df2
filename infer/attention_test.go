package infer

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// TestAttentionNodeCases runs the official ONNX node cases of Attention
// (3-D and 4-D inputs, grouped-query heads, bool and float masks, causal,
// scale, softcap, past/present and every qk_matmul_output_mode) and of
// RotaryEmbedding (3-D/4-D, interleaved, rotary_embedding_dim, with and
// without position_ids): their expected outputs come from the ONNX
// reference implementation.
func TestAttentionNodeCases(t *testing.T) {
	root := nodeTestDirs[0]
	dirs, _ := filepath.Glob(filepath.Join(root, "test_attention_*"))
	rot, _ := filepath.Glob(filepath.Join(root, "test_rotary_embedding*"))
	dirs = append(dirs, rot...)
	n := 0
	for _, dir := range dirs {
		name := filepath.Base(dir)
		if strings.HasSuffix(name, "_expanded") || strings.Contains(name, "fp16") {
			continue
		}
		n++
		t.Run(name, func(t *testing.T) { runNodeCase(t, dir) })
	}
	if n == 0 {
		if _, err := os.Stat(root); err != nil {
			t.Skip("ONNX node test cases not installed")
		}
		t.Error("no test_attention_* cases found")
	}
}

func TestAttention(t *testing.T) {
	// Q = [1], K = [0, ln 3], V = [4, 8], head size 1 (scale 1): the weights
	// are softmax([0, ln 3]) = [1/4, 3/4], so by hand Y = 1 + 6 = 7; causal
	// masks key 1 for query 0, leaving Y = 4.
	q := tensor.FromFloat32([]float32{1}, 1, 1, 1, 1)
	k := tensor.FromFloat32([]float32{0, float32(math.Log(3))}, 1, 1, 2, 1)
	v := tensor.FromFloat32([]float32{4, 8}, 1, 1, 2, 1)
	for _, tc := range []struct {
		causal int64
		want   float32
	}{{0, 7}, {1, 4}} {
		n := &onnx.Node{Name: "att", OpType: "Attention", Inputs: []string{"q", "k", "v"}, Outputs: []string{"y"},
			Attrs: []*onnx.Attribute{{Name: "is_causal", Type: onnx.AttrInt, I: tc.causal}}}
		o, err := buildAttention(n, 23)
		if err != nil {
			t.Fatal(err)
		}
		y := &tensor.Tensor{}
		if err := o.run(&scratch{}, []*tensor.Tensor{q, k, v}, []*tensor.Tensor{y}); err != nil {
			t.Fatal(err)
		}
		if math.Abs(float64(y.F32[0]-tc.want)) > 1e-6 {
			t.Errorf("Attention(is_causal %d) = %v, want %v", tc.causal, y.F32[0], tc.want)
		}
	}
}

func TestAttentionErrors(t *testing.T) {
	f := func(shape ...int) *tensor.Tensor { return tensor.New(tensor.Float32, shape...) }
	for _, tc := range []struct {
		name    string
		attrs   []*onnx.Attribute
		in      []*tensor.Tensor
		wantErr string
	}{
		{"mode", []*onnx.Attribute{{Name: "qk_matmul_output_mode", Type: onnx.AttrInt, I: 4}}, nil, `"qk_matmul_output_mode"`},
		{"3-D without heads", nil, []*tensor.Tensor{f(1, 2, 4), f(1, 2, 4), f(1, 2, 4)}, "num_heads"},
		{"head sizes", nil, []*tensor.Tensor{f(1, 1, 2, 4), f(1, 1, 2, 3), f(1, 1, 2, 4)}, "disagree"},
		{"heads", nil, []*tensor.Tensor{f(1, 3, 2, 4), f(1, 2, 2, 4), f(1, 2, 2, 4)}, "multiple"},
		{"int64", nil, []*tensor.Tensor{tensor.New(tensor.Int64, 1, 1, 1, 1), f(1, 1, 1, 1), f(1, 1, 1, 1)}, "input Q"},
		{"mask", nil, []*tensor.Tensor{f(1, 1, 2, 4), f(1, 1, 2, 4), f(1, 1, 2, 4), f(3, 2)}, "attn_mask"},
		{"past alone", nil, []*tensor.Tensor{f(1, 1, 2, 4), f(1, 1, 2, 4), f(1, 1, 2, 4), nil, f(1, 1, 2, 4)}, "past_key"},
	} {
		n := &onnx.Node{Name: "att", OpType: "Attention", Inputs: []string{"q", "k", "v"}, Outputs: []string{"y"}, Attrs: tc.attrs}
		o, err := buildAttention(n, 23)
		if err == nil {
			err = o.run(&scratch{}, tc.in, []*tensor.Tensor{{}})
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: Attention error %v, want one containing %q", tc.name, err, tc.wantErr)
		}
	}
}

func TestRotaryEmbeddingErrors(t *testing.T) {
	f := func(shape ...int) *tensor.Tensor { return tensor.New(tensor.Float32, shape...) }
	pos := tensor.FromInt64([]int64{0, 9}, 1, 2)
	for _, tc := range []struct {
		name    string
		in      []*tensor.Tensor
		wantErr string
	}{
		{"odd rotary dim", []*tensor.Tensor{f(1, 1, 2, 3), f(1, 2, 1), f(1, 2, 1)}, "rotary_embedding_dim"},
		{"cache size", []*tensor.Tensor{f(1, 1, 2, 4), f(1, 2, 3), f(1, 2, 3)}, "cos_cache"},
		{"position out of range", []*tensor.Tensor{f(1, 1, 2, 4), f(4, 2), f(4, 2), pos}, "out of range"},
		{"3-D without num_heads", []*tensor.Tensor{f(1, 2, 4), f(1, 2, 2), f(1, 2, 2)}, "num_heads"},
	} {
		n := &onnx.Node{Name: "rope", OpType: "RotaryEmbedding", Inputs: []string{"x", "c", "s"}, Outputs: []string{"y"}}
		o, err := buildRotaryEmbedding(n, 23)
		if err == nil {
			err = o.run(&scratch{}, tc.in, []*tensor.Tensor{{}})
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: RotaryEmbedding error %v, want one containing %q", tc.name, err, tc.wantErr)
		}
	}
}
