package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	// MaxInFlight is the most inference requests handled at once (default
	// 256); more are refused with 503.
	MaxInFlight int
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
	return o
}

// Server is an http.Handler serving models in the Open Inference Protocol.
// Create it with New; after the http.Server using it has shut down, call
// Close.
type Server struct {
	opt      Options
	models   map[string]*model
	names    []string // in the order given
	inFlight chan struct{}
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
	case opt.MaxDelay < 0 || opt.MaxBody < 0 || opt.MaxElements < 0 || opt.MaxInFlight < 0:
		return nil, errors.New("serve: negative limit in options")
	case len(models) == 0:
		return nil, errors.New("serve: no models")
	}
	s := &Server{
		opt:      opt,
		models:   make(map[string]*model),
		inFlight: make(chan struct{}, opt.MaxInFlight),
	}
	s.metrics = newMetrics(func() int { return len(s.inFlight) })
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
	return s, nil
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

// bufPool holds request body buffers.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// infer serves POST /v2/models/NAME/infer.
func (s *Server) infer(w http.ResponseWriter, r *http.Request, m *model) {
	select {
	case s.inFlight <- struct{}{}:
		defer func() { <-s.inFlight }()
	default:
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "server busy: %d inference requests in flight", cap(s.inFlight))
		return
	}
	if m.batcher != nil {
		m.batcher.arriving.Add(1)
	}
	j, req, err := s.readRequest(w, r, m)
	if m.batcher != nil {
		m.batcher.arriving.Add(-1)
	}
	if err != nil {
		var re *requestError
		if errors.As(err, &re) {
			writeError(w, re.code, "%s", re.msg)
		} else {
			writeError(w, http.StatusBadRequest, "%v", err)
		}
		return
	}

	var res result
	if m.batcher != nil {
		j.done = make(chan result, 1)
		if err := m.batcher.submit(j); err != nil {
			writeError(w, http.StatusServiceUnavailable, "%v", err)
			return
		}
		// Wait even if the client has gone, so that the in-flight bound
		// counts the work still queued for it.
		res = <-j.done
	} else {
		s.metrics.batchSize(m.Name, 1)
		res.outputs, res.err = m.Session.Run(j.inputs)
	}
	if res.err != nil {
		code := http.StatusInternalServerError
		if res.err == errClosed {
			code = http.StatusServiceUnavailable
		}
		writeError(w, code, "model %q: %v", m.Name, res.err)
		return
	}

	b := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(b)
	b.Reset()
	b.Write(encodeResponse(b.AvailableBuffer(), m, req, res.outputs))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.Write(b.Bytes())
}

// readRequest reads, parses and checks an inference request against the
// model's inputs and outputs.
func (s *Server) readRequest(w http.ResponseWriter, r *http.Request, m *model) (*job, *inferRequest, error) {
	if r.ContentLength > s.opt.MaxBody {
		return nil, nil, &requestError{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body of %d bytes is over the limit of %d", r.ContentLength, s.opt.MaxBody)}
	}
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	buf.Reset()
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, s.opt.MaxBody))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, nil, &requestError{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is over the limit of %d bytes", s.opt.MaxBody)}
	case err != nil:
		return nil, nil, badRequest("reading the request: %v", err)
	}
	req := new(inferRequest)
	if err := json.Unmarshal(buf.Bytes(), req); err != nil {
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
	for i := range req.Inputs {
		in := &req.Inputs[i]
		dt, ok := m.datatype[in.Name]
		switch {
		case !ok:
			return nil, nil, badRequest("unknown input %q: want %s", in.Name, inputNames(m))
		case j.inputs[in.Name] != nil:
			return nil, nil, badRequest("input %q given twice", in.Name)
		case in.Datatype != dt:
			return nil, nil, badRequest("input %q: datatype %q, want %q", in.Name, in.Datatype, dt)
		}
		vi := m.inputFor(in.Name)
		if err := checkShape(vi, in.Shape); err != nil {
			return nil, nil, err
		}
		t, err := decodeTensor(in, s.opt.MaxElements)
		if errors.Is(err, errTooLarge) {
			return nil, nil, &requestError{http.StatusRequestEntityTooLarge, err.Error()}
		} else if err != nil {
			return nil, nil, badRequest("%v", err)
		}
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
		b = append(b, datatypes[t.DType]...)
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
