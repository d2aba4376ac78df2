package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/onnxkit/onnxkit/infer"
	"github.com/onnxkit/onnxkit/mnist"
	"github.com/onnxkit/onnxkit/tensor"
)

var benchCmd = &command{
	name:  "bench",
	short: "time a model on MNIST test images (zeros for other inputs): ms per batch and images per second",
	setup: func(fs *flag.FlagSet) func([]string) error {
		model := fs.String("model", "", "the ONNX `file` to time (required)")
		batch := fs.Int("batch", 64, "images per run")
		threads := fs.Int("threads", 0, "`n` threads (GOMAXPROCS; default: every CPU)")
		duration := fs.Duration("duration", 5*time.Second, "how long to time")
		data := fs.String("data", "", "MNIST `folder` (default: $MNIST_DIR, ./data/mnist, then the GoMNIST module)")
		profile := fs.String("cpuprofile", "", "write a CPU profile of the timed runs to this `file`")
		return func(args []string) error {
			switch {
			case len(args) > 0:
				return usagef("unexpected argument %q", args[0])
			case *model == "":
				return usagef("-model is required")
			case *batch < 1 || *batch > 1<<16:
				return usagef("-batch %d: want 1 to 65536", *batch)
			case *threads < 0:
				return usagef("-threads %d: want a positive number", *threads)
			case *duration <= 0:
				return usagef("-duration %v: want a positive time", *duration)
			}
			if *threads > 0 {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(*threads))
			}
			feeds, err := benchFeeds(*model, *data, *batch)
			if err != nil {
				return err
			}
			s := feeds.session
			outs := make(map[string]*tensor.Tensor)
			for _, o := range s.Outputs() {
				outs[o.Name] = new(tensor.Tensor)
			}
			if err := s.RunInto(feeds.inputs, outs); err != nil { // warm up
				return fmt.Errorf("%s: %w", *model, err)
			}
			if *profile != "" {
				f, err := os.Create(*profile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			runs, start := 0, time.Now()
			for runs < 3 || time.Since(start) < *duration {
				if err := s.RunInto(feeds.inputs, outs); err != nil {
					return fmt.Errorf("%s: %w", *model, err)
				}
				runs++
			}
			per := time.Since(start).Seconds() / float64(runs)
			fmt.Fprintf(stdout, "batch %d: %.3f ms/batch, %.0f images/s\n", *batch, per*1000, float64(*batch)/per)
			return nil
		}
	},
}

// benchInput is a loaded model and a batch to feed it.
type benchInput struct {
	session *infer.Session
	inputs  map[string]*tensor.Tensor
}

// benchFeeds loads the model and makes a batch of n: MNIST test images,
// prepared as the model's metadata says, for a model that takes
// [N,1,28,28] or [N,784] images; otherwise zeros of each input's declared
// type and shape, with the first dimension n when it is symbolic.
func benchFeeds(path, data string, n int) (*benchInput, error) {
	if c, err := loadClassifier(path, ""); err == nil && c.c == 1 && c.h == mnist.ImageSize && c.w == mnist.ImageSize {
		_, test, err := mnist.Load(data)
		if err != nil {
			return nil, err
		}
		shape := []int{n, c.c, c.h, c.w}
		if c.flat {
			shape = []int{n, c.size()}
		}
		x := tensor.New(tensor.Float32, shape...)
		for i := range n {
			for j, p := range test.Image(i % test.N) {
				x.F32[i*c.size()+j] = (float32(p)/255 - c.mean) / c.std
			}
		}
		return &benchInput{c.s, map[string]*tensor.Tensor{c.input: x}}, nil
	}
	s, err := sessionOptions().Load(path)
	if err != nil {
		return nil, err
	}
	feeds := make(map[string]*tensor.Tensor)
	for _, in := range s.Inputs() {
		if in.DType == tensor.Invalid || !in.HasShape {
			return nil, fmt.Errorf("%s: input %q is %s: want a declared type and shape to make zeros", path, in.Name, valueType(in))
		}
		shape := make([]int, len(in.Shape))
		for i, d := range in.Shape {
			switch {
			case d.Param == "" && d.Value >= 0:
				shape[i] = int(d.Value)
			case i == 0:
				shape[i] = n
			default:
				return nil, fmt.Errorf("%s: input %q is %s: only the first dimension may be symbolic", path, in.Name, valueType(in))
			}
		}
		if tensor.NumElements(shape) < 0 || tensor.NumElements(shape) > 1<<28 {
			return nil, fmt.Errorf("%s: input %q: a batch of %d is too large", path, in.Name, n)
		}
		feeds[in.Name] = tensor.New(in.DType, shape...)
	}
	return &benchInput{s, feeds}, nil
}
