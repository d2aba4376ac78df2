package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/onnxkit/onnxkit/infer"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// Model is a model to serve.
type Model struct {
	// Name is the model's name in URLs: letters, digits, '.', '_' and '-'.
	Name    string
	Session *infer.Session
	// Mean and Std are the drawing page's preprocessing for an MNIST
	// classifier: pixels in [0, 1] are fed as (p-Mean)/Std. A zero Std
	// means 1.
	Mean, Std float32
	// Classes, when not nil, names the classes in score order (the
	// metadata onnxkit train records): the model metadata lists them as
	// parameters.classes and the drawing page shows them.
	Classes []string
}

// Options tunes a Server. The zero value is the default.
type Options struct {
	// Name and Version are the server metadata; the defaults are "onnxkit"
	// and the module's version from the build information.
	Name, Version string
	// MaxBatch is the most requests run as one batch (default 16); 1 turns
	// dynamic batching off.
	MaxBatch int
	// MaxDelay is the longest a batch waits for more requests after its
	// first (default 2ms).
	MaxDelay time.Duration
	// MaxBody is the largest request body in bytes (default 16 MiB).
	MaxBody int64
	// MaxElements is the largest tensor in a request, in elements (default
	// 4Mi).
	MaxElements int
	// MaxInFlight is the most inference requests computing at once, read
	// and decoded, waiting for or in a run (default 256); more are refused
	// with 503. Requests still sending their body do not count.
	MaxInFlight int
	// MaxMemory is the server's memory budget in bytes (default
	// DefaultMaxMemory()). New sets the Go runtime's soft memory limit
	// (debug.SetMemoryLimit) just under it, and Close restores the previous
	// limit. Of what the models leave, half is shared by requests: their
	// bodies while read, decoded tensors, runs (activations estimated per
	// input element at start-up) and encoded responses. A request that
	// does not fit waits up to MemoryWait and is then refused with 503 and
	// Retry-After; one that could never fit, with 413.
	MaxMemory int64
	// MemoryWait is how long a request waits for memory (default 1s).
	MemoryWait time.Duration
	// IdleRelease is how long the server waits without inference requests
	// before returning free memory to the system (default 5s).
	IdleRelease time.Duration
	// Logger, when set, gets one access log record per request.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Name == "" {
		o.Name = "onnxkit"
	}
	if o.Version == "" {
		o.Version = "devel"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			o.Version = bi.Main.Version
		}
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = 16
	}
	if o.MaxDelay == 0 {
		o.MaxDelay = 2 * time.Millisecond
	}
	if o.MaxBody == 0 {
		o.MaxBody = 16 << 20
	}
	if o.MaxElements == 0 {
		o.MaxElements = 4 << 20
	}
	if o.MaxInFlight == 0 {
		o.MaxInFlight = 256
	}
	if o.MaxMemory == 0 {
		o.MaxMemory = DefaultMaxMemory()
	}
	if o.MemoryWait == 0 {
		o.MemoryWait = time.Second
	}
	if o.IdleRelease == 0 {
		o.IdleRelease = 5 * time.Second
	}
	return o
}

// Server is an http.Handler serving models in the Open Inference Protocol.
// Create it with New; after the http.Server using it has shut down, call
// Close.
type Server struct {
	opt      Options
	models   map[string]*model
	names    []string      // in the order given
	inFlight chan struct{} // a token per request computing
	active   atomic.Int64  // inference requests in the handler
	mem      *budget
	limit    int64 // the runtime's memory limit before New
	idle     *time.Timer
	draining atomic.Bool
	metrics  *metrics
	page     []byte
	closed   sync.Once
}

// model is a served model with its metadata prepared once.
type model struct {
	Model
	meta     []byte // the metadata response
	inputs   []*onnx.ValueInfo
	outputs  map[string]bool
	batcher  *batcher // nil when requests run one at a time
	whyNot   string   // why batcher is nil
	cost     footprint
	elemSize int // the largest element size of the inputs
	datatype map[string]string
}

var validName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// New prepares models for serving. For each model that may be batched
// (see the package documentation) it runs the batching probe, which costs
// MaxBatch*(MaxBatch+1)/2 rows of inference.
func New(models []Model, opt Options) (*Server, error) {
	opt = opt.withDefaults()
	switch {
	case opt.MaxBatch < 1:
		return nil, fmt.Errorf("serve: MaxBatch %d: want at least 1", opt.MaxBatch)
	case opt.MaxDelay < 0 || opt.MaxBody < 0 || opt.MaxElements < 0 || opt.MaxInFlight < 0 ||
		opt.MaxMemory < 0 || opt.MemoryWait < 0 || opt.IdleRelease < 0:
		return nil, errors.New("serve: negative limit in options")
	case len(models) == 0:
		return nil, errors.New("serve: no models")
	}
	s := &Server{
		opt:      opt,
		models:   make(map[string]*model),
		inFlight: make(chan struct{}, opt.MaxInFlight),
	}
	s.metrics = newMetrics(s.gauges)
	for _, m := range models {
		if !validName.MatchString(m.Name) || m.Name == "." || m.Name == ".." {
			return nil, fmt.Errorf("serve: model name %q: want letters, digits, '.', '_' and '-'", m.Name)
		}
		if s.models[m.Name] != nil {
			return nil, fmt.Errorf("serve: model %q given twice", m.Name)
		}
		if m.Session == nil {
			return nil, fmt.Errorf("serve: model %q: no session", m.Name)
		}
		if m.Std == 0 {
			m.Std = 1
		}
		sm := &model{Model: m, inputs: m.Session.Inputs(), outputs: make(map[string]bool), datatype: make(map[string]string)}
		md := modelMetadata{Name: m.Name, Versions: []string{"1"}, Platform: "onnx", Inputs: []tensorMetadata{}, Outputs: []tensorMetadata{}}
		if m.Classes != nil {
			md.Parameters = map[string]any{"classes": m.Classes}
		}
		for _, vi := range sm.inputs {
			sm.elemSize = max(sm.elemSize, vi.DType.Size(), 1)
			d := describeValue(vi)
			md.Inputs = append(md.Inputs, d)
			sm.datatype[vi.Name] = d.Datatype
		}
		for _, vi := range m.Session.Outputs() {
			md.Outputs = append(md.Outputs, describeValue(vi))
			sm.outputs[vi.Name] = true
		}
		sm.meta, _ = json.Marshal(md)
		switch {
		case opt.MaxBatch == 1:
			sm.whyNot = "MaxBatch is 1"
		default:
			sm.whyNot = batchable(m.Session)
			if sm.whyNot == "" {
				sm.whyNot = probe(m.Session, opt.MaxBatch)
			}
		}
		sm.cost = measureFootprint(m.Session)
		if sm.whyNot == "" {
			name := m.Name
			sm.batcher = newBatcher(m.Session, opt.MaxBatch, opt.MaxDelay, runtime.GOMAXPROCS(0),
				func(n int) { s.metrics.batchSize(name, n) })
		}
		s.models[m.Name] = sm
		s.names = append(s.names, m.Name)
	}
	page, err := renderPage(s)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.page = page
	limit := opt.MaxMemory - opt.MaxMemory/16 // room for what the runtime does not count: code, thread stacks
	base := heapBase()
	if base >= limit {
		s.Close()
		return nil, fmt.Errorf("serve: MaxMemory %d bytes: the models and the runtime already take %d", opt.MaxMemory, base)
	}
	s.mem = newBudget((limit - base) / 2)
	s.limit = debug.SetMemoryLimit(limit)
	s.idle = time.AfterFunc(time.Hour, func() {
		if s.active.Load() == 0 {
			freeIdle()
		}
	})
	s.idle.Stop()
	return s, nil
}

func (s *Server) gauges() []gauge {
	g := []gauge{
		{"onnxkit_inference_requests_in_flight", "Inference requests being handled: read, waiting or computing.", s.active.Load()},
		{"onnxkit_inference_requests_computing", "Inference requests read and decoded, waiting for or in a run (at most -max-in-flight).", int64(len(s.inFlight))},
	}
	if s.mem != nil {
		g = append(g,
			gauge{"onnxkit_memory_budget_bytes", "Memory that requests may hold: bodies, tensors, runs and responses.", s.mem.total},
			gauge{"onnxkit_memory_held_bytes", "Memory that requests hold now, of the budget.", s.mem.inUse()})
	}
	return g
}

// Batching reports whether requests for the named model are batched, and
// why not when they are not.
func (s *Server) Batching(name string) (on bool, whyNot string) {
	m := s.models[name]
	if m == nil {
		return false, "no such model"
	}
	return m.batcher != nil, m.whyNot
}

// Drain marks the server not ready (GET /v2/health/ready answers 503), for
// the time between a shutdown signal and the end of the requests in flight.
func (s *Server) Drain() { s.draining.Store(true) }

// Close stops the batchers, answering requests still queued with an error.
// Call it after the http.Server has shut down.
func (s *Server) Close() {
	s.closed.Do(func() {
		s.Drain()
		if s.mem != nil {
			s.idle.Stop()
			debug.SetMemoryLimit(s.limit)
		}
		for _, m := range s.models {
			if m.batcher != nil {
				m.batcher.close()
			}
		}
	})
}

// recorder remembers a response's status and size for logs and metrics.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// ServeHTTP routes a request, then logs it and counts it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w}
	handler, model := s.route(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	d := time.Since(start)
	s.metrics.request(handler, model, rec.status, d)
	if s.opt.Logger != nil {
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Float64("duration_ms", float64(d.Microseconds())/1000),
			slog.Int64("bytes", rec.bytes),
			slog.String("remote", r.RemoteAddr),
		}
		if model != "" {
			attrs = append(attrs, slog.String("model", model))
		}
		s.opt.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
	}
}

// route serves r and returns the handler's name for metrics and, for
// inference requests, the model's name.
func (s *Server) route(w http.ResponseWriter, r *http.Request) (handler, model string) {
	p := r.URL.Path
	switch {
	case p == "/":
		if allow(w, r, http.MethodGet) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-cache")
			w.Write(s.page)
		}
		return "page", ""
	case strings.HasPrefix(p, "/static/"):
		if allow(w, r, http.MethodGet) {
			serveStatic(w, r, strings.TrimPrefix(p, "/static/"))
		}
		return "static", ""
	case p == "/metrics":
		if allow(w, r, http.MethodGet) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
			s.metrics.write(w)
		}
		return "metrics", ""
	case p == "/v2" || p == "/v2/":
		if allow(w, r, http.MethodGet) {
			writeJSON(w, http.StatusOK, serverMetadata{Name: s.opt.Name, Version: s.opt.Version, Extensions: []string{}})
		}
		return "metadata", ""
	case p == "/v2/health/live":
		if allow(w, r, http.MethodGet) {
			w.WriteHeader(http.StatusOK)
		}
		return "health", ""
	case p == "/v2/health/ready":
		if allow(w, r, http.MethodGet) {
			if s.draining.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
			} else {
				w.WriteHeader(http.StatusOK)
			}
		}
		return "health", ""
	case strings.HasPrefix(p, "/v2/models/"):
		return s.routeModel(w, r, strings.Split(strings.TrimPrefix(p, "/v2/models/"), "/"))
	}
	writeError(w, http.StatusNotFound, "no such path: %s", p)
	return "other", ""
}

// routeModel serves /v2/models/NAME[/versions/V][/ready|/infer].
func (s *Server) routeModel(w http.ResponseWriter, r *http.Request, parts []string) (handler, model string) {
	m := s.models[parts[0]]
	if m == nil {
		writeError(w, http.StatusNotFound, "unknown model %q", parts[0])
		return "metadata", ""
	}
	rest := parts[1:]
	if len(rest) >= 2 && rest[0] == "versions" {
		if rest[1] != "1" {
			writeError(w, http.StatusNotFound, "model %q has no version %q (its only version is 1)", m.Name, rest[1])
			return "metadata", ""
		}
		rest = rest[2:]
	}
	switch {
	case len(rest) == 0:
		if allow(w, r, http.MethodGet) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(m.meta)
		}
		return "metadata", ""
	case len(rest) == 1 && rest[0] == "ready":
		if allow(w, r, http.MethodGet) {
			w.WriteHeader(http.StatusOK)
		}
		return "health", ""
	case len(rest) == 1 && rest[0] == "infer":
		if allow(w, r, http.MethodPost) {
			s.infer(w, r, m)
		}
		return "infer", m.Name
	}
	writeError(w, http.StatusNotFound, "no such path: %s", r.URL.Path)
	return "other", ""
}

// allow answers 405 with an Allow header unless r uses method (GET also
// allows HEAD).
func allow(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method || (method == http.MethodGet && r.Method == http.MethodHead) {
		return true
	}
	allowed := method
	if method == http.MethodGet {
		allowed = "GET, HEAD"
	}
	w.Header().Set("Allow", allowed)
	writeError(w, http.StatusMethodNotAllowed, "method %s not allowed: use %s", r.Method, allowed)
	return false
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"encoding the response failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b)
}

func writeError(w http.ResponseWriter, code int, format string, args ...any) {
	writeJSON(w, code, errorResponse{Error: fmt.Sprintf(format, args...)})
}

// requestError is a failure with its status code.
type requestError struct {
	code int
	msg  string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &requestError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// Buffers of at most maxPooled bytes are kept for later requests; larger
// ones are left to the collector, so that the pool never pins the memory
// of one large request.
const maxPooled = 256 << 10

var bufPool = sync.Pool{New: func() any { return new([]byte) }}

func getBuf() []byte { return (*bufPool.Get().(*[]byte))[:0] }

func putBuf(b []byte) {
	if cap(b) <= maxPooled {
		bufPool.Put(&b)
	}
}

// holding is the part of the memory budget one request holds.
type holding struct {
	s *Server
	r *http.Request
	n int64
}

// take adds n bytes, waiting up to Options.MemoryWait.
func (h *holding) take(n int64) error {
	if n <= 0 {
		return nil
	}
	err := errNeverFits
	if h.n+n <= h.s.mem.total {
		err = h.s.mem.acquire(h.r.Context(), n, h.s.opt.MemoryWait)
	}
	if err != nil {
		switch err {
		case errNeverFits:
			return &requestError{http.StatusRequestEntityTooLarge, fmt.Sprintf("request needs about %s, over the server's memory budget of %s", mib(h.n+n), mib(h.s.mem.total))}
		case errNoMemory:
			return &requestError{http.StatusServiceUnavailable, fmt.Sprintf("server busy: no memory for this request now (it needs about %s of the %s budget)", mib(h.n+n), mib(h.s.mem.total))}
		}
		return &requestError{statusClientClosed, "request canceled: " + err.Error()}
	}
	h.n += n
	return nil
}

// upTo makes the holding at least n bytes, or all of the budget when n is
// over it (the exact need, known later, decides whether the request can
// ever fit).
func (h *holding) upTo(n int64) error {
	return h.take(min(n, h.s.mem.total) - h.n)
}

// give returns n bytes.
func (h *holding) give(n int64) {
	h.s.mem.release(n)
	h.n -= n
}

func mib(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// statusClientClosed answers, for the log and metrics only, a request
// whose client went away (nginx's convention).
const statusClientClosed = 499

// infer serves POST /v2/models/NAME/infer. It reads and decodes the body,
// takes the memory the run and response will need, and only then an
// in-flight slot; the memory is given back after the response is written.
func (s *Server) infer(w http.ResponseWriter, r *http.Request, m *model) {
	s.active.Add(1)
	defer func() {
		if s.active.Add(-1) == 0 {
			s.idle.Reset(s.opt.IdleRelease)
		}
	}()
	h := &holding{s: s, r: r}
	defer func() { s.mem.release(h.n) }()
	fail := func(err error) {
		var re *requestError
		if errors.As(err, &re) {
			if re.code == http.StatusServiceUnavailable {
				w.Header().Set("Retry-After", "1")
			}
			writeError(w, re.code, "%s", re.msg)
		} else {
			writeError(w, http.StatusBadRequest, "%v", err)
		}
	}
	body, err := s.readBody(w, r, m, h)
	if err != nil {
		fail(err)
		return
	}
	if m.batcher != nil {
		m.batcher.arriving.Add(1)
	}
	j, req, err := s.decodeRequest(body, m, h)
	if err == nil {
		select {
		case s.inFlight <- struct{}{}:
			defer func() { <-s.inFlight }()
		default:
			err = &requestError{http.StatusServiceUnavailable, fmt.Sprintf("server busy: %d inference requests in flight", cap(s.inFlight))}
		}
	}
	if m.batcher != nil {
		m.batcher.arriving.Add(-1)
	}
	if err != nil {
		fail(err)
		return
	}

	var res result
	j.ctx = r.Context()
	if m.batcher != nil {
		j.done = make(chan result, 1)
		if err := m.batcher.submit(j); err != nil {
			code := http.StatusServiceUnavailable
			if r.Context().Err() != nil {
				code = statusClientClosed
			}
			writeError(w, code, "%v", err)
			return
		}
		// Wait even if the client has gone: the batcher drops the job
		// before running it, and until then the job holds its memory.
		res = <-j.done
	} else {
		s.metrics.batchSize(m.Name, 1)
		res.outputs, res.err = m.Session.RunContext(j.ctx, j.inputs)
	}
	if res.err != nil {
		code := http.StatusInternalServerError
		switch {
		case res.err == errClosed:
			code = http.StatusServiceUnavailable
		case r.Context().Err() != nil:
			code = statusClientClosed
		}
		writeError(w, code, "model %q: %v", m.Name, res.err)
		return
	}
	j.inputs = nil
	b := encodeResponse(getBuf(), m, req, res.outputs)
	res.outputs = nil
	defer putBuf(b)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

// readBody reads the request body up to Options.MaxBody into a buffer
// from the pool; the caller gives it back with putBuf. The memory of the
// whole request is taken from the budget before its body is: first a small
// chunk, so that a slow body holds no more, then, once that is full, the
// estimate for the declared length at once (model.need). A body of
// unknown length grows by doubling, taking the estimate for each size.
// One request thus waits for memory while holding at most firstChunk, and
// bodies cannot block each other.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, m *model, h *holding) ([]byte, error) {
	if r.ContentLength > s.opt.MaxBody {
		return nil, &requestError{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body of %d bytes is over the limit of %d", r.ContentLength, s.opt.MaxBody)}
	}
	rd := http.MaxBytesReader(w, r.Body, s.opt.MaxBody)
	first := min(firstChunk, s.opt.MaxBody+1)
	if r.ContentLength >= 0 {
		first = min(first, r.ContentLength+1) // one more byte to see the end
	}
	buf := getBuf()
	if int64(cap(buf)) < first {
		buf = make([]byte, 0, first)
	}
	buf = buf[:0:first] // hold no more than first, whatever the pooled size
	if err := h.take(int64(cap(buf))); err != nil {
		return nil, err
	}
	for {
		if len(buf) == cap(buf) {
			n := int64(2 * cap(buf))
			if r.ContentLength >= 0 {
				n = max(r.ContentLength+1, int64(cap(buf))+1)
			}
			n = min(n, s.opt.MaxBody+1)
			// The old buffer is still held while the new one is filled.
			if err := h.upTo(int64(cap(buf)) + m.need(s, n)); err != nil {
				return nil, err
			}
			nb := make([]byte, len(buf), n)
			copy(nb, buf)
			putBuf(buf)
			buf = nb
		}
		k, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		var mbe *http.MaxBytesError
		switch {
		case err == io.EOF:
			if err := h.upTo(m.need(s, int64(len(buf)))); err != nil {
				return nil, err
			}
			return buf, nil
		case errors.As(err, &mbe):
			return nil, &requestError{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is over the limit of %d bytes", s.opt.MaxBody)}
		case errors.Is(err, os.ErrDeadlineExceeded):
			return nil, &requestError{http.StatusRequestTimeout, fmt.Sprintf("reading the request: %v", err)}
		case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET):
			return nil, &requestError{statusClientClosed, fmt.Sprintf("reading the request: %v", err)}
		case err != nil:
			return nil, badRequest("reading the request: %v", err)
		}
	}
}

// need estimates the memory of a request with a body of n bytes: the body
// and the parsed request's copy of it, the decoded tensors and the run.
// A JSON array holds at most one value per two bytes.
func (m *model) need(s *Server, n int64) int64 {
	elems := min((n+1)/2, int64(s.opt.MaxElements)*int64(len(m.inputs)))
	return 2*n + elems*int64(m.elemSize) + m.cost.of(elems)
}

// firstChunk is the most a body holds before it has filled it.
const firstChunk = 32 << 10

// decodeRequest parses and checks an inference request against the
// model's inputs and outputs. Before making the tensors it makes the
// holding cover the body, its parsed copy, the tensors and the run; it
// gives back the body and its copy, and keeps the tensors and the run.
func (s *Server) decodeRequest(body []byte, m *model, h *holding) (*job, *inferRequest, error) {
	defer putBuf(body)
	req := new(inferRequest)
	if err := json.Unmarshal(body, req); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			if ute.Field == "" {
				return nil, nil, badRequest("malformed request: want a JSON object, got JSON %s", ute.Value)
			}
			return nil, nil, badRequest("malformed request: field %q: want %s, got JSON %s", ute.Field, ute.Type, ute.Value)
		}
		return nil, nil, badRequest("malformed JSON: %v", err)
	}
	if len(req.Inputs) == 0 {
		return nil, nil, badRequest("no inputs: want %s", inputNames(m))
	}
	j := &job{inputs: make(map[string]*tensor.Tensor, len(req.Inputs)), rows: -1}
	var tensorBytes int64
	seenIn := make(map[string]bool)
	for i := range req.Inputs {
		in := &req.Inputs[i]
		dt, ok := m.datatype[in.Name]
		switch {
		case !ok:
			return nil, nil, badRequest("unknown input %q: want %s", in.Name, inputNames(m))
		case seenIn[in.Name]:
			return nil, nil, badRequest("input %q given twice", in.Name)
		case in.Datatype != dt:
			return nil, nil, badRequest("input %q: datatype %q, want %q", in.Name, in.Datatype, dt)
		}
		seenIn[in.Name] = true
		if err := checkShape(m.inputFor(in.Name), in.Shape); err != nil {
			return nil, nil, err
		}
		edt, _, n, err := inputShape(in, s.opt.MaxElements)
		if errors.Is(err, errTooLarge) {
			return nil, nil, &requestError{http.StatusRequestEntityTooLarge, err.Error()}
		} else if err != nil {
			return nil, nil, badRequest("%v", err)
		}
		tensorBytes += int64(n) * int64(edt.Size())
		j.elems += int64(n)
	}
	keep := tensorBytes + m.cost.of(j.elems)
	if want := int64(cap(body)) + int64(len(body)) + keep; want > h.n {
		if err := h.take(want - h.n); err != nil {
			return nil, nil, err
		}
	}
	defer h.give(h.n - keep)
	for i := range req.Inputs {
		in := &req.Inputs[i]
		t, err := decodeTensor(in, s.opt.MaxElements)
		if err != nil {
			return nil, nil, badRequest("%v", err)
		}
		in.Data = nil
		j.inputs[in.Name] = t
		if len(t.Shape) > 0 {
			if j.rows >= 0 && t.Shape[0] != j.rows {
				return nil, nil, badRequest("input %q: first dimension %d, other inputs have %d", in.Name, t.Shape[0], j.rows)
			}
			j.rows = t.Shape[0]
		}
	}
	for _, vi := range m.inputs {
		if j.inputs[vi.Name] == nil {
			return nil, nil, badRequest("missing input %q", vi.Name)
		}
	}
	seen := make(map[string]bool)
	for _, o := range req.Outputs {
		switch {
		case !m.outputs[o.Name]:
			return nil, nil, badRequest("unknown output %q: want %s", o.Name, outputNames(m))
		case seen[o.Name]:
			return nil, nil, badRequest("output %q requested twice", o.Name)
		}
		seen[o.Name] = true
	}
	if m.batcher != nil {
		j.key = batchKey(m.inputs, j.inputs)
	}
	return j, req, nil
}

func (m *model) inputFor(name string) *onnx.ValueInfo {
	for _, vi := range m.inputs {
		if vi.Name == name {
			return vi
		}
	}
	return nil
}

// checkShape checks a request's shape against the declared one: the same
// rank and the same fixed dimensions.
func checkShape(vi *onnx.ValueInfo, shape []int64) error {
	if !vi.HasShape || shape == nil {
		return nil
	}
	want := describeValue(vi).Shape
	ok := len(shape) == len(want)
	for i := 0; ok && i < len(shape); i++ {
		ok = want[i] < 0 || shape[i] == want[i]
	}
	if !ok {
		return badRequest("input %q: shape %s, want %s", vi.Name, shapeJSON(shape), shapeJSON(want))
	}
	return nil
}

func inputNames(m *model) string {
	var names []string
	for _, vi := range m.inputs {
		names = append(names, strconv.Quote(vi.Name))
	}
	return strings.Join(names, ", ")
}

func outputNames(m *model) string {
	var names []string
	for _, vi := range m.Session.Outputs() {
		names = append(names, strconv.Quote(vi.Name))
	}
	return strings.Join(names, ", ")
}

// encodeResponse appends the inference response: the requested outputs, or
// all of them in graph order.
func encodeResponse(b []byte, m *model, req *inferRequest, outs map[string]*tensor.Tensor) []byte {
	b = append(b, `{"model_name":`...)
	b = appendString(b, m.Name)
	b = append(b, `,"model_version":"1"`...)
	if req.ID != "" {
		b = append(b, `,"id":`...)
		b = appendString(b, req.ID)
	}
	b = append(b, `,"outputs":[`...)
	var names []string
	if len(req.Outputs) > 0 {
		for _, o := range req.Outputs {
			names = append(names, o.Name)
		}
	} else {
		for _, vi := range m.Session.Outputs() {
			names = append(names, vi.Name)
		}
	}
	for i, name := range names {
		t := outs[name]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = appendString(b, name)
		b = append(b, `,"datatype":"`...)
		b = append(b, datatypeName(t.DType)...)
		b = append(b, `","shape":[`...)
		for k, d := range t.Shape {
			if k > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(d), 10)
		}
		b = append(b, `],"data":`...)
		b = appendData(b, t)
		b = append(b, '}')
	}
	return append(b, "]}\n"...)
}

func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}
