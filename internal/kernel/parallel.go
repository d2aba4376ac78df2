package kernel

import (
	"runtime"
	"sync"
)

// Parallel calls fn on consecutive ranges [lo, hi) that together cover
// [0, n), at most one range per GOMAXPROCS, each in its own goroutine
// (the caller's goroutine runs the first), and returns when all calls have
// returned. The ranges differ in length by at most one. With n <= 1 or
// GOMAXPROCS 1 it is a plain call fn(0, n) (none when n <= 0). Splitting
// costs a few microseconds: n should count pieces of work worth that.
//
// A panic in any call is recovered and, once every call has returned,
// raised again, with the same value, in the caller's goroutine (the first
// one by range when several calls panic).
func Parallel(n int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	workers := min(n, runtime.GOMAXPROCS(0))
	if workers <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	panics := make([]any, workers)
	run := func(w int) {
		defer func() {
			if p := recover(); p != nil {
				panics[w] = p
			}
		}()
		fn(w*n/workers, (w+1)*n/workers)
	}
	wg.Add(workers - 1)
	for w := 1; w < workers; w++ {
		go func() {
			defer wg.Done()
			run(w)
		}()
	}
	run(0)
	wg.Wait()
	for _, p := range panics {
		if p != nil {
			panic(p)
		}
	}
}
