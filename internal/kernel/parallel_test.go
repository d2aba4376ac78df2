package kernel

import (
	"runtime"
	"sync"
	"testing"
)

func TestParallel(t *testing.T) {
	for _, procs := range []int{1, 2, 3} {
		old := runtime.GOMAXPROCS(procs)
		for _, n := range []int{0, 1, 2, 3, 5, 100} {
			var mu sync.Mutex
			seen := make([]int, n)
			calls := 0
			Parallel(n, func(lo, hi int) {
				mu.Lock()
				defer mu.Unlock()
				calls++
				for i := lo; i < hi; i++ {
					seen[i]++
				}
			})
			for i, c := range seen {
				if c != 1 {
					t.Errorf("GOMAXPROCS %d: Parallel(%d): index %d covered %d times, want 1", procs, n, i, c)
				}
			}
			if want := min(n, procs); calls != want {
				t.Errorf("GOMAXPROCS %d: Parallel(%d) made %d calls, want %d", procs, n, calls, want)
			}
		}
		runtime.GOMAXPROCS(old)
	}
}

// A panic in a worker goroutine comes back to the caller.
func TestParallelPanic(t *testing.T) {
	old := runtime.GOMAXPROCS(4)
	defer runtime.GOMAXPROCS(old)
	defer func() {
		if p := recover(); p != "boom" {
			t.Errorf("Parallel with a panicking range: recovered %v, want boom", p)
		}
	}()
	Parallel(8, func(lo, hi int) {
		if lo >= 6 { // the last range: another goroutine's
			panic("boom")
		}
	})
}
