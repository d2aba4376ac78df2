package infer

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
)

// countTask counts how often each item is visited; it fails or panics in
// the range that holds item bad (when bad >= 0).
type countTask struct {
	seen     []atomic.Int32
	bad      int
	panicked bool
}

func (c *countTask) run(lo, hi, worker int) error {
	for i := lo; i < hi; i++ {
		c.seen[i].Add(1)
		if i == c.bad {
			if c.panicked {
				panic("boom")
			}
			return errors.New("bad item")
		}
	}
	return nil
}

func TestParallelFor(t *testing.T) {
	for _, tt := range []struct {
		name       string
		n, workers int
		bad        int
		panicked   bool
		err        string
	}{
		{"serial", 10, 1, -1, false, ""},
		{"split", 100, 4, -1, false, ""},
		{"more workers than items", 3, 8, -1, false, ""},
		{"error in last range", 100, 4, 99, false, "bad item"},
		{"panic in last range", 100, 4, 99, true, "internal error: boom"},
		{"panic in caller's range", 100, 4, 0, true, "internal error: boom"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var s scratch
			// Twice, to reuse the scratch's bookkeeping.
			for range 2 {
				c := &countTask{seen: make([]atomic.Int32, tt.n), bad: tt.bad, panicked: tt.panicked}
				err := parallelFor(&s, tt.n, tt.workers, c)
				if tt.err != "" {
					if err == nil || !strings.Contains(err.Error(), tt.err) {
						t.Fatalf("parallelFor() = %v, want an error containing %q", err, tt.err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("parallelFor() = %v", err)
				}
				for i := range c.seen {
					if v := c.seen[i].Load(); v != 1 {
						t.Fatalf("item %d visited %d times, want 1", i, v)
					}
				}
			}
		})
	}
}
