package kernel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Task is a piece of work that TryRun can hand to a worker goroutine.
type Task interface{ Run() }

// TryRun hands t to an idle worker goroutine, which calls t.Run, and
// reports whether one took it; when every worker is busy it returns false
// and the caller runs t itself. The workers (one fewer than GOMAXPROCS:
// the caller works too) start on first use and live for the life of the
// process, shared by Sgemm and its callers, so that splitting work starts
// no goroutine and allocates nothing (t should be a pointer).
//
// Work comes in bursts of short pieces (a model's layers, a training
// step's), each often tens of microseconds: waking a parked goroutine for
// each would cost as much. So a worker that finishes spins for a while,
// yielding its processor now and then, watching for the next piece, and
// parks only when none comes.
func TryRun(t Task) bool {
	for _, w := range workers() {
		if w.state.CompareAndSwap(idle, claimed) {
			w.task = t
			w.state.Store(ready)
			if w.parked.CompareAndSwap(true, false) {
				w.wake <- struct{}{}
			}
			return true
		}
	}
	return false
}

// worker is one worker goroutine.
type worker struct {
	state  atomic.Int32 // idle, claimed (a caller is setting task) or ready
	task   Task
	parked atomic.Bool
	wake   chan struct{}
}

const (
	idle int32 = iota
	claimed
	ready
)

// spinFor is how long, in nanoseconds, an idle worker watches for work
// before it parks (a variable for the tests).
var spinFor atomic.Int64

func init() { spinFor.Store(int64(100 * time.Microsecond)) }

var (
	workersOnce sync.Once
	allWorkers  []*worker
)

func workers() []*worker {
	workersOnce.Do(func() {
		for range max(1, runtime.GOMAXPROCS(0)-1) {
			w := &worker{wake: make(chan struct{}, 1)}
			allWorkers = append(allWorkers, w)
			go w.loop()
		}
	})
	return allWorkers
}

func (w *worker) loop() {
	for {
		w.await()
		t := w.task
		w.task = nil
		t.Run()
		w.state.Store(idle)
	}
}

// await returns once a task is ready, spinning for spinFor and then
// parking.
func (w *worker) await() {
	for {
		start := time.Now()
		for i := 0; ; i++ {
			if w.state.Load() == ready {
				return
			}
			if i%64 == 63 {
				if time.Since(start) > time.Duration(spinFor.Load()) {
					break
				}
				runtime.Gosched()
			}
		}
		w.parked.Store(true)
		if w.state.Load() == ready && w.parked.CompareAndSwap(true, false) {
			return
		}
		// Parked: the caller that readies a task wakes us (it may already
		// have).
		<-w.wake
		if w.state.Load() == ready {
			return
		}
		// A late wake-up: a caller saw us parked after we had already
		// taken its task and parked again. Wait for the next one.
	}
}
