package serve

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/onnxkit/onnxkit/tensor"
)

func TestBudget(t *testing.T) {
	b := newBudget(100)
	bg := context.Background()
	for _, tt := range []struct {
		name        string
		n           int64
		wait        time.Duration
		err         error
		usedAfter   int64
		releaseSoon int64 // released by another goroutine after 20ms
	}{
		{"fits", 60, 0, nil, 60, 0},
		{"over the total with others", 50, 0, errNoMemory, 60, 0},
		{"never fits", 101, 0, errNeverFits, 60, 0},
		{"waits in vain", 50, 30 * time.Millisecond, errNoMemory, 60, 0},
		{"waits for a release", 50, 5 * time.Second, nil, 80, 30},
		{"nothing", 0, 0, nil, 80, 0},
	} {
		if tt.releaseSoon > 0 {
			go func() {
				time.Sleep(20 * time.Millisecond)
				b.release(tt.releaseSoon)
			}()
		}
		if err := b.acquire(bg, tt.n, tt.wait); err != tt.err {
			t.Errorf("%s: acquire(%d) = %v, want %v", tt.name, tt.n, err, tt.err)
		}
		if got := b.inUse(); got != tt.usedAfter {
			t.Errorf("%s: in use %d, want %d", tt.name, got, tt.usedAfter)
		}
	}
	ctx, cancel := context.WithCancel(bg)
	time.AfterFunc(20*time.Millisecond, cancel)
	if err := b.acquire(ctx, 50, 5*time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("acquire with a canceled request = %v, want %v", err, context.Canceled)
	}
}

// TestMemoryRefusals shrinks a server's budget and checks the answers: 413
// for a request that can never fit, 503 with Retry-After for one that does
// not fit now, 200 once the memory is free, and nothing held afterwards.
func TestMemoryRefusals(t *testing.T) {
	s, ts := newTestServer(t, Options{MaxBatch: 1, MemoryWait: 10 * time.Millisecond})
	m := s.models["lenet5"]
	one := inferBody(t, "input", "FP32", []int{1, 1, 28, 28}, make([]float32, 784))
	// The budget fits a one-image request, whatever the estimates.
	s.mem = newBudget(m.need(s, int64(len(one))) + firstChunk)

	big := inferBody(t, "input", "FP32", []int{64, 1, 28, 28}, make([]float32, 64*784))
	resp, b := do(t, "POST", ts.URL+"/v2/models/lenet5/infer", big)
	if resp.StatusCode != 413 || !strings.Contains(string(b), "over the server's memory budget") {
		t.Errorf("64 images: status %d, %s; want 413, over the server's memory budget", resp.StatusCode, b)
	}
	s.mem.acquire(context.Background(), s.mem.total-1000, 0) // another request's
	resp, b = do(t, "POST", ts.URL+"/v2/models/lenet5/infer", one)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" || !strings.Contains(string(b), "server busy: no memory for this request now") {
		t.Errorf("with the budget taken: status %d, Retry-After %q, %s; want 503, 1, server busy: no memory", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	s.mem.release(s.mem.total - 1000)
	if resp, b := do(t, "POST", ts.URL+"/v2/models/lenet5/infer", one); resp.StatusCode != 200 {
		t.Errorf("with the budget free: status %d (%s), want 200", resp.StatusCode, b)
	}
	if n := s.mem.inUse(); n != 0 {
		t.Errorf("after the requests, %d bytes held, want 0", n)
	}
}

// TestCanceledJobNotRun queues a job whose request has ended behind a busy
// runner: it must be answered with the context's error and never run.
func TestCanceledJobNotRun(t *testing.T) {
	s := affineModel(t)
	runs := make(chan int, 10)
	b := newBatcher(s, 4, time.Millisecond, 1, func(n int) { runs <- n })
	defer b.close()
	b.runners <- struct{}{}
	ctx, cancel := context.WithCancel(context.Background())
	mk := func(ctx context.Context) *job {
		j := &job{ctx: ctx, inputs: map[string]*tensor.Tensor{"x": tensor.New(tensor.Float32, 1, 3), "k": tensor.New(tensor.Int64, 1, 2)}, rows: 1, done: make(chan result, 1)}
		j.key = batchKey(s.Inputs(), j.inputs)
		return j
	}
	gone, live := mk(ctx), mk(context.Background())
	for _, j := range []*job{gone, live} {
		if err := b.submit(j); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	<-b.runners
	if r := <-gone.done; !errors.Is(r.err, context.Canceled) {
		t.Errorf("canceled job: %v, want %v", r.err, context.Canceled)
	}
	if r := <-live.done; r.err != nil || r.outputs["y"] == nil {
		t.Errorf("live job: %v, want its outputs", r.err)
	}
	if n := <-runs; n != 1 {
		t.Errorf("the batch ran %d jobs, want 1 (the canceled one dropped)", n)
	}
}

// TestIdleRelease checks that the server collects garbage (twice, which
// empties the buffer pools) once idle, and that the body pool keeps no
// large buffer.
func TestIdleRelease(t *testing.T) {
	_, ts := newTestServer(t, Options{MaxBatch: 1, IdleRelease: 20 * time.Millisecond})
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.NumForcedGC
	if resp, b := do(t, http.MethodPost, ts.URL+"/v2/models/lenet5/infer", inferBody(t, "input", "FP32", []int{1, 1, 28, 28}, make([]float32, 784))); resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	for i := 0; ; i++ {
		runtime.ReadMemStats(&ms)
		if ms.NumForcedGC >= before+2 {
			break
		}
		if i == 500 {
			t.Fatalf("%d forced collections 5s after the last request, want 2", ms.NumForcedGC-before)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for range 100 {
		putBuf(make([]byte, 0, maxPooled+1))
		if b := getBuf(); cap(b) > maxPooled {
			t.Fatalf("getBuf gave a buffer of %d bytes, over maxPooled %d", cap(b), maxPooled)
		}
	}
}

// TestFootprintCovers checks the run estimate measured at start-up against
// what a run of 3000 rows (far past the measured sizes) allocates, counted
// by the runtime after emptying the session's buffer pool, and the
// default budget against its bounds.
func TestFootprintCovers(t *testing.T) {
	s := loadLeNet5(t)
	f := measureFootprint(s)
	x := tensor.New(tensor.Float32, 3000, 1, 28, 28)
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	if _, err := s.Run(map[string]*tensor.Tensor{"input": x}); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&ms)
	got := int64(ms.TotalAlloc - before)
	if est := f.of(int64(x.Len())); est < got {
		t.Errorf("estimate for 3000 rows %d bytes (%+v), below the %d a run allocated", est, f, got)
	}
	if d := DefaultMaxMemory(); d <= 0 || d > 2<<30 {
		t.Errorf("DefaultMaxMemory() = %d, want in (0, 2 GiB]", d)
	}
}
