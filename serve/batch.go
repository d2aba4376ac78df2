package serve

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onnxkit/onnxkit/infer"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// job is one inference request on its way through a batcher.
type job struct {
	ctx    context.Context // the request's: a job whose client has gone is dropped
	inputs map[string]*tensor.Tensor
	rows   int    // the first dimension, shared by every input
	elems  int64  // elements of all inputs
	key    string // the other dimensions of every input: jobs batch together only with the same key
	done   chan result
}

// result is a job's answer: every graph output, or an error.
type result struct {
	outputs map[string]*tensor.Tensor
	err     error
}

// errClosed answers requests still queued when the server closes.
var errClosed = errors.New("server closed")

// batcher gathers one model's jobs into batches and runs them on at most
// cap(runners) goroutines at a time.
type batcher struct {
	s        *infer.Session
	outputs  []string
	maxBatch int
	maxDelay time.Duration
	queue    chan *job
	runners  chan struct{} // a token per batch being run
	arriving atomic.Int64  // requests being read that will join the queue
	stop     chan struct{}
	mu       sync.RWMutex // held by submit, taken by close to end submits
	closed   bool
	wg       sync.WaitGroup // the loop and the runs
	observe  func(size int) // records a batch's size
}

func newBatcher(s *infer.Session, maxBatch int, maxDelay time.Duration, runners int, observe func(int)) *batcher {
	b := &batcher{
		s:        s,
		maxBatch: maxBatch,
		maxDelay: maxDelay,
		queue:    make(chan *job, maxBatch*runners),
		runners:  make(chan struct{}, runners),
		stop:     make(chan struct{}),
		observe:  observe,
	}
	for _, o := range s.Outputs() {
		b.outputs = append(b.outputs, o.Name)
	}
	b.wg.Add(1)
	go b.loop()
	return b
}

// submit queues j unless the batcher has stopped or j's request has
// ended first.
func (b *batcher) submit(j *job) error {
	if j.ctx == nil {
		j.ctx = context.Background()
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return errClosed
	}
	select {
	case b.queue <- j:
		return nil
	case <-b.stop:
		return errClosed
	case <-j.ctx.Done():
		return j.ctx.Err()
	}
}

// close stops the loop, answers the jobs still queued with errClosed and
// waits for the batches being run.
func (b *batcher) close() {
	close(b.stop)
	b.mu.Lock() // wait for submits in progress; later ones see closed
	b.closed = true
	b.mu.Unlock()
	b.wg.Wait()
	for {
		select {
		case j := <-b.queue:
			j.done <- result{err: errClosed}
		default:
			return
		}
	}
}

func (b *batcher) loop() {
	defer b.wg.Done()
	var next *job // a job that did not fit the last batch
	for {
		first := next
		next = nil
		if first == nil {
			select {
			case first = <-b.queue:
			case <-b.stop:
				return
			}
		}
		batch := []*job{first}
		// take adds j to the batch, or keeps it for the next one and
		// reports false.
		take := func(j *job) bool {
			if j.key != first.key {
				next = j
				return false
			}
			batch = append(batch, j)
			return true
		}
		// Gather while more requests are on their way, up to maxDelay.
		timer := time.NewTimer(b.maxDelay)
	gather:
		for len(batch) < b.maxBatch {
			if b.arriving.Load() == 0 && len(b.queue) == 0 {
				break
			}
			select {
			case j := <-b.queue:
				if !take(j) {
					break gather
				}
			case <-timer.C:
				break gather
			case <-b.stop:
				break gather
			}
		}
		timer.Stop()
		// Wait for a runner, taking more requests meanwhile.
		for got := false; !got; {
			queue := b.queue
			if next != nil || len(batch) >= b.maxBatch {
				queue = nil // full: only wait
			}
			select {
			case b.runners <- struct{}{}:
				got = true
			case j := <-queue:
				take(j)
			case <-b.stop:
				for _, j := range batch {
					j.done <- result{err: errClosed}
				}
				if next != nil {
					next.done <- result{err: errClosed}
				}
				return
			}
		}
		b.wg.Add(1)
		go func(batch []*job) {
			defer b.wg.Done()
			defer func() { <-b.runners }()
			b.run(batch)
		}(batch)
	}
}

// run runs a batch and answers its jobs. Jobs whose request has ended
// are answered with its error and not run; the run stops when every
// remaining request has ended.
func (b *batcher) run(batch []*job) {
	live := batch[:0]
	rows := 0
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.done <- result{err: err}
			continue
		}
		live = append(live, j)
		rows += j.rows
	}
	batch = live
	if len(batch) == 0 {
		return
	}
	b.observe(len(batch))
	if len(batch) == 1 {
		out, err := b.s.RunContext(batch[0].ctx, batch[0].inputs)
		batch[0].done <- result{out, err}
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var left atomic.Int64
	left.Store(int64(len(batch)))
	for _, j := range batch {
		stop := context.AfterFunc(j.ctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		})
		defer stop()
	}
	in := make(map[string]*tensor.Tensor, len(batch[0].inputs))
	for name := range batch[0].inputs {
		parts := make([]*tensor.Tensor, len(batch))
		for i, j := range batch {
			parts[i] = j.inputs[name]
		}
		in[name] = concat(parts, rows)
	}
	out, err := b.s.RunContext(ctx, in)
	if err != nil {
		for _, j := range batch {
			if j.ctx.Err() != nil {
				err = j.ctx.Err()
			}
			j.done <- result{err: err}
		}
		return
	}
	for _, name := range b.outputs {
		if t := out[name]; t.Rank() == 0 || t.Shape[0] != rows {
			// The probe rules this out; answer each request alone.
			for _, j := range batch {
				o, err := b.s.RunContext(j.ctx, j.inputs)
				j.done <- result{o, err}
			}
			return
		}
	}
	off := 0
	for _, j := range batch {
		o := make(map[string]*tensor.Tensor, len(out))
		for name, t := range out {
			o[name] = rowsOf(t, off, off+j.rows)
		}
		off += j.rows
		j.done <- result{outputs: o}
	}
}

// concat joins tensors that agree in every dimension but the first along
// the first, into a tensor of rows rows.
func concat(parts []*tensor.Tensor, rows int) *tensor.Tensor {
	shape := append([]int{rows}, parts[0].Shape[1:]...)
	t := tensor.New(parts[0].DType, shape...)
	off := 0
	for _, p := range parts {
		n := p.Len()
		switch t.DType {
		case tensor.Float32:
			copy(t.F32[off:], p.F32)
		case tensor.Float64:
			copy(t.F64[off:], p.F64)
		case tensor.Int64:
			copy(t.I64[off:], p.I64)
		case tensor.Int32:
			copy(t.I32[off:], p.I32)
		case tensor.Uint8:
			copy(t.U8[off:], p.U8)
		case tensor.Int8:
			copy(t.I8[off:], p.I8)
		case tensor.Bool:
			copy(t.B[off:], p.B)
		}
		off += n
	}
	return t
}

// rowsOf copies rows [lo, hi) of t's first dimension.
func rowsOf(t *tensor.Tensor, lo, hi int) *tensor.Tensor {
	shape := append([]int{hi - lo}, t.Shape[1:]...)
	r := tensor.New(t.DType, shape...)
	per := 1
	for _, d := range t.Shape[1:] {
		per *= d
	}
	a, z := lo*per, hi*per
	switch t.DType {
	case tensor.Float32:
		copy(r.F32, t.F32[a:z])
	case tensor.Float64:
		copy(r.F64, t.F64[a:z])
	case tensor.Int64:
		copy(r.I64, t.I64[a:z])
	case tensor.Int32:
		copy(r.I32, t.I32[a:z])
	case tensor.Uint8:
		copy(r.U8, t.U8[a:z])
	case tensor.Int8:
		copy(r.I8, t.I8[a:z])
	case tensor.Bool:
		copy(r.B, t.B[a:z])
	}
	return r
}

// batchKey describes the dimensions after the first of every input, in
// graph order; jobs with the same key can be concatenated.
func batchKey(inputs []*onnx.ValueInfo, ts map[string]*tensor.Tensor) string {
	var b strings.Builder
	for _, vi := range inputs {
		t := ts[vi.Name]
		fmt.Fprintf(&b, "%d:%v;", t.DType, t.Shape[1:])
	}
	return b.String()
}

// batchable says whether a model's declared inputs and outputs allow
// batching along the first dimension: every input and output has a known
// rank of at least 1 and a symbolic first dimension, and every other input
// dimension is fixed. It returns the reason when not.
func batchable(s *infer.Session) string {
	if len(s.Inputs()) == 0 {
		return "the model has no inputs"
	}
	for _, vi := range s.Inputs() {
		switch {
		case !vi.HasShape || len(vi.Shape) == 0:
			return fmt.Sprintf("input %q has no batch dimension", vi.Name)
		case !symbolic(vi.Shape[0]):
			return fmt.Sprintf("input %q has a fixed first dimension (%d)", vi.Name, vi.Shape[0].Value)
		case vi.DType == tensor.Invalid:
			return fmt.Sprintf("input %q has an element type the server cannot hold", vi.Name)
		}
		for _, d := range vi.Shape[1:] {
			if symbolic(d) {
				return fmt.Sprintf("input %q has a symbolic dimension after the first", vi.Name)
			}
		}
	}
	for _, vi := range s.Outputs() {
		if !vi.HasShape || len(vi.Shape) == 0 || !symbolic(vi.Shape[0]) {
			return fmt.Sprintf("output %q has no symbolic first dimension", vi.Name)
		}
	}
	return ""
}

func symbolic(d onnx.Dim) bool { return d.Param != "" || d.Value < 0 }

// probe checks that batching does not change a model's answers: rows of
// random inputs run in batches of every size from 2 to maxBatch must give,
// bit for bit, each row's outputs when run alone. It returns "" when they
// do, else the first difference. It runs maxBatch*(maxBatch+1)/2 rows.
func probe(s *infer.Session, maxBatch int) string {
	full, err := randomInputs(s, maxBatch, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		return fmt.Sprintf("a probe batch: %v", err)
	}
	part := func(lo, hi int) map[string]*tensor.Tensor {
		m := make(map[string]*tensor.Tensor, len(full))
		for name, t := range full {
			m[name] = rowsOf(t, lo, hi)
		}
		return m
	}
	singles := make([]map[string]*tensor.Tensor, maxBatch)
	for i := range singles {
		out, err := s.Run(part(i, i+1))
		if err != nil {
			return fmt.Sprintf("a probe run failed: %v", err)
		}
		singles[i] = out
	}
	for b := 2; b <= maxBatch; b++ {
		out, err := s.Run(part(0, b))
		if err != nil {
			return fmt.Sprintf("a probe run of %d rows failed: %v", b, err)
		}
		for name, t := range out {
			if t.Rank() == 0 || t.Shape[0] != b {
				return fmt.Sprintf("output %q of a batch of %d is %v", name, b, t)
			}
			for i := range b {
				if !sameBits(rowsOf(t, i, i+1), singles[i][name]) {
					return fmt.Sprintf("output %q of row %d in a batch of %d differs from the row run alone (an op sums in another order at another batch size)", name, i, b)
				}
			}
		}
	}
	return ""
}

// sameBits reports whether two tensors have the same dtype, shape and
// element bits.
func sameBits(a, b *tensor.Tensor) bool {
	if a.DType != b.DType || !slices.Equal(a.Shape, b.Shape) || !a.Valid() || !b.Valid() {
		return false
	}
	for i := range a.Len() {
		switch a.DType {
		case tensor.Float32:
			if math.Float32bits(a.F32[i]) != math.Float32bits(b.F32[i]) {
				return false
			}
		case tensor.Float64:
			if math.Float64bits(a.F64[i]) != math.Float64bits(b.F64[i]) {
				return false
			}
		default:
			if a.Float64At(i) != b.Float64At(i) {
				return false
			}
		}
	}
	return true
}
