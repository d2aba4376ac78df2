package serve

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onnxkit/onnxkit/tensor"
)

// TestLoad drives LeNet5 on loopback with a Go load generator: a bounded
// number of requests (2,000 over 16 workers; 200 under the race detector),
// stopped early at a time cap, each one of MNIST's first 64 test images.
// It requires zero errors and every answer equal to the session's on the
// image alone, and logs requests/s and p50/p99 latency, never asserting
// a time. Configurations:
//
//   - unbatched: MaxBatch 1;
//   - batched: MaxBatch 16, MaxDelay 2ms, as served (LeNet5 is batched only
//     when it passes the probe);
//   - forced: batching without the probe, to measure what batching would
//     gain; its answers may differ from unbatched ones in the last bits, so
//     only the class is checked and the largest difference is logged.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped in -short mode")
	}
	total, workers, limit := 2000, 16, 60*time.Second
	if raceEnabled {
		total = 200
	}
	x := readPB(t, "../testdata/pytorch/lenet5/test_data_set_1/input_0.pb")
	sess := loadLeNet5(t)
	n := x.Shape[0]
	bodies := make([]string, n)
	want := make([]*tensor.Tensor, n)
	for i := range n {
		img := tensor.FromFloat32(x.F32[i*784:(i+1)*784], 1, 1, 28, 28)
		bodies[i] = inferBody(t, "input", "FP32", img.Shape, img.F32)
		out, err := sess.Run(map[string]*tensor.Tensor{"input": img})
		if err != nil {
			t.Fatal(err)
		}
		want[i] = out["logits"]
	}
	for _, cfg := range []struct {
		name string
		opt  Options
	}{
		{"unbatched", Options{MaxBatch: 1}},
		{"batched", Options{MaxBatch: 16, MaxDelay: 2 * time.Millisecond}},
	} {
		t.Run(cfg.name, func(t *testing.T) {
			s, err := New([]Model{{Name: "lenet5", Session: sess}}, cfg.opt)
			if err != nil {
				t.Fatal(err)
			}
			ts := httptest.NewServer(s)
			defer s.Close()
			defer ts.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}, Timeout: 30 * time.Second}
			defer client.CloseIdleConnections()

			// Warm up: each image once, unmeasured.
			for i := range n {
				resp, err := client.Post(ts.URL+"/v2/models/lenet5/infer", "application/json", strings.NewReader(bodies[i]))
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			s.metrics.mu.Lock()
			s.metrics.batch = make(map[string]*histogram)
			s.metrics.mu.Unlock()

			var next, errCount atomic.Int64
			var maxDiff atomic.Uint32 // float32 bits of the largest |difference|
			lat := make([][]time.Duration, workers)
			errs := make(chan string, 10)
			deadline := time.Now().Add(limit)
			start := time.Now()
			var wg sync.WaitGroup
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := int(next.Add(1) - 1)
						if i >= total || time.Now().After(deadline) {
							return
						}
						img := i % n
						t0 := time.Now()
						msg := func() string {
							resp, err := client.Post(ts.URL+"/v2/models/lenet5/infer", "application/json", strings.NewReader(bodies[img]))
							if err != nil {
								return err.Error()
							}
							b, err := io.ReadAll(resp.Body)
							resp.Body.Close()
							if err != nil || resp.StatusCode != 200 {
								return fmt.Sprintf("status %d: %s %v", resp.StatusCode, b, err)
							}
							var r inferResponse
							if err := json.Unmarshal(b, &r); err != nil || len(r.Outputs) != 1 || len(r.Outputs[0].Data) != 10 {
								return fmt.Sprintf("bad response %s", b)
							}
							got := float32s(t, r.Outputs[0].Data)
							for k, v := range want[img].F32 {
								if math.Float32bits(got[k]) != math.Float32bits(v) {
									return fmt.Sprintf("image %d: logits[%d] = %v, want %v bit for bit", img, k, got[k], v)
								}
								d := float32(math.Abs(float64(got[k] - v)))
								for {
									old := maxDiff.Load()
									if d <= math.Float32frombits(old) || maxDiff.CompareAndSwap(old, math.Float32bits(d)) {
										break
									}
								}
							}
							if argmax(got) != argmax(want[img].F32) {
								return fmt.Sprintf("image %d: class %d, want %d", img, argmax(got), argmax(want[img].F32))
							}
							return ""
						}()
						lat[w] = append(lat[w], time.Since(t0))
						if msg != "" {
							errCount.Add(1)
							select {
							case errs <- msg:
							default:
							}
						}
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			close(errs)
			for msg := range errs {
				t.Error(msg)
			}
			var all []time.Duration
			for _, l := range lat {
				all = append(all, l...)
			}
			slices.Sort(all)
			if len(all) < total {
				t.Logf("time cap of %v reached after %d of %d requests", limit, len(all), total)
			}
			if len(all) == 0 {
				t.Fatal("no requests sent")
			}
			s.metrics.mu.Lock()
			h := s.metrics.batch["lenet5"]
			runs, mean := h.count, h.sum/float64(h.count)
			s.metrics.mu.Unlock()
			on, why := s.Batching("lenet5")
			if batched := cfg.opt.MaxBatch > 1; on != batched {
				t.Errorf("Batching(lenet5) = %v (%s), want %v", on, why, batched)
			}
			if why != "" {
				why = " (" + why + ")"
			}
			t.Logf("%s: %d requests, %d workers, %d errors: %.0f requests/s, p50 %.3f ms, p99 %.3f ms; %d runs, mean batch %.2f; batching %v%s; largest |difference| from unbatched %g",
				cfg.name, len(all), workers, errCount.Load(), float64(len(all))/elapsed.Seconds(),
				ms(all[len(all)/2]), ms(all[len(all)*99/100]), runs, mean, on, why, math.Float32frombits(maxDiff.Load()))
		})
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
