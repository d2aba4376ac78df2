package serve

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onnxkit/onnxkit/infer"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// TestBatchingChoice checks which models are batched: the affine model and
// PyTorch's LeNet5 pass the probe, and MaxBatch 1 turns batching off.
func TestBatchingChoice(t *testing.T) {
	s, _ := newTestServer(t, Options{MaxBatch: 8})
	if on, why := s.Batching("affine"); !on {
		t.Errorf("Batching(affine) = off (%s), want on", why)
	}
	if on, why := s.Batching("lenet5"); !on {
		t.Errorf("Batching(lenet5) = off (%s), want on", why)
	}
	s1, _ := newTestServer(t, Options{MaxBatch: 1})
	if on, why := s1.Batching("affine"); on || why != "MaxBatch is 1" {
		t.Errorf("MaxBatch 1: Batching(affine) = %v %q, want off, MaxBatch is 1", on, why)
	}
	if why := batchable(affineModel(t)); why != "" {
		t.Errorf("batchable(affine) = %q", why)
	}
}

// TestBatcherGathers holds the only runner while jobs queue up, then lets
// go: the jobs must leave as batches of MaxBatch, each answered with its
// own rows.
func TestBatcherGathers(t *testing.T) {
	s := affineModel(t)
	var mu sync.Mutex
	var sizes []int
	b := newBatcher(s, 4, time.Hour, 1, func(n int) {
		mu.Lock()
		sizes = append(sizes, n)
		mu.Unlock()
	})
	defer b.close()
	b.runners <- struct{}{} // the only runner is busy
	jobs := make([]*job, 8)
	for i := range jobs {
		x := tensor.FromFloat32([]float32{float32(i), 1, 2}, 1, 3)
		k := tensor.FromInt64([]int64{int64(i), 0}, 1, 2)
		jobs[i] = &job{inputs: map[string]*tensor.Tensor{"x": x, "k": k}, rows: 1, done: make(chan result, 1)}
		jobs[i].key = batchKey(s.Inputs(), jobs[i].inputs)
		if err := b.submit(jobs[i]); err != nil {
			t.Fatal(err)
		}
	}
	for len(b.queue) > 4 { // the loop holds the first batch, waiting for the runner
		time.Sleep(time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond)
	<-b.runners
	for i, j := range jobs {
		r := <-j.done
		if r.err != nil {
			t.Fatal(r.err)
		}
		if z := r.outputs["z"]; !equalShape(z.Shape, 1, 2) || z.I64[0] != int64(i)+10 {
			t.Errorf("job %d: z = %v %v, want [1 x 2] starting %d", i, z, z.I64, i+10)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sizes) != 2 || sizes[0] != 4 || sizes[1] != 4 {
		t.Errorf("batch sizes %v, want [4 4]", sizes)
	}
}

func equalShape(s []int, want ...int) bool {
	if len(s) != len(want) {
		return false
	}
	for i := range s {
		if s[i] != want[i] {
			return false
		}
	}
	return true
}

// TestBatcherClose answers queued jobs with errClosed.
func TestBatcherClose(t *testing.T) {
	s := affineModel(t)
	b := newBatcher(s, 4, time.Hour, 1, func(int) {})
	b.runners <- struct{}{}
	j := &job{inputs: map[string]*tensor.Tensor{"x": tensor.New(tensor.Float32, 1, 3), "k": tensor.New(tensor.Int64, 1, 2)}, rows: 1, done: make(chan result, 1)}
	if err := b.submit(j); err != nil {
		t.Fatal(err)
	}
	for len(b.queue) > 0 {
		time.Sleep(time.Millisecond)
	}
	b.close()
	if r := <-j.done; r.err != errClosed {
		t.Errorf("after close: %v, want %v", r.err, errClosed)
	}
	if err := b.submit(j); err != errClosed {
		t.Errorf("submit after close: %v, want %v", err, errClosed)
	}
}

// TestBatchingEquivalence sends concurrent requests of 1 to 3 rows of
// random values to the affine model with batching on, and checks every
// answer against the session run on the request alone, bit for bit, and
// that requests were in fact batched.
func TestBatchingEquivalence(t *testing.T) {
	s, ts := newTestServer(t, Options{MaxBatch: 8, MaxDelay: 20 * time.Millisecond})
	sess := s.models["affine"].Session
	const workers, each = 16, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for range each {
				rows := 1 + rng.IntN(3)
				x := tensor.New(tensor.Float32, rows, 3)
				for i := range x.F32 {
					x.F32[i] = float32(rng.NormFloat64() * 100)
				}
				k := tensor.New(tensor.Int64, rows, 2)
				for i := range k.I64 {
					k.I64[i] = rng.Int64() >> 2
				}
				want, err := sess.Run(map[string]*tensor.Tensor{"x": x, "k": k})
				if err != nil {
					errs <- err
					return
				}
				body := `{"inputs":[{"name":"x","shape":` + mustJSONNoT(x.Shape) + `,"datatype":"FP32","data":` + string(appendData(nil, x)) +
					`},{"name":"k","shape":` + mustJSONNoT(k.Shape) + `,"datatype":"INT64","data":` + string(appendData(nil, k)) + `}]}`
				resp, err := http.Post(ts.URL+"/v2/models/affine/infer", "application/json", strings.NewReader(body))
				if err != nil {
					errs <- err
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs <- &requestError{resp.StatusCode, string(b)}
					return
				}
				var r inferResponse
				if err := json.Unmarshal(b, &r); err != nil {
					errs <- err
					return
				}
				y := float32s(t, r.Outputs[0].Data)
				for i, v := range want["y"].F32 {
					if math.Float32bits(y[i]) != math.Float32bits(v) {
						errs <- &requestError{0, "y differs from the unbatched run: " + string(b)}
						return
					}
				}
				var z []int64
				if err := json.Unmarshal(joinRaw(r.Outputs[1].Data), &z); err != nil || len(z) != len(want["z"].I64) {
					errs <- &requestError{0, "bad z in " + string(b)}
					return
				}
				for i, v := range want["z"].I64 {
					if z[i] != v {
						errs <- &requestError{0, "z differs from the unbatched run: " + string(b)}
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s.metrics.mu.Lock()
	h := s.metrics.batch["affine"]
	s.metrics.mu.Unlock()
	t.Logf("%d requests in %d runs (mean batch %.2f)", workers*each, h.count, h.sum/float64(h.count))
	if h.sum != workers*each {
		t.Errorf("batches hold %v requests, want %d", h.sum, workers*each)
	}
	if h.count >= workers*each {
		t.Errorf("%d runs for %d requests: nothing was batched", h.count, workers*each)
	}
}

func mustJSONNoT(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func joinRaw(raw []json.RawMessage) []byte {
	b := []byte{'['}
	for i, r := range raw {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r...)
	}
	return append(b, ']')
}

// TestShutdownFinishesInFlight starts a request whose body arrives in two
// halves, shuts the server down between them, and checks that the request
// is answered in full and that Shutdown waits for it.
func TestShutdownFinishesInFlight(t *testing.T) {
	for _, maxBatch := range []int{1, 8} {
		s, err := New([]Model{{Name: "lenet5", Session: loadLeNet5(t)}, {Name: "affine", Session: affineModel(t)}}, Options{MaxBatch: maxBatch})
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		hs := &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
		served := make(chan error, 1)
		go func() { served <- hs.Serve(ln) }()

		body := inferBody(t, "x", "FP32", []int{1, 3}, []float32{1, 2, 3})
		body = body[:len(body)-2] + `,{"name":"k","shape":[1,2],"datatype":"INT64","data":[1,2]}]}`
		pr, pw := io.Pipe()
		type answer struct {
			code int
			body string
			err  error
		}
		answered := make(chan answer, 1)
		go func() {
			resp, err := http.Post("http://"+ln.Addr().String()+"/v2/models/affine/infer", "application/json", pr)
			if err != nil {
				answered <- answer{err: err}
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			answered <- answer{resp.StatusCode, string(b), err}
		}()
		pw.Write([]byte(body[:len(body)/2]))
		for s.active.Load() == 0 { // the handler has started
			time.Sleep(time.Millisecond)
		}
		s.Drain()
		shut := make(chan error, 1)
		go func() { shut <- hs.Shutdown(context.Background()) }()
		select {
		case err := <-shut:
			t.Fatalf("MaxBatch %d: Shutdown returned (%v) with a request in flight", maxBatch, err)
		case <-time.After(50 * time.Millisecond):
		}
		// Readiness now says no (checked on the handler: the listener is closed).
		rec := &recorder{ResponseWriter: discardWriter{}}
		s.route(rec, mustRequest(t, "GET", "/v2/health/ready"))
		if rec.status != http.StatusServiceUnavailable {
			t.Errorf("MaxBatch %d: ready while draining: %d, want 503", maxBatch, rec.status)
		}
		pw.Write([]byte(body[len(body)/2:]))
		pw.Close()
		a := <-answered
		want := `{"model_name":"affine","model_version":"1","outputs":[{"name":"y","datatype":"FP32","shape":[1,3],"data":[0.6,0,8.7]},{"name":"z","datatype":"INT64","shape":[1,2],"data":[11,-18]}]}`
		if a.err != nil || a.code != 200 || strings.TrimSpace(a.body) != want {
			t.Errorf("MaxBatch %d: in-flight request: %d %s %v, want 200 %s", maxBatch, a.code, a.body, a.err, want)
		}
		if err := <-shut; err != nil {
			t.Errorf("MaxBatch %d: Shutdown: %v", maxBatch, err)
		}
		if err := <-served; err != http.ErrServerClosed {
			t.Errorf("MaxBatch %d: Serve: %v", maxBatch, err)
		}
		s.Close()
	}
}

type discardWriter struct{}

func (discardWriter) Header() http.Header         { return http.Header{} }
func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (discardWriter) WriteHeader(int)             {}

func mustRequest(t testing.TB, method, path string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestProbeRefuses checks that the probe turns batching off for a model
// whose answers change with the batch size: a Gemm with a transposed B
// computed at run time sums a lone row by dot products and a batch by
// tiles, in another order.
func TestProbeRefuses(t *testing.T) {
	n := onnx.Dim{Param: "N"}
	vi := func(name string, dims ...onnx.Dim) *onnx.ValueInfo {
		return &onnx.ValueInfo{Name: name, DType: tensor.Float32, ElemType: onnx.ElemTypeOf(tensor.Float32), HasShape: true, Shape: dims}
	}
	rng := rand.New(rand.NewPCG(1, 1))
	w := tensor.New(tensor.Float32, 12, 300)
	for i := range w.F32 {
		w.F32[i] = rng.Float32()*2 - 1
	}
	g := &onnx.Graph{
		Name: "dots",
		Nodes: []*onnx.Node{
			{Name: "neg", OpType: "Neg", Inputs: []string{"w"}, Outputs: []string{"wt"}},
			{Name: "fc", OpType: "Gemm", Inputs: []string{"x", "wt"}, Outputs: []string{"y"},
				Attrs: []*onnx.Attribute{{Name: "transB", Type: onnx.AttrInt, I: 1}}},
		},
		Initializers: []*onnx.Initializer{{Name: "w", Tensor: w}},
		Inputs:       []*onnx.ValueInfo{vi("x", n, onnx.Dim{Value: 300})},
		Outputs:      []*onnx.ValueInfo{vi("y", n, onnx.Dim{Value: 12})},
	}
	sess, err := infer.NewSession(&onnx.Model{IRVersion: 8, OpsetImports: []onnx.OpsetImport{{Version: 13}}, Graph: g})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New([]Model{{Name: "dots", Session: sess}}, Options{MaxBatch: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if on, why := s.Batching("dots"); on || !strings.Contains(why, "differs from the row run alone") {
		t.Errorf("Batching(dots) = %v %q, want off with the probe's reason", on, why)
	}
}
