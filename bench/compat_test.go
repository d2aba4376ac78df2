package main

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	onnxgo "github.com/owulveryck/onnx-go"
	"github.com/owulveryck/onnx-go/backend/x/gorgonnx"
	gt "gorgonia.org/tensor"

	"github.com/onnxkit/onnxkit/convert"
	"github.com/onnxkit/onnxkit/infer"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
	"github.com/onnxkit/onnxkit/train"
)

var updateReadme = flag.Bool("update-readme", false, "rewrite the compatibility matrix in ../README.md")

// compatTol is the bound on a converted model's logits.
const compatTol = 1e-4

// runOnnxGo runs a model through github.com/owulveryck/onnx-go v0.5.0 with
// its Gorgonia backend; a panic inside it becomes an error.
func runOnnxGo(model []byte, x *tensor.Tensor) (out []float32, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	g := gorgonnx.NewGraph()
	m := onnxgo.NewModel(g)
	if err := m.UnmarshalBinary(model); err != nil {
		return nil, err
	}
	data := append([]float32(nil), x.F32...)
	if err := m.SetInput(0, gt.New(gt.WithShape(x.Shape...), gt.WithBacking(data))); err != nil {
		return nil, err
	}
	if err := g.Run(); err != nil {
		return nil, err
	}
	outs, err := m.GetOutputTensors()
	if err != nil {
		return nil, err
	}
	if len(outs) == 0 {
		return nil, fmt.Errorf("no output")
	}
	d, ok := outs[0].Data().([]float32)
	if !ok {
		return nil, fmt.Errorf("output is %T, not []float32", outs[0].Data())
	}
	return d, nil
}

func runOnnxkit(model []byte, x *tensor.Tensor) ([]float32, error) {
	m, err := onnx.Decode(model)
	if err != nil {
		return nil, err
	}
	s, err := infer.NewSession(m)
	if err != nil {
		return nil, err
	}
	out, err := s.Run(map[string]*tensor.Tensor{s.Inputs()[0].Name: x})
	if err != nil {
		return nil, err
	}
	return out[s.Outputs()[0].Name].F32, nil
}

var ortMaxAbs = regexp.MustCompile(`max_abs (\S+)`)

// runORT runs a model through scripts/ort_run.js and returns the largest
// |got-want| it prints against want.
func runORT(t *testing.T, modules string, model []byte, x *tensor.Tensor, want []float32) (float64, error) {
	dir := t.TempDir()
	set := filepath.Join(dir, "test_data_set_0")
	if err := os.MkdirAll(set, 0o755); err != nil {
		return 0, err
	}
	if err := os.WriteFile(filepath.Join(dir, "model.onnx"), model, 0o644); err != nil {
		return 0, err
	}
	if err := onnx.WriteTensorFile(filepath.Join(set, "input_0.pb"), "input", x); err != nil {
		return 0, err
	}
	if err := onnx.WriteTensorFile(filepath.Join(set, "output_0.pb"), "logits", tensor.FromFloat32(want, len(want)/10, 10)); err != nil {
		return 0, err
	}
	cmd := exec.Command("node", "../scripts/ort_run.js", "--ort", modules, "--atol", "1", dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%v: %s", err, tail(string(out), 2))
	}
	m := ortMaxAbs.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no max_abs in %q", tail(string(out), 2))
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

func findORTModules() string {
	if _, err := exec.LookPath("node"); err != nil {
		return ""
	}
	for _, d := range append(ortCandidates(), "../.tools/node_modules") {
		if ortVersionIn(d) != "" {
			abs, _ := filepath.Abs(d)
			return abs
		}
	}
	return ""
}

func maxAbsDiff(got, want []float32) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var m float64
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if d > m || math.IsNaN(d) {
			m = d
		}
	}
	return m
}

// TestCompatMatrix runs the onnxkit and PyTorch exports of the tutorial's
// three models, as written and after convert -for onnx-go, in onnxkit,
// onnxruntime and onnx-go+Gorgonia, on the 64 MNIST test images of
// testdata/pytorch/*/test_data_set_1, and compares the logits with
// PyTorch's stored ones (PyTorch's exports) or with onnxkit's on the
// original file (onnxkit's exports, from train.New with seed 1, untrained).
// Every converted file must run everywhere within 1e-4; the originals fail
// in onnx-go where the issue measured it. -update-readme writes the table.
func TestCompatMatrix(t *testing.T) {
	modules := findORTModules()
	if modules == "" {
		t.Log("onnxruntime-node not found: its columns are not checked")
	}
	type cell struct {
		ran  bool
		diff float64
		err  string
	}
	// originalFails lists the original files onnx-go cannot run (the
	// issue's measurements).
	originalFails := map[string]bool{"PyTorch MLP": true, "PyTorch LeNet5": true, "onnxkit LeNet5": true}
	consumers := []string{"onnxkit", "onnxruntime", "onnx-go"}
	var rows [][]string
	for _, producer := range []string{"onnxkit", "PyTorch"} {
		for _, kind := range []string{"mlp", "cnn", "lenet5"} {
			name := producer + " " + map[string]string{"mlp": "MLP", "cnn": "CNN", "lenet5": "LeNet5"}[kind]
			_, x, err := onnx.ReadTensorFile(filepath.Join("..", "testdata", "pytorch", kind, "test_data_set_1", "input_0.pb"))
			if err != nil {
				t.Fatal(err)
			}
			var orig []byte
			var want []float32
			if producer == "PyTorch" {
				if orig, err = os.ReadFile(filepath.Join("..", "testdata", "pytorch", kind, "model.onnx")); err != nil {
					t.Fatal(err)
				}
				_, w, err := onnx.ReadTensorFile(filepath.Join("..", "testdata", "pytorch", kind, "test_data_set_1", "output_0.pb"))
				if err != nil {
					t.Fatal(err)
				}
				want = w.F32
			} else {
				tm, err := train.New(kind, 1)
				if err != nil {
					t.Fatal(err)
				}
				om, err := tm.Export(train.ExportOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if orig, err = onnx.Encode(om); err != nil {
					t.Fatal(err)
				}
				if want, err = runOnnxkit(orig, x); err != nil {
					t.Fatal(err)
				}
			}
			m, err := onnx.Decode(orig)
			if err != nil {
				t.Fatal(err)
			}
			cm, err := convert.Convert(m, convert.Options{Target: "onnx-go"})
			if err != nil {
				t.Fatalf("%s: convert -for onnx-go: %v", name, err)
			}
			conv, err := onnx.Encode(cm)
			if err != nil {
				t.Fatal(err)
			}
			row := []string{name}
			for _, c := range consumers {
				for i, file := range [][]byte{orig, conv} {
					var got cell
					switch c {
					case "onnxkit":
						out, err := runOnnxkit(file, x)
						got = cell{err == nil, maxAbsDiff(out, want), fmt.Sprint(err)}
					case "onnx-go":
						out, err := runOnnxGo(file, x)
						got = cell{err == nil, maxAbsDiff(out, want), fmt.Sprint(err)}
					case "onnxruntime":
						if modules == "" {
							row = append(row, "not checked")
							continue
						}
						d, err := runORT(t, modules, file, x, want)
						got = cell{err == nil, d, fmt.Sprint(err)}
					}
					converted := i == 1
					switch {
					case !got.ran && (converted || c != "onnx-go" || !originalFails[name]):
						t.Errorf("%s in %s (converted %v): %s", name, c, converted, got.err)
					case got.ran && !converted && c == "onnx-go" && originalFails[name]:
						t.Errorf("%s in onnx-go: runs before conversion; update originalFails and the README", name)
					case got.ran && got.diff > compatTol:
						t.Errorf("%s in %s (converted %v): max |Δ| %.3g > %g", name, c, converted, got.diff, compatTol)
					}
					if got.ran && got.diff == 0 {
						row = append(row, "yes, 0")
					} else if got.ran {
						row = append(row, fmt.Sprintf("yes, %.1e", got.diff))
					} else {
						row = append(row, "no: "+shortErr(got.err))
					}
				}
			}
			rows = append(rows, row)
		}
	}
	var b bytes.Buffer
	b.WriteString("| model | onnxkit | onnxkit, converted | onnxruntime | onnxruntime, converted | onnx-go | onnx-go, converted |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	t.Logf("\n%s", b.String())
	if *updateReadme {
		if err := replaceSection("../README.md", "compat", b.String()); err != nil {
			t.Fatal(err)
		}
	}
}

// shortErr keeps the first line of an error, without onnx-go's empty
// parentheses, short enough for a table cell.
func shortErr(s string) string {
	s = strings.SplitN(s, "\n", 2)[0]
	s = strings.TrimSuffix(strings.TrimSpace(s), " ()")
	s = strings.ReplaceAll(s, "|", "/")
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

// replaceSection replaces the text between <!-- NAME:begin ... --> and
// <!-- NAME:end --> in a file.
func replaceSection(path, name, text string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(b)
	begin := strings.Index(s, "<!-- "+name+":begin")
	end := strings.Index(s, "<!-- "+name+":end -->")
	if begin < 0 || end < begin {
		return fmt.Errorf("%s: no %s:begin/%s:end markers", path, name, name)
	}
	begin += strings.Index(s[begin:], "-->") + len("-->\n")
	return os.WriteFile(path, []byte(s[:begin]+text+s[end:]), 0o644)
}
