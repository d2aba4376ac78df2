package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const servedLeNet5 = "../../testdata/pytorch/lenet5/model.onnx"

func TestServeUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"serve"}, 2, "onnxkit serve: no model: give -model NAME=FILE.onnx\n"},
		{[]string{"serve", "-model", servedLeNet5}, 2, `-model "` + servedLeNet5 + `": want NAME=FILE.onnx`},
		{[]string{"serve", "-model", "=x.onnx"}, 2, `-model "=x.onnx": want NAME=FILE.onnx`},
		{[]string{"serve", "-model", "a=" + servedLeNet5, "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"serve", "-model", "a=" + servedLeNet5, "-max-batch", "0"}, 2, "-max-batch 0: want at least 1"},
		{[]string{"serve", "-model", "a=" + servedLeNet5, "-max-body", "0"}, 2, "limits and timeouts must be positive"},
		{[]string{"serve", "-model", "a=" + servedLeNet5, "-max-memory", "0"}, 2, "limits and timeouts must be positive"},
		{[]string{"serve", "-model", "a=" + servedLeNet5, "-max-memory", "2GB"}, 2, `invalid value "2GB" for flag -max-memory: want a number of bytes, optionally with a suffix k, M, G, Ki, Mi or Gi`},
		{[]string{"serve", "-model", "a=" + servedLeNet5, "-max-memory", "1Mi"}, 1, "serve: MaxMemory 1048576 bytes: the models and the runtime already take"},
		{[]string{"serve", "-model", "a/b=" + servedLeNet5}, 1, `serve: model name "a/b": want letters, digits, '.', '_' and '-'`},
		{[]string{"serve", "-model", "a=" + servedLeNet5, "-model", "a=" + servedLeNet5}, 1, `serve: model "a" given twice`},
		{[]string{"serve", "-model", "a=nonexistent.onnx"}, 1, "nonexistent.onnx"},
		{[]string{"serve", "-model", "a=" + servedLeNet5, "-addr", "256.0.0.1:80"}, 1, "listen tcp"},
	} {
		var out, errOut bytes.Buffer
		code := run(tt.args, &out, &errOut)
		if code != tt.code || !strings.Contains(errOut.String(), tt.want) {
			t.Errorf("onnxkit %q = exit %d, stderr %q; want exit %d and %q", tt.args, code, errOut.String(), tt.code, tt.want)
		}
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"help", "serve"}, &out, &errOut); code != 0 || !strings.Contains(errOut.String(), "-max-batch N") {
		t.Errorf("onnxkit help serve = %d, %q", code, errOut.String())
	}
}

// servingBinary starts the built onnxkit serve on a free loopback port and
// returns the process, its base URL and its stderr so far (a growing log).
type servingBinary struct {
	cmd  *exec.Cmd
	url  string
	mu   sync.Mutex
	log  bytes.Buffer
	done chan error
}

func (s *servingBinary) stderr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

func startServing(t *testing.T, bin string, args ...string) *servingBinary {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "-addr", "127.0.0.1:0", "-model", "lenet5=" + servedLeNet5}, args...)...)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &servingBinary{cmd: cmd, done: make(chan error, 1)}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			s.mu.Lock()
			s.log.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			var rec struct{ Msg, URL string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "listening" {
				urls <- rec.URL
			}
		}
		s.done <- cmd.Wait()
	}()
	select {
	case s.url = <-urls:
	case err := <-s.done:
		t.Fatalf("onnxkit serve exited (%v) before listening:\n%s", err, s.stderr())
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("onnxkit serve did not listen within 30s:\n%s", s.stderr())
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return s
}

// TestServeShutdown runs the built command, sends SIGTERM while an
// inference request is in flight (its body half sent), and checks that the
// request is answered, readiness turned off, and the command exits 0 after
// logging each request.
func TestServeShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin := filepath.Join(t.TempDir(), "onnxkit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	s := startServing(t, bin, "-max-batch", "1")
	if resp, err := http.Get(s.url + "v2/health/ready"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("ready: %v %v", resp, err)
	}
	// Hold an inference request in flight: half its body sent.
	zeros, _ := json.Marshal(make([]float32, 784))
	body := `{"inputs":[{"name":"input","shape":[1,1,28,28],"datatype":"FP32","data":` + string(zeros) + `}]}`
	pr, pw := io.Pipe()
	type answer struct {
		code int
		body string
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := http.Post(s.url+"v2/models/lenet5/infer", "application/json", pr)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		answered <- answer{resp.StatusCode, string(b), err}
	}()
	pw.Write([]byte(body[:len(body)/2]))
	for i := 0; ; i++ {
		resp, err := http.Get(s.url + "metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), "onnxkit_inference_requests_in_flight 1\n") {
			break
		}
		if i == 1000 {
			t.Fatalf("the request never got in flight:\n%s", b)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(s.stderr(), `"msg":"shutting down"`) {
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-s.done:
		t.Fatalf("exited (%v) with a request in flight:\n%s", err, s.stderr())
	case <-time.After(100 * time.Millisecond):
	}
	pw.Write([]byte(body[len(body)/2:]))
	pw.Close()
	a := <-answered
	if a.err != nil || a.code != 200 || !strings.HasPrefix(a.body, `{"model_name":"lenet5","model_version":"1","outputs":[{"name":"logits","datatype":"FP32","shape":[1,10],"data":[`) {
		t.Errorf("in-flight request: %d %q %v; want 200 and the logits", a.code, a.body, a.err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("onnxkit serve after SIGTERM: %v, want exit status 0\n%s", err, s.stderr())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("still running 30s after SIGTERM:\n%s", s.stderr())
	}

	// The log: one JSON record per line, the model's batching, each request, the shutdown.
	var msgs []string
	var inferLogged bool
	for _, line := range strings.Split(strings.TrimSpace(s.stderr()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		msgs = append(msgs, fmt.Sprint(rec["msg"]))
		if rec["msg"] == "request" && rec["path"] == "/v2/models/lenet5/infer" {
			inferLogged = rec["method"] == "POST" && rec["status"] == 200.0 && rec["model"] == "lenet5" && rec["bytes"].(float64) > 0
		}
	}
	if !inferLogged {
		t.Errorf("no access log record of the inference request:\n%s", s.stderr())
	}
	// The in-flight request ends after the shutdown began, before it ended.
	if got := strings.Join(msgs, " "); !strings.HasPrefix(got, "model listening request") || !strings.HasSuffix(got, "shutting down request stopped") {
		t.Errorf("log messages %q, want model, listening, requests, shutting down, the in-flight request, stopped", got)
	}

	// SIGINT on an idle server exits 0 at once.
	s = startServing(t, bin)
	if err := s.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		if err != nil {
			t.Errorf("onnxkit serve after SIGINT: %v, want exit status 0\n%s", err, s.stderr())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("still running 30s after SIGINT:\n%s", s.stderr())
	}
}

func TestByteSize(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1536Mi", 1536 << 20, true},
		{"2Gi", 2 << 30, true},
		{"64Ki", 64 << 10, true},
		{"1500000000", 1500000000, true},
		{"3G", 3e9, true},
		{"5M", 5e6, true},
		{"7k", 7000, true},
		{"2GB", 0, false},
		{"-1", 0, false},
		{"1.5Gi", 0, false},
		{"9000000000Gi", 0, false}, // overflows int64
		{"", 0, false},
	} {
		var b byteSize
		err := b.Set(tt.in)
		if (err == nil) != tt.ok || (tt.ok && int64(b) != tt.want) {
			t.Errorf("byteSize.Set(%q) = %d, %v; want %d, ok %v", tt.in, b, err, tt.want, tt.ok)
		}
	}
	for _, tt := range []struct {
		b    byteSize
		want string
	}{{2 << 30, "2Gi"}, {1536 << 20, "1536Mi"}, {1000, "1000"}, {3 << 10, "3Ki"}, {0, "0"}} {
		if got := tt.b.String(); got != tt.want {
			t.Errorf("byteSize(%d).String() = %q, want %q", int64(tt.b), got, tt.want)
		}
	}
}
