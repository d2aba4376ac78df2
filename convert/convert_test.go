package convert_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/convert"
	"github.com/onnxkit/onnxkit/infer"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
	"github.com/onnxkit/onnxkit/train"
	"github.com/onnxkit/onnxkit/verify"
)

// tol is the bound for PyTorch's logits (README: the exports match at
// rtol 1e-4, atol 1e-5).
var tol = verify.Tolerance{Rtol: 1e-4, Atol: 1e-5}

// runSets runs m in infer on every data set and compares with the stored
// outputs.
func runSets(m *onnx.Model, sets []onnx.DataSet, tol verify.Tolerance) error {
	s, err := infer.NewSession(m)
	if err != nil {
		return err
	}
	for _, set := range sets {
		feeds, err := verify.Feeds(s, set.Inputs)
		if err != nil {
			return err
		}
		got, err := s.Run(feeds)
		if err != nil {
			return err
		}
		for i, want := range set.Outputs {
			name := s.Outputs()[i].Name
			if _, err := verify.Compare(got[name], want.Tensor, tol); err != nil {
				return fmt.Errorf("%s: output %q: %w", filepath.Base(set.Dir), name, err)
			}
		}
	}
	return nil
}

func loadCase(t *testing.T, dir string) (*onnx.Model, []onnx.DataSet) {
	t.Helper()
	path, sets, err := onnx.LoadTestCase(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := onnx.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return m, sets
}

// The PyTorch exports (opset 13), converted to every other opset and for
// each target, still give PyTorch's logits (testdata/pytorch, made by
// scripts/make_reference.py), and convert back to 13 likewise.
func TestPyTorchExports(t *testing.T) {
	for _, kind := range []string{"mlp", "cnn", "lenet5"} {
		m, sets := loadCase(t, filepath.Join("..", "testdata", "pytorch", kind))
		for _, o := range []convert.Options{
			{Opset: 7}, {Opset: 8}, {Opset: 9}, {Opset: 10}, {Opset: 11}, {Opset: 12}, {Opset: 14},
			{Opset: 15}, {Opset: 17}, {Opset: 18}, {Opset: 19}, {Opset: 21},
			{Target: "onnx-go"}, {Target: "ort"}, {Target: "onnx-go", Batch: 64},
		} {
			t.Run(fmt.Sprintf("%s/%d%s", kind, o.Opset, o.Target), func(t *testing.T) {
				c, err := convert.Convert(m, o)
				if err != nil {
					t.Fatalf("Convert(%+v): %v", o, err)
				}
				use := sets
				if o.Batch != 0 {
					use = sets[1:] // test_data_set_1 holds 64 images
				}
				if err := runSets(c, use, tol); err != nil {
					t.Errorf("converted %+v: %v", o, err)
				}
				back, err := convert.Convert(c, convert.Options{Opset: 13})
				if err != nil {
					t.Fatalf("back to 13: %v", err)
				}
				if err := runSets(back, use, tol); err != nil {
					t.Errorf("converted %+v and back to 13: %v", o, err)
				}
			})
		}
	}
}

// After -for onnx-go only ops onnx-go v0.5.0 registers remain: no Pad, no
// AveragePool, and no Reshape with -1; onnxkit's exports (train.New, seed
// 1) compute what they computed before.
func TestOnnxGoLowering(t *testing.T) {
	x := tensor.New(tensor.Float32, 3, 1, 28, 28)
	for i := range x.F32 {
		x.F32[i] = float32((i*37)%256) / 255
	}
	for _, kind := range []string{"mlp", "cnn", "lenet5"} {
		tm, err := train.New(kind, 1)
		if err != nil {
			t.Fatal(err)
		}
		om, err := tm.Export(train.ExportOptions{Opset: 17})
		if err != nil {
			t.Fatal(err)
		}
		pt, _ := loadCase(t, filepath.Join("..", "testdata", "pytorch", kind))
		for name, m := range map[string]*onnx.Model{"onnxkit": om, "pytorch": pt} {
			c, err := convert.Convert(m, convert.Options{Target: "onnx-go"})
			if err != nil {
				t.Fatalf("%s %s: %v", name, kind, err)
			}
			for _, n := range c.Graph.Nodes {
				switch n.OpType {
				case "Pad", "AveragePool":
					t.Errorf("%s %s: %s left", name, kind, n.OpType)
				case "Reshape":
					t.Errorf("%s %s: Reshape left (onnx-go's -1 is wrong; Flatten expected)", name, kind)
				}
			}
			if v, _ := c.Opset(""); v != 11 {
				t.Errorf("%s %s: opset %d, want 11", name, kind, v)
			}
			want := run(t, m, x)
			got := run(t, c, x)
			if _, err := verify.Compare(got, want, verify.Tolerance{Atol: 1e-5}); err != nil {
				t.Errorf("%s %s: converted differs from the original: %v", name, kind, err)
			}
		}
	}
}

func run(t *testing.T, m *onnx.Model, x *tensor.Tensor) *tensor.Tensor {
	t.Helper()
	s, err := infer.NewSession(m)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Run(map[string]*tensor.Tensor{s.Inputs()[0].Name: x})
	if err != nil {
		t.Fatal(err)
	}
	return out[s.Outputs()[0].Name]
}

// suiteOps are the operators whose official test cases the conversions
// are checked on.
var suiteOps = []string{"reshape", "pad", "clip", "split", "squeeze", "unsqueeze", "slice", "reduce_",
	"softmax", "logsoftmax", "hardmax", "dropout", "batchnorm", "gemm", "flatten", "concat", "maxpool",
	"averagepool", "upsample", "topk", "argmax", "argmin", "transpose", "gather", "constant", "cast",
	"matmul", "conv", "relu", "tanh", "sigmoid", "add", "sum", "max", "min", "mean", "shape", "globalaverage",
	"leakyrelu", "where", "expand", "operator_", "sqrt", "exp", "erf", "pow"}

// The official ONNX test cases (ONNX 1.12's from libonnx-testdata and,
// when present, ONNX 1.22's) whose ops are above and that infer runs are
// converted to opsets 7 to 21 and for onnx-go and, when Convert accepts, must still give
// the stored outputs; a refusal must name the node. Expected outputs are
// the suite's.
func TestOfficialCases(t *testing.T) {
	var roots []string
	for _, r := range []string{"/usr/share/libonnx-testdata/data", "../../shared/onnx-conformance"} {
		if _, err := os.Stat(r); err == nil {
			roots = append(roots, r)
		}
	}
	if len(roots) == 0 {
		t.Skip("no ONNX test data (apt-get install libonnx-testdata)")
	}
	converted, refused, cases := 0, 0, 0
	reasons := map[string]int{}
	forOnnxGo := 0
	targets := []int64{7, 9, 10, 11, 12, 13, 17, 18, 21, 0} // 0: -for onnx-go
	for _, root := range roots {
		for _, suite := range []string{"node", "pytorch-converted", "pytorch-operator", "simple"} {
			dirs, _ := filepath.Glob(filepath.Join(root, suite, "test_*"))
			for _, dir := range dirs {
				if !wanted(filepath.Base(dir)) {
					continue
				}
				path, sets, err := onnx.LoadTestCase(dir)
				if err != nil {
					continue
				}
				m, err := onnx.ReadFile(path)
				if err != nil || runSets(m, sets, verify.Default) != nil {
					continue // not one infer runs
				}
				if from, _ := m.Opset(""); from < convert.MinOpset || from > convert.MaxOpset {
					continue
				}
				cases++
				for _, to := range targets {
					o := convert.Options{Opset: to}
					if to == 0 {
						o = convert.Options{Target: "onnx-go"}
					}
					c, err := convert.Convert(m, o)
					if err != nil {
						var ce *convert.Error
						if !errors.As(err, &ce) || !strings.Contains(err.Error(), "node") {
							t.Errorf("%s to %+v: refusal without a node: %v", dir, o, err)
						}
						refused++
						reasons[refusalReason(err)]++
						continue
					}
					converted++
					if to == 0 {
						forOnnxGo++
					}
					if err := runSets(c, sets, verify.Default); err != nil {
						t.Errorf("%s to %+v: %v", dir, o, err)
					}
				}
			}
		}
	}
	t.Logf("%d cases, %d conversions checked (%d for onnx-go), %d refused", cases, converted, forOnnxGo, refused)
	if testing.Verbose() {
		for k, v := range reasons {
			t.Logf("%4d %s", v, k)
		}
	}
	if converted < 1000 {
		t.Errorf("only %d conversions checked", converted)
	}
}

func wanted(name string) bool {
	name = strings.TrimPrefix(name, "test_")
	for _, op := range suiteOps {
		if strings.HasPrefix(name, op) {
			return true
		}
	}
	return false
}

// refusalReason is an error's text without node names, for counting.
func refusalReason(err error) string {
	s := err.Error()
	if i := strings.Index(s, "): "); i >= 0 {
		s = s[i+3:]
	}
	return strings.SplitN(s, "\n", 2)[0]
}

// onnxkit's exports at opsets 11 and 18 (train.New, seed 1), converted to
// other opsets, compute what the original computes in infer.
func TestOnnxkitExports(t *testing.T) {
	x := tensor.New(tensor.Float32, 2, 1, 28, 28)
	for i := range x.F32 {
		x.F32[i] = float32((i*53)%256) / 255
	}
	for _, kind := range []string{"mlp", "cnn", "lenet5"} {
		tm, err := train.New(kind, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, from := range []int64{11, 18} {
			m, err := tm.Export(train.ExportOptions{Opset: from})
			if err != nil {
				t.Fatal(err)
			}
			want := run(t, m, x)
			for _, to := range []int64{7, 9, 13, 17, 21} {
				c, err := convert.Convert(m, convert.Options{Opset: to})
				if err != nil {
					t.Errorf("%s from %d to %d: %v", kind, from, to, err)
					continue
				}
				if _, err := verify.Compare(run(t, c, x), want, verify.Tolerance{Atol: 1e-6}); err != nil {
					t.Errorf("%s from %d to %d: %v", kind, from, to, err)
				}
			}
		}
	}
}
