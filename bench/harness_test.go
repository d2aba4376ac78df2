package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/mnist"
	"github.com/onnxkit/onnxkit/tensor"
)

func TestSelectWorkloads(t *testing.T) {
	tests := []struct {
		spec string
		want string // names in table order
	}{
		{"all", "train-lenet5 train-cnn train-mlp train-best train-lenet5-gorgonia infer-lenet5 infer-mlp infer-cnn infer-zoo rss-lenet5"},
		{"infer", "infer-lenet5 infer-mlp infer-cnn"},
		{"zoo", "infer-zoo"},
		{"rss,train-mlp", "train-mlp rss-lenet5"}, // table order, not flag order
		{"train-lenet5-gorgonia, infer-cnn", "train-lenet5-gorgonia infer-cnn"},
	}
	for _, tt := range tests {
		sel, err := selectWorkloads(tt.spec)
		if err != nil {
			t.Errorf("selectWorkloads(%q): %v", tt.spec, err)
			continue
		}
		var names []string
		for _, w := range sel {
			names = append(names, w.name)
		}
		if got := strings.Join(names, " "); got != tt.want {
			t.Errorf("selectWorkloads(%q) = %s, want %s", tt.spec, got, tt.want)
		}
	}
	for _, bad := range []string{"", "nope", "train,nope"} {
		if _, err := selectWorkloads(bad); err == nil {
			t.Errorf("selectWorkloads(%q) = nil error, want one", bad)
		}
	}
}

func TestRatio(t *testing.T) {
	tests := []struct {
		r    row
		want float64
		ok   bool
	}{
		{row{goVal: 3, peerVal: 6}, 0.5, true},                           // time: Go / peer
		{row{goVal: 3000, peerVal: 1500, higherBetter: true}, 0.5, true}, // throughput: peer / Go
		{row{goVal: 3, peerErr: errors.New("missing")}, 0, false},
		{row{goVal: 0, peerVal: 1}, 0, false},
	}
	for _, tt := range tests {
		got, ok := tt.r.ratio()
		if got != tt.want || ok != tt.ok {
			t.Errorf("%+v.ratio() = %v, %v, want %v, %v", tt.r, got, ok, tt.want, tt.ok)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestChildInfer runs the Go inference child on PyTorch's LeNet5 export for
// a moment and checks the shape of what it prints (not the times).
func TestChildInfer(t *testing.T) {
	x := make([]byte, 4*2*28*28)
	for i := 0; i < len(x); i += 4 {
		binary.LittleEndian.PutUint32(x[i:], math.Float32bits(0.5))
	}
	in := filepath.Join(t.TempDir(), "x.f32")
	if err := os.WriteFile(in, x, 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := runChildCommand(&out, "child-infer", []string{"-model", lenet5Export, "-input", in, "-batches", "1,2", "-min-time", "0"})
	if err != nil {
		t.Fatal(err)
	}
	var r inferResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("child-infer printed %q: %v", out.String(), err)
	}
	if len(r.Results) != 2 || r.Results[0].Batch != 1 || r.Results[1].Batch != 2 {
		t.Fatalf("child-infer results = %+v, want batches 1 and 2", r.Results)
	}
	for _, tm := range r.Results {
		if tm.Runs < 5 || tm.Seconds <= 0 || tm.MedianMS <= 0 {
			t.Errorf("batch %d: %d runs, %v s, median %v ms; want at least 5 runs and positive times", tm.Batch, tm.Runs, tm.Seconds, tm.MedianMS)
		}
	}
	if err := runChildCommand(&out, "child-infer", []string{"-model", lenet5Export, "-input", in, "-batches", "3"}); err == nil {
		t.Errorf("child-infer with batch 3 of a 2-image input: nil error, want one")
	}
}

// TestChildTrain trains LeNet5 on two batches of MNIST through the Go
// training child (skipped when MNIST is not found).
func TestChildTrain(t *testing.T) {
	f, err := mnist.Find("")
	if err != nil {
		t.Skip(err)
	}
	var out bytes.Buffer
	err = runChildCommand(&out, "child-train", []string{"-model", "lenet5", "-batches", "2", "-warmup", "1",
		"-images", f.TrainImages, "-labels", f.TrainLabels})
	if err != nil {
		t.Fatal(err)
	}
	var r trainResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("child-train printed %q: %v", out.String(), err)
	}
	if r.Images != 200 || r.Batches != 2 || !(r.Loss > 0) || r.Seconds <= 0 {
		t.Errorf("child-train = %+v, want 200 images in 2 batches, a positive loss and time", r)
	}
}

// zooNote keeps a model's row on one line: the op types from the load
// error (text in the form infer's unsupported error gives), or the last
// line of another error.
func TestZooNote(t *testing.T) {
	for _, tt := range []struct{ err, want string }{
		{"exit status 1\n  bench child-infer: infer: 3 unsupported nodes: node \"/a\" (Resize, domain ai.onnx, opset 13); node \"/b\" (ConvTranspose, domain ai.onnx, opset 13); node \"/c\" (Resize, domain ai.onnx, opset 13)",
			"cannot load yet: no Resize, ConvTranspose"},
		{"not timed: 2 inputs, the zoo workload feeds one float32 tensor", "not timed: 2 inputs, the zoo workload feeds one float32 tensor"},
		{"exit status 1\n   ort_bench:   Error:  bad   model\n", "ort_bench: Error: bad model"},
	} {
		if got := zooNote(errors.New(tt.err)); got != tt.want {
			t.Errorf("zooNote(%q) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// zooRepeat repeats the stored samples in turn along the batch axis, also
// when it is not the first (the GRU's h0 [2,N,32]); expected values worked
// by hand.
func TestZooRepeat(t *testing.T) {
	for _, tt := range []struct {
		in        *tensor.Tensor
		axis, n   int
		want      []int64
		wantShape []int
	}{
		{tensor.FromInt64([]int64{1, 2, 3, 4}, 2, 2), 0, 3, []int64{1, 2, 3, 4, 1, 2}, []int{3, 2}},
		{tensor.FromInt64([]int64{1, 2, 3, 4}, 2, 2), 0, 1, []int64{1, 2}, []int{1, 2}},
		{tensor.FromInt64([]int64{1, 2, 3, 4, 5, 6, 7, 8}, 2, 2, 2), 1, 3, []int64{1, 2, 3, 4, 1, 2, 5, 6, 7, 8, 5, 6}, []int{2, 3, 2}},
	} {
		got := zooRepeat(tt.in, tt.axis, tt.n)
		if !slices.Equal(got.Shape, tt.wantShape) || !slices.Equal(got.I64, tt.want) {
			t.Errorf("zooRepeat(%v, %d, %d) = %v %v, want %v %v", tt.in.I64, tt.axis, tt.n, got.Shape, got.I64, tt.wantShape, tt.want)
		}
	}
	f := zooRepeat(tensor.FromFloat32([]float32{1, 2}, 2, 1), 0, 3)
	if !slices.Equal(f.F32, []float32{1, 2, 1}) {
		t.Errorf("zooRepeat([1 2], 0, 3) = %v, want [1 2 1]", f.F32)
	}
}
