package serve

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSlowBodies holds 256 connections (the default MaxInFlight) that send
// their bodies at a byte every 100ms, and checks that a normal request
// still answers 200: a request takes an in-flight slot only once its body
// is read. Before that change every normal request got 503 until the
// slow bodies timed out.
func TestSlowBodies(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped in -short mode")
	}
	_, ts := newTestServer(t, Options{MaxBatch: 1})
	addr := strings.TrimPrefix(ts.URL, "http://")
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 256 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		if _, err := io.WriteString(c, "POST /v2/models/lenet5/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			time.Sleep(100 * time.Millisecond)
			for _, c := range conns {
				c.Write([]byte(" "))
			}
		}
	}()
	// Wait until every slow request is in the handler.
	s := ts.Config.Handler.(*Server)
	for i := 0; s.active.Load() < 256; i++ {
		if i == 1000 {
			t.Fatalf("%d of 256 slow requests in the handler after 10s", s.active.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	body := inferBody(t, "input", "FP32", []int{1, 1, 28, 28}, make([]float32, 784))
	for i := range 3 {
		resp, b := do(t, "POST", ts.URL+"/v2/models/lenet5/infer", body)
		if resp.StatusCode != 200 {
			t.Fatalf("request %d beside 256 slow bodies: status %d (%s), want 200", i, resp.StatusCode, b)
		}
	}
}

// TestMemoryBudget sends 3000-image requests (MNIST test images, repeated)
// from 200 concurrent clients to a server with a budget of 1 GiB, for 10s
// and until 3 requests have succeeded, at most 60s, and checks that the process's peak resident memory stays under
// it, that requests still succeed, and that every refusal is a 503 with
// Retry-After. The peak is VmHWM of /proc/self/status, reset through
// /proc/self/clear_refs before the load; where that cannot be reset, the
// largest VmRSS sampled every 10ms. It covers the whole test process:
// the clients share one body and discard the answers.
func TestMemoryBudget(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("load test: skipped in -short mode and under the race detector")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc/self/status")
	}
	const budget = 1 << 30
	const clients, images, least, enough, limit = 200, 3000, 10 * time.Second, 3, 60 * time.Second
	x := readPB(t, "../testdata/pytorch/lenet5/test_data_set_1/input_0.pb")
	data := make([]float32, 0, images*784)
	for len(data) < images*784 {
		data = append(data, x.F32[:min(len(x.F32), images*784-len(data))]...)
	}
	body := []byte(inferBody(t, "input", "FP32", []int{images, 1, 28, 28}, data))
	data = nil
	s, err := New([]Model{{Name: "lenet5", Session: loadLeNet5(t)}}, Options{MaxMemory: budget, IdleRelease: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer s.Close()
	defer ts.Close()

	reset := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	var sampled atomic.Int64
	stop := make(chan struct{})
	sampler := make(chan struct{})
	go func() {
		defer close(sampler)
		for {
			sampled.Store(max(sampled.Load(), procStatus(t, "VmRSS")))
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var mu sync.Mutex
	codes := map[int]int{}
	var ok atomic.Int64
	go func() {
		for ctx.Err() == nil {
			if time.Since(start) >= least && ok.Load() >= enough {
				cancel()
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "POST", ts.URL+"/v2/models/lenet5/infer", bytes.NewReader(body))
				resp, err := client.Do(req)
				if err != nil {
					continue // the time cap, or a connection closed on a refusal
				}
				head := make([]byte, 128)
				n, _ := io.ReadFull(resp.Body, head)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				code := resp.StatusCode
				switch {
				case code == 200 && !bytes.HasPrefix(head[:n], []byte(`{"model_name":"lenet5","model_version":"1","outputs":[{"name":"logits"`)):
					code = -200 // a 200 without the answer
				case code == 503 && resp.Header.Get("Retry-After") == "":
					code = -503
				}
				if code == 200 {
					ok.Add(1)
				}
				mu.Lock()
				codes[code]++
				mu.Unlock()
				if code == 503 {
					select {
					case <-ctx.Done():
					case <-time.After(500 * time.Millisecond):
					}
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	<-sampler
	peak, how := sampled.Load(), "largest VmRSS sampled every 10ms"
	if reset {
		peak, how = procStatus(t, "VmHWM"), "VmHWM after resetting it"
	}
	t.Logf("%d clients x %d images (%d-byte body) for %v: status counts %v; peak RSS %d MiB (%s), budget %d MiB",
		clients, images, len(body), elapsed.Round(time.Millisecond), codes, peak>>20, how, budget>>20)
	if peak > budget {
		t.Errorf("peak RSS %d MiB (%s) is over the budget of %d MiB", peak>>20, how, budget>>20)
	}
	if codes[200] == 0 {
		t.Errorf("no request succeeded: status counts %v", codes)
	}
	for code, n := range codes {
		if code != 200 && code != 503 {
			t.Errorf("%d answers with status %d (-200: a 200 without the logits, -503: a 503 without Retry-After)", n, code)
		}
	}
	// Once idle, the memory held by requests is back to zero.
	for i := 0; s.mem.inUse() != 0; i++ {
		if i == 500 {
			t.Fatalf("requests still hold %d bytes 5s after the load", s.mem.inUse())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// procStatus reads a field of /proc/self/status in bytes.
func procStatus(t *testing.T, key string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Error(err)
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Error(err)
			}
			return kb << 10
		}
	}
	t.Errorf("no %s in /proc/self/status", key)
	return 0
}

// TestBodyCutOff closes the connection halfway through a body: the request
// is logged as 499 (the client went away), not 400, and holds no memory.
func TestBodyCutOff(t *testing.T) {
	s, ts := newTestServer(t, Options{MaxBatch: 1})
	c, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "POST /v2/models/lenet5/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{\"inputs\":")
	for s.active.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	c.Close()
	var got map[[2]string]uint64
	for i := 0; len(got) == 0; i++ {
		if i == 1000 {
			t.Fatal("the request is not counted 10s after its client went")
		}
		time.Sleep(10 * time.Millisecond)
		s.metrics.mu.Lock()
		got = maps.Clone(s.metrics.infer)
		s.metrics.mu.Unlock()
	}
	if got[[2]string{"lenet5", "499"}] != 1 || len(got) != 1 {
		t.Errorf("inference requests by model and code: %v, want one 499", got)
	}
	if n := s.mem.inUse(); n != 0 {
		t.Errorf("%d bytes held, want 0", n)
	}
}
