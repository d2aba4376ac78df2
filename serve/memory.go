package serve

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/onnxkit/onnxkit/infer"
	"github.com/onnxkit/onnxkit/internal/sysmem"
	"github.com/onnxkit/onnxkit/tensor"
)

// DefaultMaxMemory is the memory budget a server gets when
// Options.MaxMemory is zero: half the memory of the machine (or of its
// cgroup, when that is smaller), at most 2 GiB; 1 GiB when neither can be
// read.
func DefaultMaxMemory() int64 {
	const most = 2 << 30
	total := sysmem.Total()
	if total <= 0 {
		return 1 << 30
	}
	return min(total/2, most)
}

// Errors of budget.acquire.
var (
	errNeverFits = errors.New("never fits")
	errNoMemory  = errors.New("no memory")
)

// budget counts the bytes that requests hold or are about to allocate,
// against a total.
type budget struct {
	mu      sync.Mutex
	total   int64
	used    int64
	changed chan struct{} // closed and replaced on every release
}

func newBudget(total int64) *budget {
	return &budget{total: total, changed: make(chan struct{})}
}

// acquire takes n bytes, waiting at most wait for other requests to
// release enough. It fails with errNeverFits when n is over the total,
// with errNoMemory when the wait ends, and with ctx's error when ctx ends.
func (b *budget) acquire(ctx context.Context, n int64, wait time.Duration) error {
	if n <= 0 {
		return nil
	}
	if n > b.total {
		return errNeverFits
	}
	var timer *time.Timer
	for {
		b.mu.Lock()
		if b.used+n <= b.total {
			b.used += n
			b.mu.Unlock()
			if timer != nil {
				timer.Stop()
			}
			return nil
		}
		changed := b.changed
		b.mu.Unlock()
		if timer == nil {
			if wait <= 0 {
				return errNoMemory
			}
			timer = time.NewTimer(wait)
			defer timer.Stop()
		}
		select {
		case <-changed:
		case <-timer.C:
			return errNoMemory
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// release gives back n bytes taken by acquire.
func (b *budget) release(n int64) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
}

func (b *budget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// footprint estimates the memory of running a model on a request from the
// request's input elements: perRun plus perElem bytes for each input
// element (activations, the batch's copies of inputs and outputs, the
// encoded response).
type footprint struct {
	perRun, perElem int64
}

func (f footprint) of(inputElems int64) int64 { return f.perRun + f.perElem*inputElems }

// Bytes of JSON per output element in a response, at most: a float32's
// shortest form with sign and exponent ("-1.2345678e-38", 14) or an int64
// (20 digits and a sign), and a comma.
const maxTextPerElem = 22

// measureFootprint measures what a run of s allocates at two input sizes
// (the first dimension at r and 4r when it is symbolic, other symbolic
// dimensions at 1) and fits perRun + perElem*elements through them; with
// one size only (no symbolic first dimension) the estimate is in proportion
// to the input. The
// session's buffers are cleared by two collections before each run, so
// that every activation is allocated anew. A model that cannot be run on
// random inputs gets the fallback estimate of 64 bytes per input element
// for every element of a tensor it might hold (a quarter of which is
// activations), with no per-run part.
func measureFootprint(s *infer.Session) footprint {
	fallback := footprint{perElem: 64}
	var elems, allocs, outs [2]int64
	batched := true
	perRow := 1
	for _, vi := range s.Inputs() {
		if !vi.HasShape || len(vi.Shape) == 0 || !symbolic(vi.Shape[0]) {
			batched = false
			continue
		}
		for _, d := range vi.Shape[1:] {
			if !symbolic(d) && d.Value > 0 {
				perRow = int(min(int64(perRow)*d.Value, 1<<30))
			}
		}
	}
	// Rows enough for about 2^18 input elements, so that buffers sized
	// per block of rows (a convolution's im2col tile, say) do not hide
	// the growth.
	r := max(2, (1<<18)/perRow)
	rowsAt := [2]int{r, 4 * r}
	for k, rows := range rowsAt {
		if !batched && k == 1 {
			break
		}
		in, err := randomInputs(s, rows, rand.New(rand.NewPCG(3, 4)))
		if err != nil {
			return fallback
		}
		for _, t := range in {
			elems[k] += int64(t.Len())
		}
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		out, err := s.Run(in)
		if err != nil {
			return fallback
		}
		runtime.ReadMemStats(&ms)
		allocs[k] = int64(ms.TotalAlloc - before)
		for _, t := range out {
			outs[k] += int64(t.Len())
		}
	}
	// What a run holds besides its inputs: the activations and output
	// clones measured, the split copies of the outputs (at most 8 bytes an
	// element) and their text. The batch's copy of the inputs adds at most
	// 8 bytes an input element.
	var cost [2]int64
	for k := range cost {
		cost[k] = allocs[k] + outs[k]*(8+maxTextPerElem)
	}
	if elems[0] <= 0 {
		return footprint{perRun: cost[0], perElem: 8}
	}
	if !batched || elems[1] <= elems[0] {
		// One size only: scale in proportion to the input.
		return footprint{perElem: (cost[0]+elems[0]-1)/elems[0] + 8}
	}
	d := elems[1] - elems[0]
	slope := (max(0, cost[1]-cost[0]) + d - 1) / d
	return footprint{perRun: max(0, cost[0]-slope*elems[0]), perElem: slope + 8}
}

// randomInputs makes one tensor of random values per input of s, with rows
// as the first dimension and 1 for any other symbolic dimension.
func randomInputs(s *infer.Session, rows int, rng *rand.Rand) (map[string]*tensor.Tensor, error) {
	in := make(map[string]*tensor.Tensor)
	for _, vi := range s.Inputs() {
		if !vi.HasShape || vi.DType == tensor.Invalid {
			return nil, fmt.Errorf("input %q: no shape or element type", vi.Name)
		}
		shape := make([]int, len(vi.Shape))
		for i, d := range vi.Shape {
			switch {
			case i == 0 && symbolic(d):
				shape[i] = rows
			case symbolic(d):
				shape[i] = 1
			default:
				shape[i] = int(d.Value)
			}
		}
		if n := tensor.NumElements(shape); n < 0 || n > 1<<26 {
			return nil, fmt.Errorf("input %q: %d rows would be too large", vi.Name, rows)
		}
		t := tensor.New(vi.DType, shape...)
		for i := range t.Len() {
			switch t.DType {
			case tensor.Float32:
				t.F32[i] = rng.Float32()
			case tensor.Float64:
				t.F64[i] = rng.Float64()
			case tensor.Int64:
				t.I64[i] = int64(rng.IntN(2))
			case tensor.Int32:
				t.I32[i] = int32(rng.IntN(2))
			case tensor.Uint8:
				t.U8[i] = uint8(rng.IntN(2))
			case tensor.Int8:
				t.I8[i] = int8(rng.IntN(2))
			case tensor.Bool:
				t.B[i] = rng.IntN(2) == 1
			}
		}
		in[vi.Name] = t
	}
	return in, nil
}

// heapBase is the memory the Go runtime holds after a collection, minus
// what it has returned to the system: the models and the runtime itself.
func heapBase() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.Sys - ms.HeapReleased)
}

// freeIdle returns memory to the system: two collections empty the
// sessions' buffer pools (a pool keeps its items through one), and
// debug.FreeOSMemory releases the pages.
func freeIdle() {
	runtime.GC()
	debug.FreeOSMemory()
}
