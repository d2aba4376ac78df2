package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onnxkit/onnxkit/mnist"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// onnxkit runs the command line in-process and returns stdout, stderr and
// the exit status.
func onnxkit(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{nil, "Commands:"},
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"verify"}, "no test folder given"},
		{[]string{"verify", "-rtol", "x", "dir"}, "invalid value"},
		{[]string{"train", "-model", "resnet"}, `-model "resnet"`},
		{[]string{"train", "-opset", "9"}, "-opset 9"},
		{[]string{"train", "-normalize", "0"}, "want MEAN,STD"},
		{[]string{"run"}, "-model is required"},
		{[]string{"inspect"}, "want one model file"},
		{[]string{"show"}, "-out is required"},
		{[]string{"train", "-checkpoint"}, "flag needs an argument: -checkpoint"},
		{[]string{"train", "-resume"}, "flag needs an argument: -resume"},
		{[]string{"train", "-epochs", "x"}, `invalid value "x" for flag -epochs`},
		{[]string{"inspect", "-bogus", "m.onnx"}, "flag provided but not defined: -bogus"},
	}
	for _, tt := range tests {
		_, stderr, code := onnxkit(t, tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.wantErr) {
			t.Errorf("onnxkit %q = exit %d, stderr %q; want exit 2 and %q", tt.args, code, stderr, tt.wantErr)
		}
	}
}

func TestFailures(t *testing.T) {
	dir := t.TempDir()
	notONNX := filepath.Join(dir, "model.onnx")
	if err := os.WriteFile(notONNX, []byte("this is not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Files of the wrong kind: a PNG and a tensor (.pb) given as models, a
	// model given as a checkpoint, a directory given as a file.
	picture := filepath.Join(dir, "digit.png")
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 28, 28))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(picture, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tensorFile := "../../testdata/pytorch/lenet5/test_data_set_0/input_0.pb"
	lenet := "../../testdata/pytorch/lenet5/model.onnx"
	unreadable := filepath.Join(dir, "unreadable.onnx")
	os.WriteFile(unreadable, []byte("x"), 0o000)
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"inspect", filepath.Join(dir, "missing.onnx")}, "missing.onnx"},
		{[]string{"inspect", notONNX}, "model.onnx"},
		{[]string{"eval", notONNX}, "model.onnx"},
		{[]string{"verify", filepath.Join(dir, "nope")}, "nope"},
		{[]string{"inspect", picture}, "digit.png"},
		{[]string{"inspect", tensorFile}, "input_0.pb"},
		{[]string{"inspect", dir}, dir},
		{[]string{"eval", picture}, "digit.png"},
		{[]string{"run", "-model", tensorFile}, "input_0.pb"},
		{[]string{"run", "-model", lenet, "-input", "input=" + picture}, "digit.png"},
		{[]string{"train", "-resume", lenet}, "model.onnx: invalid checkpoint: not an onnxkit checkpoint"},
		{[]string{"train", "-resume", picture}, "digit.png: invalid checkpoint"},
		{[]string{"train", "-resume", filepath.Join(dir, "missing.ckpt")}, "missing.ckpt"},
		{[]string{"train", "-resume", dir}, dir},
		{[]string{"train", "-resume", "/dev/zero"}, "/dev/zero: not a regular file"}, // before: read 5.9 GB in 30 s
		// Output paths are checked before training (before: after the first epoch).
		{[]string{"train", "-limit", "100", "-out", filepath.Join(dir, "missing", "x.onnx")}, "-out " + filepath.Join(dir, "missing", "x.onnx") + ": folder " + filepath.Join(dir, "missing") + ": no such file or directory"},
		{[]string{"train", "-limit", "100", "-out", filepath.Join(dir, "x.onnx"), "-plot", filepath.Join(dir, "missing", "x.png")}, "-plot " + filepath.Join(dir, "missing", "x.png")},
		{[]string{"train", "-limit", "100", "-out", dir}, "-out " + dir + ": is a folder"},
	}
	if os.Getuid() != 0 { // root reads anything
		tests = append(tests, struct {
			args    []string
			wantErr string
		}{[]string{"inspect", unreadable}, "permission denied"})
	}
	for _, tt := range tests {
		_, stderr, code := onnxkit(t, tt.args...)
		if code != 1 || !strings.Contains(stderr, tt.wantErr) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("onnxkit %q = exit %d, stderr %q; want exit 1 and one line naming %q", tt.args, code, stderr, tt.wantErr)
		}
	}
}

// TestTrainJSONLines checks that train -json writes JSON Lines: one object
// per epoch, each on its own line, and a last one naming the file written
// (before: indented objects back to back, which no JSON reader takes).
func TestTrainJSONLines(t *testing.T) {
	if _, err := mnist.Find(""); err != nil {
		t.Skip(err)
	}
	out := filepath.Join(t.TempDir(), "mlp.onnx")
	stdout, stderr, code := onnxkit(t, "train", "-model", "mlp", "-limit", "200", "-epochs", "2", "-json", "-out", out)
	if code != 0 {
		t.Fatalf("onnxkit train -json = exit %d, %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("onnxkit train -json printed %d lines, want 3 (two epochs and the file):\n%s", len(lines), stdout)
	}
	for i, line := range lines {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("line %d %q: %v", i+1, line, err)
		}
		if i < 2 && v["epoch"] != float64(i+1) {
			t.Errorf("line %d: epoch %v, want %d", i+1, v["epoch"], i+1)
		}
		if i == 2 && v["wrote"] != out {
			t.Errorf("last line: wrote %v, want %s", v["wrote"], out)
		}
	}
}

func TestVerifyPyTorchExports(t *testing.T) {
	stdout, stderr, code := onnxkit(t, "verify", "-rtol", "1e-4", "../../testdata/pytorch")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 0 || lines[len(lines)-1] != "4 passed, 0 failed" { // cnn, lenet5, mlp, resnet_small
		t.Fatalf("onnxkit verify testdata/pytorch = exit %d, stdout %q, stderr %q; want exit 0 ending in 4 passed, 0 failed", code, stdout, stderr)
	}
	for _, l := range lines[:len(lines)-1] {
		if !strings.HasPrefix(l, "ok ") || !strings.Contains(l, "max abs") {
			t.Errorf("verify line %q: want ok with the worst errors", l)
		}
	}
}

func TestVerifyReportsMismatch(t *testing.T) {
	// A copy of the LeNet5 case whose expected first logit is off by 0.01.
	src := "../../testdata/pytorch/lenet5"
	dir := t.TempDir()
	model, err := os.ReadFile(filepath.Join(src, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "model.onnx"), model, 0o644)
	set := filepath.Join(dir, "test_data_set_0")
	os.Mkdir(set, 0o755)
	for _, f := range []string{"input_0.pb", "output_0.pb"} {
		name, x, err := onnx.ReadTensorFile(filepath.Join(src, "test_data_set_0", f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "output_0.pb" {
			x.F32[0] += 0.01
		}
		if err := onnx.WriteTensorFile(filepath.Join(set, f), name, x); err != nil {
			t.Fatal(err)
		}
	}
	stdout, _, code := onnxkit(t, "verify", dir)
	if code != 1 || !strings.HasSuffix(stdout, "0 passed, 1 failed\n") || !strings.Contains(stdout, "FAIL") || !strings.Contains(stdout, "element 0") {
		t.Errorf("verify of a wrong output = exit %d, stdout %q; want exit 1 and a FAIL line naming element 0", code, stdout)
	}
}

func TestEvalPyTorchLeNet5(t *testing.T) {
	if _, err := mnist.Find(""); err != nil {
		t.Skip(err)
	}
	// PyTorch measured 97.63% for this export (testdata/pytorch/README.md).
	stdout, stderr, code := onnxkit(t, "eval", "../../testdata/pytorch/lenet5/model.onnx")
	if code != 0 || stdout != "test accuracy 97.63% (9763/10000)\n" {
		t.Errorf("onnxkit eval = exit %d, %q %q; want test accuracy 97.63%% (9763/10000)", code, stdout, stderr)
	}
}

func TestInspect(t *testing.T) {
	stdout, _, code := onnxkit(t, "inspect", "../../testdata/pytorch/lenet5/model.onnx")
	for _, want := range []string{"opsets:    ai.onnx 13", "input:     input float32[N x 1 x 28 x 28]",
		"output:    logits float32[N x 10]", "params:    61706", "runnable:  yes"} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("onnxkit inspect: exit %d, output lacks %q:\n%s", code, want, stdout)
		}
	}
}

func TestRunWritesOutputs(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, code := onnxkit(t, "run", "-model", "../../testdata/pytorch/lenet5/model.onnx",
		"-input", "input=../../testdata/pytorch/lenet5/test_data_set_1/input_0.pb", "-output", dir)
	// run prints values now (before: the shape only).
	if code != 0 || !regexp.MustCompile(`^logits: float32\[64x10\]\n\[(\S+ ){16}\.\.\. 624 more\]\n$`).MatchString(stdout) {
		t.Fatalf("onnxkit run = exit %d, %q %q", code, stdout, stderr)
	}
	_, want, err := onnx.ReadTensorFile(filepath.Join(dir, "output_0.pb"))
	if err != nil {
		t.Fatal(err)
	}
	if first := strings.Fields(strings.Split(stdout, "\n")[1][1:])[0]; first != strconv.FormatFloat(want.Float64At(0), 'g', 6, 64) {
		t.Errorf("first value printed %s, want %g", first, want.Float64At(0))
	}

	// -json: every value, NaN and infinities as strings.
	stdout, stderr, code = onnxkit(t, "run", "-json", "-model", "../../testdata/pytorch/lenet5/model.onnx",
		"-input", "input=../../testdata/pytorch/lenet5/test_data_set_1/input_0.pb")
	var got struct {
		Outputs []struct {
			Name  string
			Shape []int
			Data  []float64
		}
	}
	if err := json.Unmarshal([]byte(stdout), &got); code != 0 || err != nil || len(got.Outputs) != 1 ||
		got.Outputs[0].Name != "logits" || len(got.Outputs[0].Data) != 640 || got.Outputs[0].Data[639] != want.Float64At(639) {
		t.Errorf("onnxkit run -json = exit %d, %v, %.200s %s", code, err, stdout, stderr)
	}
	if b, _ := json.Marshal([]jsonFloat{jsonFloat(math.NaN()), jsonFloat(math.Inf(-1)), 1.5}); string(b) != `["NaN","-Inf",1.5]` {
		t.Errorf("json of NaN, -Inf, 1.5 = %s", b)
	}
}

// TestTrainInterruptResume runs the built command, interrupts it with
// SIGINT during epoch 2 of 2, and checks that it exits 1 with a one-line
// message saying how to resume, that the checkpoint and an untouched
// -out are all it leaves, and that resuming ends on the very bytes an
// uninterrupted run exports. The CNN is used for its Dropout. The
// training runs use the built binary (not in-process), so that the test
// stays quick under the race detector.
//
// On the way it checks -resume's flags: the run's settings may be
// repeated, but another -model, -seed, -limit or -lr is a usage error.
func TestTrainInterruptResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and trains three times")
	}
	if _, err := mnist.Find(""); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "onnxkit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	args := []string{"train", "-model", "cnn", "-limit", "600", "-batch", "10", "-epochs", "2", "-seed", "5"}

	straight := filepath.Join(dir, "straight.onnx")
	if out, err := exec.Command(bin, append(args, "-out", straight)...).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}

	out := filepath.Join(dir, "cnn.onnx")
	cmd := exec.Command(bin, append(args, "-out", out)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(dir, "cnn.ckpt")
	var stdout strings.Builder
	sc := bufio.NewScanner(pipe)
	for sc.Scan() {
		stdout.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "epoch 1/2") {
			// Let the epoch's checkpoint be written and epoch 2 (60
			// batches, about 0.5 s) start, to stop it in the middle.
			for range 100 {
				if _, err := os.Stat(ckpt); err == nil {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(150 * time.Millisecond)
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
		}
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 { // 130: the shell's status for SIGINT (it was 1)
		t.Fatalf("interrupted run: %v, stdout %q, stderr %q; want exit status 130", err, stdout.String(), stderr.String())
	}
	msg := strings.TrimSuffix(stderr.String(), "\n")
	// -out is outside the working folder, so the hint repeats it.
	if !regexp.MustCompile(`^onnxkit train: interrupted (in epoch 2 after batch \d+ of 60|after epoch 1); wrote checkpoint \S+; resume with: onnxkit train -resume \S+ -out \S+$`).MatchString(msg) ||
		!strings.HasSuffix(msg, "-resume "+ckpt+" -out "+out) {
		t.Errorf("interrupted run: stderr %q, want one line saying how to resume from %s", msg, ckpt)
	}
	if !strings.Contains(msg, "in epoch 2") {
		t.Logf("the interrupt came before epoch 2's first batch (%q): resumed between epochs", msg)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("interrupted run left %s (%v), want no -out file", out, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("interrupted run left temporary file %s", e.Name())
		}
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-model", "lenet5"}, `-model lenet5: the checkpoint's run has -model "cnn"; leave -model out when resuming`},
		{[]string{"-seed", "4"}, `-seed 4: the checkpoint's run has -seed "5"`},
		{[]string{"-limit", "200"}, `-limit 200: the checkpoint's run has -limit "600"`},
		{[]string{"-lr", "0.01"}, `-lr 0.01: the checkpoint's run has -lr "0.001"`},
	} {
		tt.args = append(tt.args, "-out", out)
		args := append([]string{"train", "-resume", ckpt}, tt.args...)
		if _, stderr, code := onnxkit(t, args...); code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("onnxkit %q = exit %d, %q; want exit 2 and %q", args, code, stderr, tt.want)
		}
	}

	// A path the checkpoint records outside the working folder is used
	// only when the command line repeats it (a checkpoint could otherwise
	// make train write anywhere).
	if _, stderr, code := onnxkit(t, "train", "-resume", ckpt); code != 1 || !strings.Contains(stderr, `its run has -out "`+out+`", outside the working folder; give -out again`) {
		t.Errorf("onnxkit train -resume %s = exit %d, %q; want exit 1 and an error naming -out", ckpt, code, stderr)
	}

	// The run's own settings may be repeated.
	resumed, err := exec.Command(bin, "train", "-resume", ckpt, "-model", "cnn", "-lr", "1e-3", "-seed", "5", "-out", out).CombinedOutput()
	if err != nil || !strings.Contains(string(resumed), "resuming "+ckpt+": cnn, adam lr 0.001, batch 10, ") ||
		!strings.Contains(string(resumed), "epoch 2/2") || !strings.Contains(string(resumed), "wrote "+out) {
		t.Fatalf("onnxkit train -resume: %v\n%s", err, resumed)
	}
	want, err1 := os.ReadFile(straight)
	got, err2 := os.ReadFile(out)
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("resumed run exported %d bytes differing from the uninterrupted run's %d", len(got), len(want))
	}
}

// TestBench runs onnxkit bench on an MNIST model (test images) and on a
// model with another input (zeros), and checks the output line's form.
func TestBench(t *testing.T) {
	line := regexp.MustCompile(`^batch 3: [0-9]+\.[0-9]{3} ms/batch, [0-9]+ images/s\n$`)
	out, stderr, code := onnxkit(t, "bench", "-model", "../../testdata/pytorch/lenet5/model.onnx", "-batch", "3", "-duration", "20ms", "-threads", "1")
	if code != 0 || !line.MatchString(out) {
		t.Errorf("bench on LeNet5: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	// A model whose input is not an image: y = x + x over float32[N x 5].
	g := &onnx.Graph{
		Nodes:   []*onnx.Node{{Name: "add", OpType: "Add", Inputs: []string{"x", "x"}, Outputs: []string{"y"}}},
		Inputs:  []*onnx.ValueInfo{{Name: "x", DType: tensor.Float32, ElemType: onnx.ElemTypeOf(tensor.Float32), HasShape: true, Shape: []onnx.Dim{{Param: "N"}, {Value: 5}}}},
		Outputs: []*onnx.ValueInfo{{Name: "y", DType: tensor.Float32, ElemType: onnx.ElemTypeOf(tensor.Float32)}},
	}
	path := filepath.Join(t.TempDir(), "add.onnx")
	if err := onnx.WriteFile(path, &onnx.Model{IRVersion: 8, OpsetImports: []onnx.OpsetImport{{Version: 13}}, Graph: g}); err != nil {
		t.Fatal(err)
	}
	out, stderr, code = onnxkit(t, "bench", "-model", path, "-batch", "3", "-duration", "10ms")
	if code != 0 || !line.MatchString(out) {
		t.Errorf("bench on a non-image model: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"bench"}, "-model is required"},
		{[]string{"bench", "-model", path, "-batch", "0"}, "-batch 0"},
		{[]string{"bench", "-model", path, "-duration", "-1s"}, "-duration -1s"},
	} {
		if _, stderr, code := onnxkit(t, tt.args...); code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("onnxkit %q = exit %d, stderr %q; want exit 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
	if _, stderr, code := onnxkit(t, "bench", "-model", filepath.Join(t.TempDir(), "missing.onnx")); code != 1 || !strings.Contains(stderr, "missing.onnx") {
		t.Errorf("bench on a missing file: exit %d, stderr %q; want exit 1 naming the file", code, stderr)
	}
}

// TestTrainHugeBatch checks that a batch size larger than the training set
// trains on one batch of the whole set: -batch 2147483647 (or a checkpoint
// recording it) used to allocate buffers for that many images and die out
// of memory.
func TestTrainHugeBatch(t *testing.T) {
	if _, err := mnist.Find(""); err != nil {
		t.Skip(err)
	}
	out := filepath.Join(t.TempDir(), "mlp.onnx")
	stdout, stderr, code := onnxkit(t, "train", "-model", "mlp", "-limit", "100", "-epochs", "1", "-batch", "2147483647", "-checkpoint=", "-out", out)
	if code != 0 || !strings.Contains(stdout, "epoch 1/1") {
		t.Errorf("onnxkit train -batch 2147483647 = exit %d, %q %q", code, stdout, stderr)
	}
}
