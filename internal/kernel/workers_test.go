package kernel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// countTask counts its runs.
type countTask struct {
	n  *atomic.Int64
	wg *sync.WaitGroup
}

func (t *countTask) Run() {
	t.n.Add(1)
	t.wg.Done()
}

// TestTryRunRaces hands many tasks to the workers from several goroutines
// at once, with workers that park at once (no spinning) so that hand-offs
// and wake-ups interleave every way: each task must run exactly once,
// and a worker must never run a task it was not given.
func TestTryRunRaces(t *testing.T) {
	defer spinFor.Store(spinFor.Load())
	spinFor.Store(0)
	const senders, each = 8, 20000
	var ran atomic.Int64
	var wg sync.WaitGroup
	var senderWG sync.WaitGroup
	for range senders {
		senderWG.Add(1)
		go func() {
			defer senderWG.Done()
			tasks := make([]countTask, each)
			for i := range tasks {
				tasks[i] = countTask{&ran, &wg}
				wg.Add(1)
				if !TryRun(&tasks[i]) {
					tasks[i].Run()
				}
				if i%7 == 0 {
					runtime.Gosched()
				}
			}
		}()
	}
	senderWG.Wait()
	wg.Wait()
	if got := ran.Load(); got != senders*each {
		t.Errorf("%d tasks ran, want %d", got, senders*each)
	}
}
