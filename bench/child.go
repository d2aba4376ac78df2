package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/onnxkit/onnxkit/infer"
	"github.com/onnxkit/onnxkit/mnist"
	"github.com/onnxkit/onnxkit/tensor"
	"github.com/onnxkit/onnxkit/train"
)

// runChildCommand runs the Go side of a workload in this process (started
// by the harness with GOMAXPROCS set) and prints its result as one JSON
// line, in the same fields the peers print.
func runChildCommand(w io.Writer, name string, args []string) error {
	switch name {
	case "child-train":
		return childTrain(w, args)
	case "child-infer":
		return childInfer(w, args)
	}
	return fmt.Errorf("unknown child command %q", name)
}

// childTrain times an epoch (or its first -batches batches) of train.Trainer
// with the tutorial's recipe for -model. Loading the data and building the
// model are not timed; -warmup batches run first, untimed, as on the
// peers' side.
func childTrain(w io.Writer, args []string) error {
	fs := flag.NewFlagSet("child-train", flag.ContinueOnError)
	model := fs.String("model", train.LeNet5, "model: mlp, cnn or lenet5")
	batches := fs.Int("batches", 0, "time only the first `N` batches (0: the whole epoch)")
	warmup := fs.Int("warmup", 3, "untimed batches run first")
	images := fs.String("images", "", "training images `file`")
	labels := fs.String("labels", "", "training labels `file`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	set, err := mnist.LoadFiles(*images, *labels)
	if err != nil {
		return err
	}
	r, err := train.DefaultRecipe(*model)
	if err != nil {
		return err
	}
	r.Epochs = 1
	t, err := train.NewTrainer(r, 1)
	if err != nil {
		return err
	}
	var loss float64
	t.OnEpoch = func(s train.EpochStats) error { loss = s.Loss; return nil }
	ctx := context.Background()
	bs := r.BatchSize
	if n := min(*warmup*bs, set.N); n > 0 {
		if err := t.Fit(ctx, set.Slice(0, n), nil); err != nil {
			return err
		}
	}
	n := set.N
	if *batches > 0 {
		n = min(*batches*bs, set.N)
	}
	sub := set.Slice(0, n)
	start := time.Now()
	if err := t.Fit(ctx, sub, nil); err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	return json.NewEncoder(w).Encode(trainResult{
		Seconds: secs, Images: n, Batches: (n + bs - 1) / bs, Loss: loss, Threads: runtime.GOMAXPROCS(0),
	})
}

// childInfer times Session.RunInto on -model for each batch size, on the
// first samples of -input (float32 [K, -shape...], little-endian): a few
// untimed runs, then runs for at least -min-time seconds, as ort_bench.js
// does.
func childInfer(w io.Writer, args []string) error {
	fs := flag.NewFlagSet("child-infer", flag.ContinueOnError)
	model := fs.String("model", "", "ONNX model `file`")
	input := fs.String("input", "", "float32 images `file`")
	batchList := fs.String("batches", "1,64,1000", "comma-separated batch sizes")
	minTime := fs.Float64("min-time", 2, "`seconds` to time each batch size for")
	shapeList := fs.String("shape", "1,28,28", "comma-separated `dims` of one sample")
	if err := fs.Parse(args); err != nil {
		return err
	}
	batches, err := parseInts(*batchList)
	if err != nil {
		return err
	}
	shape, err := parseInts(*shapeList)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(*input)
	if err != nil {
		return err
	}
	all := make([]float32, len(raw)/4)
	for i := range all {
		all[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	s, err := infer.Load(*model)
	if err != nil {
		return err
	}
	if len(s.Inputs()) != 1 || len(s.Outputs()) < 1 {
		return fmt.Errorf("%s: want one input and an output, have %d and %d", *model, len(s.Inputs()), len(s.Outputs()))
	}
	inName, outName := s.Inputs()[0].Name, s.Outputs()[0].Name
	res := inferResult{Threads: runtime.GOMAXPROCS(0)}
	per := 1
	for _, d := range shape {
		per *= d
	}
	for _, b := range batches {
		if b < 1 || per < 1 || b*per > len(all) {
			return fmt.Errorf("batch %d of %v: %s holds %d floats", b, shape, *input, len(all))
		}
		in := map[string]*tensor.Tensor{inName: tensor.FromFloat32(slices.Clone(all[:b*per]), append([]int{b}, shape...)...)}
		out := map[string]*tensor.Tensor{outName: new(tensor.Tensor)}
		for range 3 {
			if err := s.RunInto(in, out); err != nil {
				return err
			}
		}
		var times []time.Duration
		start := time.Now()
		for len(times) < 5 || time.Since(start).Seconds() < *minTime {
			t0 := time.Now()
			if err := s.RunInto(in, out); err != nil {
				return err
			}
			times = append(times, time.Since(t0))
		}
		elapsed := time.Since(start).Seconds()
		slices.Sort(times)
		res.Results = append(res.Results, inferTiming{
			Batch: b, Runs: len(times), Seconds: elapsed,
			MedianMS: float64(times[len(times)/2]) / float64(time.Millisecond),
		})
	}
	return json.NewEncoder(w).Encode(res)
}

func parseInts(s string) ([]int, error) {
	var r []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("list %q: %v", s, err)
		}
		r = append(r, n)
	}
	return r, nil
}
