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
	model := fs.String("model", train.LeNet5, "model: mlp, cnn, lenet5 or best")
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
		PeakKB: peakKB(),
	})
}

// childInfer times Session.RunInto on -model for each batch size, on the
// first samples of -input (float32 [K, -shape...], little-endian), or on
// the inputs a -feeds file (zooFeeds) names for each batch: a few untimed
// runs, then runs for at least -min-time seconds, as ort_bench.js does.
// Every output of the model is computed.
func childInfer(w io.Writer, args []string) error {
	fs := flag.NewFlagSet("child-infer", flag.ContinueOnError)
	model := fs.String("model", "", "ONNX model `file`")
	input := fs.String("input", "", "float32 images `file`")
	feedsFile := fs.String("feeds", "", "JSON `file` naming each input's data per batch (in place of -input and -shape)")
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
	s, err := infer.Load(*model)
	if err != nil {
		return err
	}
	var feedsFor func(b int) (map[string]*tensor.Tensor, error)
	if *feedsFile != "" {
		feedsFor, err = readFeeds(*feedsFile)
	} else {
		feedsFor, err = imageFeeds(s, *input, *shapeList)
	}
	if err != nil {
		return err
	}
	res := inferResult{Threads: runtime.GOMAXPROCS(0)}
	out := map[string]*tensor.Tensor{}
	for _, o := range s.Outputs() {
		out[o.Name] = new(tensor.Tensor)
	}
	for _, b := range batches {
		in, err := feedsFor(b)
		if err != nil {
			return err
		}
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
	res.PeakKB = peakKB()
	return json.NewEncoder(w).Encode(res)
}

// peakKB returns this process's peak resident memory in kilobytes, VmHWM
// of /proc/self/status, or 0 where that is not there. (The rusage the
// parent reads counts the parent's own peak too: Linux carries it across
// the fork and exec.)
func peakKB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}

// imageFeeds reads the float32 samples of shape dims from file and
// returns the feeds of the first b of them for s's one input.
func imageFeeds(s *infer.Session, file, dims string) (func(b int) (map[string]*tensor.Tensor, error), error) {
	shape, err := parseInts(dims)
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	all := make([]float32, len(raw)/4)
	for i := range all {
		all[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	if len(s.Inputs()) != 1 {
		return nil, fmt.Errorf("want one input, have %d", len(s.Inputs()))
	}
	per := tensor.NumElements(shape)
	return func(b int) (map[string]*tensor.Tensor, error) {
		if b < 1 || per < 1 || b*per > len(all) {
			return nil, fmt.Errorf("batch %d of %v: %s holds %d floats", b, shape, file, len(all))
		}
		x := tensor.FromFloat32(slices.Clone(all[:b*per]), append([]int{b}, shape...)...)
		return map[string]*tensor.Tensor{s.Inputs()[0].Name: x}, nil
	}, nil
}

// readFeeds reads a zooFeeds file and returns the feeds of each batch it
// lists.
func readFeeds(file string) (func(b int) (map[string]*tensor.Tensor, error), error) {
	js, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var f zooFeeds
	if err := json.Unmarshal(js, &f); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	return func(b int) (map[string]*tensor.Tensor, error) {
		i := slices.IndexFunc(f.Batches, func(z zooBatch) bool { return z.Batch == b })
		if i < 0 {
			return nil, fmt.Errorf("%s: no inputs for batch %d", file, b)
		}
		feeds := map[string]*tensor.Tensor{}
		for _, in := range f.Batches[i].Inputs {
			raw, err := os.ReadFile(in.File)
			if err != nil {
				return nil, err
			}
			n := tensor.NumElements(in.Shape)
			var t *tensor.Tensor
			switch {
			case in.DType == "float32" && len(raw) == 4*n:
				t = tensor.New(tensor.Float32, in.Shape...)
				for j := range t.F32 {
					t.F32[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
				}
			case in.DType == "int64" && len(raw) == 8*n:
				t = tensor.New(tensor.Int64, in.Shape...)
				for j := range t.I64 {
					t.I64[j] = int64(binary.LittleEndian.Uint64(raw[8*j:]))
				}
			default:
				return nil, fmt.Errorf("%s: %d bytes for %s %v", in.File, len(raw), in.DType, in.Shape)
			}
			feeds[in.Name] = t
		}
		return feeds, nil
	}, nil
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
