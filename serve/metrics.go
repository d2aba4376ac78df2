package serve

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Histogram buckets: request latency in seconds and batch sizes in requests.
var (
	latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
	batchBuckets   = []float64{1, 2, 4, 8, 16, 32, 64, 128, 256}
)

// metrics holds the server's counters and histograms, written out in the
// Prometheus text exposition format (version 0.0.4) by hand.
type metrics struct {
	mu      sync.Mutex
	http    map[[2]string]uint64 // by handler and status code
	infer   map[[2]string]uint64 // by model and status code
	latency map[string]*histogram
	batch   map[string]*histogram
	gauges  func() []gauge
}

// gauge is a metric read when written out.
type gauge struct {
	name, help string
	value      int64
}

type histogram struct {
	bounds []float64
	counts []uint64 // per bucket, not cumulative
	sum    float64
	count  uint64
}

func (h *histogram) observe(v float64) {
	i, _ := slices.BinarySearch(h.bounds, v)
	if i < len(h.counts) {
		h.counts[i]++
	}
	h.sum += v
	h.count++
}

func newMetrics(gauges func() []gauge) *metrics {
	return &metrics{
		http:    make(map[[2]string]uint64),
		infer:   make(map[[2]string]uint64),
		latency: make(map[string]*histogram),
		batch:   make(map[string]*histogram),
		gauges:  gauges,
	}
}

func histFor(m map[string]*histogram, key string, bounds []float64) *histogram {
	h := m[key]
	if h == nil {
		h = &histogram{bounds: bounds, counts: make([]uint64, len(bounds))}
		m[key] = h
	}
	return h
}

// request records one HTTP request; model is "" except for inference.
func (m *metrics) request(handler, model string, code int, d time.Duration) {
	c := strconv.Itoa(code)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.http[[2]string{handler, c}]++
	if model != "" {
		m.infer[[2]string{model, c}]++
		histFor(m.latency, model, latencyBuckets).observe(d.Seconds())
	}
}

// batchSize records one run of a model on size requests.
func (m *metrics) batchSize(model string, size int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	histFor(m.batch, model, batchBuckets).observe(float64(size))
}

// write writes every metric, sorted by labels so the output is stable.
func (m *metrics) write(w io.Writer) error {
	var b bytes.Buffer
	m.mu.Lock()
	counter(&b, "onnxkit_http_requests_total", "HTTP requests by handler and status code.", []string{"handler", "code"}, m.http)
	counter(&b, "onnxkit_inference_requests_total", "Inference requests by model and status code.", []string{"model", "code"}, m.infer)
	histograms(&b, "onnxkit_inference_duration_seconds", "Time from receiving an inference request to its answer, by model.", m.latency)
	histograms(&b, "onnxkit_batch_size", "Requests per model run (1 when batching is off).", m.batch)
	m.mu.Unlock()
	for _, g := range m.gauges() {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n%s %d\n", g.name, g.help, g.name, g.name, g.value)
	}
	_, err := w.Write(b.Bytes())
	return err
}

func counter(b *bytes.Buffer, name, help string, labels []string, vals map[[2]string]uint64) {
	fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s counter\n", name, help, name)
	keys := make([][2]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y [2]string) int {
		if c := strings.Compare(x[0], y[0]); c != 0 {
			return c
		}
		return strings.Compare(x[1], y[1])
	})
	for _, k := range keys {
		fmt.Fprintf(b, "%s{%s=%s,%s=%s} %d\n", name, labels[0], quoteLabel(k[0]), labels[1], quoteLabel(k[1]), vals[k])
	}
}

func histograms(b *bytes.Buffer, name, help string, hs map[string]*histogram) {
	fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name)
	models := make([]string, 0, len(hs))
	for k := range hs {
		models = append(models, k)
	}
	slices.Sort(models)
	for _, model := range models {
		h := hs[model]
		l := quoteLabel(model)
		var cum uint64
		for i, bound := range h.bounds {
			cum += h.counts[i]
			fmt.Fprintf(b, "%s_bucket{model=%s,le=\"%s\"} %d\n", name, l, formatFloat(bound), cum)
		}
		fmt.Fprintf(b, "%s_bucket{model=%s,le=\"+Inf\"} %d\n", name, l, h.count)
		fmt.Fprintf(b, "%s_sum{model=%s} %s\n", name, l, formatFloat(h.sum))
		fmt.Fprintf(b, "%s_count{model=%s} %d\n", name, l, h.count)
	}
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// quoteLabel quotes a label value, escaping backslash, double quote and
// newline as the exposition format requires.
func quoteLabel(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
