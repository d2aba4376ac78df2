package infer

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/onnxkit/onnxkit/internal/kernel"
	"github.com/onnxkit/onnxkit/tensor"
)

// maxSpatial is the largest number of spatial axes Conv and the pooling ops
// accept (inputs of rank maxSpatial+2).
const maxSpatial = 8

// checkAlloc returns an error if a tensor of the given shape would be
// invalid or larger than maxElements (broadcast.go): shapes derived from
// attribute or input values (pads, strides...) must not let a hostile model
// make a run allocate without bound.
func checkAlloc(shape ...int) error {
	n := tensor.NumElements(shape)
	if n < 0 || n > maxElements {
		return fmt.Errorf("output would hold more than %d elements", maxElements)
	}
	return nil
}

// resize is t.Resize(dt, shape...) without letting shape escape to the
// heap (tensor.Resize's panic message keeps its argument alive): the shape
// is first copied into t's own Shape storage. It lets ops build shapes in
// stack arrays and run without allocating once t has grown to size.
func resize(t *tensor.Tensor, dt tensor.DType, shape ...int) {
	t.Shape = append(t.Shape[:0], shape...)
	t.Resize(dt, t.Shape...)
}

// window holds the sliding-window attributes shared by Conv and the pooling
// ops, parsed once at load.
type window struct {
	kernel    []int // from kernel_shape; nil when absent (Conv takes it from W)
	strides   []int // nil: all 1
	dilations []int // nil: all 1
	pads      []int // begins then ends; nil: all 0
	autoPad   string
	ceil      bool
}

// parseWindow reads auto_pad, kernel_shape, strides, dilations and pads (and
// ceil_mode when withCeil). It records errors in a.
func parseWindow(a *attrs, kernelRequired, withDilations, withCeil bool) window {
	var w window
	w.autoPad = a.string("auto_pad", "NOTSET")
	switch w.autoPad {
	case "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID":
	default:
		a.fail("attribute \"auto_pad\": unknown value %q", w.autoPad)
	}
	if kernelRequired && !a.has("kernel_shape") {
		a.fail("attribute \"kernel_shape\" is required")
	}
	w.kernel = positive(a, "kernel_shape", a.ints("kernel_shape", -1, nil), 1)
	n := len(w.kernel)
	if n == 0 {
		n = -1 // rank known only at run time
	}
	w.strides = positive(a, "strides", a.ints("strides", n, nil), 1)
	if withDilations {
		w.dilations = positive(a, "dilations", a.ints("dilations", n, nil), 1)
	} else if a.has("dilations") {
		a.fail("attribute \"dilations\" is not supported by this opset version")
	}
	if n > 0 {
		n *= 2
	}
	w.pads = positive(a, "pads", a.ints("pads", n, nil), 0)
	if len(w.pads)%2 != 0 {
		a.fail("attribute \"pads\": want an even number of values, got %d", len(w.pads))
	}
	if withCeil {
		switch c := a.int("ceil_mode", 0); c {
		case 0, 1:
			w.ceil = c == 1
		default:
			a.fail("attribute \"ceil_mode\": want 0 or 1, got %d", c)
		}
	}
	if len(w.kernel) > maxSpatial || len(w.strides) > maxSpatial || len(w.dilations) > maxSpatial || len(w.pads) > 2*maxSpatial {
		a.fail("more than %d spatial axes are not supported", maxSpatial)
	}
	return w
}

// positive converts attribute values to ints, checking each is >= min and
// small enough to keep index arithmetic in range.
func positive(a *attrs, name string, v []int64, min int64) []int {
	if v == nil {
		return nil
	}
	out := make([]int, len(v))
	for i, x := range v {
		if x < min || x > 1<<24 {
			a.fail("attribute %q: value %d out of range", name, x)
			return nil
		}
		out[i] = int(x)
	}
	return out
}

// geom is the geometry of one sliding-window computation over n spatial
// axes: input and output sizes, kernel, stride, dilation and the padding
// actually applied before each axis. padEnd is the padding after each axis
// as declared (windows in ceil mode may reach beyond it).
type geom struct {
	n                  int
	in, out, k, stride [maxSpatial]int
	dil, pad, padEnd   [maxSpatial]int
}

// inSize and outSize are the numbers of spatial positions.
func (g *geom) inSize() int  { return prod(g.in[:g.n]) }
func (g *geom) outSize() int { return prod(g.out[:g.n]) }
func (g *geom) kSize() int   { return prod(g.k[:g.n]) }

func prod(s []int) int {
	p := 1
	for _, v := range s {
		p *= v
	}
	return p
}

// geometry computes output sizes and padding for the given input spatial
// sizes and kernel.
func (w *window) geometry(in, kernel []int) (geom, error) {
	var g geom
	n := len(in)
	if n == 0 || n > maxSpatial {
		return g, fmt.Errorf("want 1 to %d spatial axes, got %d", maxSpatial, n)
	}
	if len(kernel) != n {
		return g, fmt.Errorf("kernel has %d axes, input has %d spatial axes", len(kernel), n)
	}
	if (w.strides != nil && len(w.strides) != n) || (w.dilations != nil && len(w.dilations) != n) ||
		(w.pads != nil && len(w.pads) != 2*n) {
		return g, fmt.Errorf("strides, dilations or pads do not match %d spatial axes", n)
	}
	g.n = n
	for i := 0; i < n; i++ {
		g.in[i], g.k[i], g.stride[i], g.dil[i] = in[i], kernel[i], 1, 1
		if w.strides != nil {
			g.stride[i] = w.strides[i]
		}
		if w.dilations != nil {
			g.dil[i] = w.dilations[i]
		}
		if g.k[i] < 1 {
			return g, fmt.Errorf("kernel size %d on axis %d", g.k[i], i)
		}
		ek := (g.k[i]-1)*g.dil[i] + 1 // extent of a dilated window
		s := g.stride[i]
		switch w.autoPad {
		case "SAME_UPPER", "SAME_LOWER":
			g.out[i] = ceilDiv(in[i], s)
			total := max(0, (g.out[i]-1)*s+ek-in[i])
			g.pad[i] = total / 2
			if w.autoPad == "SAME_LOWER" {
				g.pad[i] = total - total/2
			}
			g.padEnd[i] = total - g.pad[i]
		case "VALID":
			num := in[i] - ek
			if num < 0 {
				return g, fmt.Errorf("spatial axis %d: input size %d is smaller than the kernel extent %d", i, in[i], ek)
			}
			if w.ceil {
				g.out[i] = ceilDiv(num+1, s)
			} else {
				g.out[i] = num/s + 1
			}
		default:
			if w.pads != nil {
				g.pad[i], g.padEnd[i] = w.pads[i], w.pads[n+i]
			}
			num := in[i] + g.pad[i] + g.padEnd[i] - ek
			if num < 0 {
				return g, fmt.Errorf("spatial axis %d: padded input size %d is smaller than the kernel extent %d", i, in[i]+g.pad[i]+g.padEnd[i], ek)
			}
			if w.ceil {
				g.out[i] = ceilDiv(num, s) + 1
				// A window that would start in the end padding is dropped.
				if (g.out[i]-1)*s >= in[i]+g.pad[i] {
					g.out[i]--
				}
			} else {
				g.out[i] = num/s + 1
			}
		}
	}
	return g, nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// rangeTask is work that parallelFor splits: run computes the items
// [lo, hi) as worker number worker (each worker has its own index, so that
// it can use its own part of a scratch buffer).
type rangeTask interface {
	run(lo, hi, worker int) error
}

// parallel is the bookkeeping of one parallelFor call, kept in a node's
// scratch so that splitting work allocates nothing once warm.
type parallel struct {
	wg   sync.WaitGroup
	errs []error  // by worker
	jobs []parJob // the ranges handed to internal/kernel's workers
}

// parJob is one range of a parallelFor call.
type parJob struct {
	p              *parallel
	t              rangeTask
	lo, hi, worker int
}

// Run runs the job and records its error.
func (j *parJob) Run() {
	defer j.p.wg.Done()
	j.p.errs[j.worker] = runRange(j.t, j.lo, j.hi, j.worker)
}

// runRange calls t.run, turning a panic into an error.
func runRange(t rangeTask, lo, hi, worker int) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	return t.run(lo, hi, worker)
}

// parallelFor calls t.run(lo, hi, worker) on disjoint ranges covering
// [0, n), from up to workers goroutines (worker in [0, workers): the
// caller's goroutine and internal/kernel's workers, see kernel.TryRun); the
// caller's goroutine runs the first range, and the ranges no worker takes. A panic in a range becomes its
// error; the first error by range is returned. s holds the bookkeeping, so
// t should be a pointer (kept in s too, see taskOf) for the call to
// allocate nothing.
func parallelFor(s *scratch, n, workers int, t rangeTask) error {
	workers = min(workers, n, runtime.GOMAXPROCS(0))
	if workers <= 1 {
		return runRange(t, 0, n, 0)
	}
	if s.par == nil {
		s.par = new(parallel)
	}
	p := s.par
	if cap(p.errs) < workers {
		p.errs = make([]error, workers)
	}
	p.errs = p.errs[:workers]
	clear(p.errs)
	p.wg.Add(workers)
	p.jobs = p.jobs[:0]
	for w := 1; w < workers; w++ {
		p.jobs = append(p.jobs, parJob{p, t, n * w / workers, n * (w + 1) / workers, w})
	}
	for i := range p.jobs {
		if !kernel.TryRun(&p.jobs[i]) { // every worker is busy: do it here
			p.jobs[i].Run()
		}
	}
	own := parJob{p, t, 0, n / workers, 0}
	own.Run()
	p.wg.Wait()
	clear(p.jobs)
	for _, err := range p.errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// taskOf returns the task of type T kept in s, creating it on first use
// (a node's scratch only ever holds its own op's task type). The caller
// fills it, runs it and then zeroes it, so that it keeps no reference to
// the run's tensors.
func taskOf[T any](s *scratch) *T {
	if t, ok := s.task.(*T); ok {
		return t
	}
	t := new(T)
	s.task = t
	return t
}

// batchWorkers is how many goroutines to use for n independent samples of
// the given cost each (in multiply-adds): parallelism only pays for itself
// above some tens of thousands of operations per goroutine.
func batchWorkers(n, cost int) int {
	if n < 2 || cost < 1<<16 {
		return 1
	}
	return min(n, runtime.GOMAXPROCS(0))
}

// spatialOf checks that x is a float tensor of rank >= 3 laid out as
// N x C x D1 x ... and returns N, C and the spatial sizes.
func spatialOf(x *tensor.Tensor, name string) (n, c int, sp []int, err error) {
	if x.Rank() < 3 || x.Rank() > maxSpatial+2 {
		return 0, 0, nil, fmt.Errorf("input %s: want rank 3 to %d (N x C x D1 ...), got %v", name, maxSpatial+2, x)
	}
	return x.Shape[0], x.Shape[1], x.Shape[2:], nil
}
