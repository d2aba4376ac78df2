package convert_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/onnxkit/onnxkit/convert"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
	"github.com/onnxkit/onnxkit/train"
	"github.com/onnxkit/onnxkit/verify"
)

// referenceTools returns Debian's python3 with onnx and a node_modules
// folder with onnxruntime-node, or skips (fails under CI=true).
func referenceTools(t *testing.T) (python, ortModules string) {
	t.Helper()
	missing := func(what string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is needed under CI", what)
		}
		t.Skipf("%s not found", what)
	}
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(p, "-c", "import onnx.checker").Run() == nil {
			python = p
			break
		}
	}
	if python == "" {
		missing("a python3 with onnx")
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing("node")
	}
	for _, d := range []string{os.Getenv("ONNXKIT_ORT"), "../.tools/node_modules"} {
		if d != "" {
			if _, err := os.Stat(filepath.Join(d, "onnxruntime-node")); err == nil {
				abs, _ := filepath.Abs(d)
				return python, abs
			}
		}
	}
	missing("onnxruntime-node")
	return "", ""
}

// writeCase writes m with one data set in the ONNX test layout.
func writeCase(t *testing.T, m *onnx.Model, in, out onnx.NamedTensor) string {
	t.Helper()
	dir := t.TempDir()
	if err := onnx.WriteFile(filepath.Join(dir, "model.onnx"), m); err != nil {
		t.Fatal(err)
	}
	set := filepath.Join(dir, "test_data_set_0")
	if err := os.Mkdir(set, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := onnx.WriteTensorFile(filepath.Join(set, "input_0.pb"), in.Name, in.Tensor); err != nil {
		t.Fatal(err)
	}
	if err := onnx.WriteTensorFile(filepath.Join(set, "output_0.pb"), out.Name, out.Tensor); err != nil {
		t.Fatal(err)
	}
	return dir
}

// checkEverywhere runs onnx.checker, onnxruntime and infer on a case.
func checkEverywhere(t *testing.T, python, ortModules, dir string, tol verify.Tolerance) {
	t.Helper()
	check := exec.Command(python, "-c",
		"import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)", filepath.Join(dir, "model.onnx"))
	if out, err := check.CombinedOutput(); err != nil {
		t.Errorf("onnx.checker: %v\n%s", err, out)
	}
	ort := exec.Command("node", "../scripts/ort_run.js", "--ort", ortModules,
		"--rtol", fmt.Sprint(tol.Rtol), "--atol", fmt.Sprint(tol.Atol), dir)
	if out, err := ort.CombinedOutput(); err != nil {
		t.Errorf("onnxruntime: %v\n%s", err, out)
	}
	if r := verify.Case(dir, tol); !r.Passed() {
		t.Errorf("infer: %v", r.Err)
	}
}

// The check: the LeNet5 exports of PyTorch (testdata, with
// PyTorch's logits) and of onnxkit (train.New seed 1, with infer's logits
// on the original file) converted to opsets 11 and 17, and for onnx-go,
// pass onnx.checker, onnxruntime and infer against the original outputs.
func TestLeNet5InReferenceRuntimes(t *testing.T) {
	python, ortModules := referenceTools(t)
	pt, sets := loadCase(t, filepath.Join("..", "testdata", "pytorch", "lenet5"))
	x := sets[1].Inputs[0]
	tm, err := train.New("lenet5", 1)
	if err != nil {
		t.Fatal(err)
	}
	ok, err := tm.Export(train.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	models := map[string]struct {
		m    *onnx.Model
		want *tensor.Tensor
	}{
		"pytorch": {pt, sets[1].Outputs[0].Tensor},
		"onnxkit": {ok, run(t, ok, x.Tensor)},
	}
	for name, mw := range models {
		for _, o := range []convert.Options{{Opset: 11}, {Opset: 17}, {Target: "onnx-go"}} {
			t.Run(fmt.Sprintf("%s/%+v", name, o), func(t *testing.T) {
				c, err := convert.Convert(mw.m, o)
				if err != nil {
					t.Fatal(err)
				}
				dir := writeCase(t, c, x, onnx.NamedTensor{Name: "logits", Tensor: mw.want})
				checkEverywhere(t, python, ortModules, dir, tol)
			})
		}
	}
}

// Upsample-9 (nearest, constant scales 1,1,2,3) converted to opset 7 and
// up to Resize at 10 to 19, and back to 9, passes onnx.checker (up to
// opset 17) and gives, in onnxruntime, the nearest upsampling the spec
// defines: each element repeated twice down and three times across.
func TestResizeInORT(t *testing.T) {
	python, ortModules := referenceTools(t)
	x := tensor.New(tensor.Float32, 1, 2, 3, 4)
	for i := range x.F32 {
		x.F32[i] = float32((i * 7) % 11)
	}
	want := tensor.New(tensor.Float32, 1, 2, 6, 12)
	for c := 0; c < 2; c++ {
		for h := 0; h < 6; h++ {
			for w := 0; w < 12; w++ {
				want.F32[(c*6+h)*12+w] = x.F32[(c*3+h/2)*4+w/3]
			}
		}
	}
	up := model(9, []*onnx.ValueInfo{f32Input("x", 1, 2, 3, 4)},
		[]*onnx.Initializer{{Name: "s", Tensor: tensor.FromFloat32([]float32{1, 1, 2, 3}, 4)}},
		node("up", "Upsample", []string{"x", "s"}, []string{"y"}, &onnx.Attribute{Name: "mode", Type: onnx.AttrString, S: []byte("nearest")}))
	up.IRVersion = 4
	up.Graph.Outputs[0].HasShape = true
	up.Graph.Outputs[0].Shape = []onnx.Dim{{Value: 1}, {Value: 2}, {Value: 6}, {Value: 12}}
	for _, opset := range []int64{7, 10, 11, 13, 18, 19} {
		c, err := convert.Convert(up, convert.Options{Opset: opset})
		if err != nil {
			t.Fatalf("to %d: %v", opset, err)
		}
		back, err := convert.Convert(c, convert.Options{Opset: 9})
		if err != nil {
			t.Fatalf("from %d back to 9: %v", opset, err)
		}
		for _, m := range []*onnx.Model{c, back} {
			dir := writeCase(t, m, onnx.NamedTensor{Name: "x", Tensor: x}, onnx.NamedTensor{Name: "y", Tensor: want})
			check := exec.Command(python, "-c",
				"import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)", filepath.Join(dir, "model.onnx"))
			if v, _ := m.Opset(""); v > 17 {
				// Debian's onnx 1.12 knows opsets up to 17 (IR 8).
			} else if out, err := check.CombinedOutput(); err != nil {
				t.Errorf("opset %d: onnx.checker: %v\n%s", opset, err, out)
			}
			ort := exec.Command("node", "../scripts/ort_run.js", "--ort", ortModules, "--atol", "0", "--rtol", "0", dir)
			if out, err := ort.CombinedOutput(); err != nil {
				t.Errorf("opset %d: onnxruntime: %v\n%s", opset, err, out)
			}
		}
	}
}
