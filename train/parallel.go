package train

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// chunkFunc does the work of chunk number chunk, items lo..hi-1, on worker
// number worker (0 <= worker < workers(); per-worker scratch is indexed by
// it). A chunk's result must not depend on the worker that runs it.
type chunkFunc func(worker, chunk, lo, hi int)

// maxChunks is the number of chunks work over a batch is split into.
const maxChunks = 4

// chunkSize is the number of items per chunk for n items. It depends on n
// only, never on the number of workers, so that sums reduced chunk by chunk
// in chunk order are the same with any GOMAXPROCS: results are
// deterministic.
func chunkSize(n int) int { return max(1, (n+maxChunks-1)/maxChunks) }

// numChunks is the number of chunks of size size covering n items.
func numChunks(n, size int) int { return (n + size - 1) / size }

// workerPool runs chunkFuncs on a fixed set of goroutines. Workers pick
// chunks in any order; the caller's goroutine is worker 0. A panic in a
// chunk is caught on its worker and re-raised on the caller's goroutine
// after all workers are done.
type workerPool struct {
	mu   sync.Mutex // one job at a time
	n    int
	wake chan struct{}

	// The current job.
	fn       chunkFunc
	items    int
	size     int
	chunks   int64
	next     atomic.Int64
	wg       sync.WaitGroup
	pmu      sync.Mutex
	panicked any
}

var (
	poolMu  sync.Mutex
	thePool *workerPool
)

// pool returns the shared pool, starting it with GOMAXPROCS workers on
// first use.
func pool() *workerPool {
	poolMu.Lock()
	defer poolMu.Unlock()
	if thePool == nil {
		thePool = newWorkerPool(runtime.GOMAXPROCS(0))
	}
	return thePool
}

// setWorkers replaces the shared pool by one with n workers, or GOMAXPROCS
// workers for n <= 0 (for tests).
func setWorkers(n int) {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	poolMu.Lock()
	defer poolMu.Unlock()
	if thePool != nil {
		thePool.mu.Lock()
		close(thePool.wake)
		thePool.mu.Unlock()
	}
	thePool = newWorkerPool(n)
}

func newWorkerPool(n int) *workerPool {
	n = max(n, 1)
	p := &workerPool{n: n, wake: make(chan struct{}, n)}
	for w := 1; w < n; w++ {
		go func() {
			for range p.wake {
				p.loop(w)
				p.wg.Done()
			}
		}()
	}
	return p
}

// workers is the number of workers, at least 1.
func (p *workerPool) workers() int { return p.n }

// run splits items 0..n-1 into chunks of size items and calls fn once per
// chunk, in parallel. It returns when all chunks are done.
func (p *workerPool) run(n, size int, fn chunkFunc) {
	if n <= 0 {
		return
	}
	chunks := numChunks(n, size)
	if p.n == 1 || chunks == 1 {
		for c := range chunks {
			fn(0, c, c*size, min(n, (c+1)*size))
		}
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fn, p.items, p.size, p.chunks, p.panicked = fn, n, size, int64(chunks), nil
	p.next.Store(0)
	helpers := min(p.n-1, chunks-1)
	p.wg.Add(helpers)
	for range helpers {
		p.wake <- struct{}{}
	}
	p.loop(0)
	p.wg.Wait()
	p.fn = nil
	if p.panicked != nil {
		panic(fmt.Sprintf("train: parallel chunk: %v", p.panicked))
	}
}

// loop takes chunks until none are left.
func (p *workerPool) loop(w int) {
	defer func() {
		if r := recover(); r != nil {
			p.pmu.Lock()
			if p.panicked == nil {
				p.panicked = r
			}
			p.pmu.Unlock()
			// Leave the remaining chunks to the other workers; the
			// job fails anyway.
		}
	}()
	for {
		c := p.next.Add(1) - 1
		if c >= p.chunks {
			return
		}
		lo := int(c) * p.size
		p.fn(w, int(c), lo, min(p.items, lo+p.size))
	}
}
