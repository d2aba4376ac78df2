package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// zooBatches are the batch sizes the infer-zoo workload times.
var zooBatches = []int{1, 8}

// zooTargets is the bound on Go/ORT per model: ResNet-18 and
// MobileNetV2 at least as fast as ORT, every other model at least 0.7x
// its speed (a cost ratio of at most 1/0.7, about 1.43).
var zooTargets = map[string]float64{"resnet18": 1, "mobilenet_v2": 1}

const zooDefaultTarget = 1.43

// zooWorkload times every model folder of the zoo (scripts/make_zoo.py)
// at the opset -zoo-opset in Go's Session.RunInto and in ONNX Runtime on
// the same file, at batches 1 and 8, and adds the geometric mean of the
// ratios. A model that one side cannot load or run keeps its rows, with
// the error.
func zooWorkload() *workload {
	return &workload{
		name: "infer-zoo", group: "zoo", peers: []string{"ort"},
		doc: "every model of the zoo (-zoo, scripts/make_zoo.py) at -zoo-opset: batch-1 latency and batch-8 throughput, Go (Session.RunInto) vs onnxruntime-node, with the geometric mean of the ratios",
		run: runZoo,
	}
}

func runZoo(h *harness) []row {
	dirs, err := filepath.Glob(filepath.Join(h.cfg.zoo, fmt.Sprintf("*-op%d", h.cfg.zooOpset)))
	if err == nil && len(dirs) == 0 {
		err = fmt.Errorf("no model folders *-op%d in %s (make them with scripts/make_zoo.py --out %s)", h.cfg.zooOpset, h.cfg.zoo, h.cfg.zoo)
	}
	if err != nil {
		return []row{{name: "infer zoo", unit: "ms", peer: h.peerName("ort"), goErr: err, peerErr: err}}
	}
	slices.Sort(dirs)
	var rows []row
	logs := make([][]float64, len(zooBatches)) // per batch: log(Go/ORT) of the models both sides ran
	for _, dir := range dirs {
		name := strings.TrimSuffix(filepath.Base(dir), fmt.Sprintf("-op%d", h.cfg.zooOpset))
		target, ok := zooTargets[name]
		if !ok {
			target = zooDefaultTarget
		}
		var g, p *inferResult
		input, shape, ierr := h.zooInput(dir, name)
		gerr, perr := ierr, ierr
		for range h.cfg.count {
			if gerr == nil {
				h.cfg.logf("zoo %s: go", name)
				var r *inferResult
				if r, gerr = h.inferFile("go", filepath.Join(dir, "model.onnx"), input, shape, zooBatches); gerr == nil {
					g = mergeBest(g, r)
				}
			}
			if perr == nil {
				h.cfg.logf("zoo %s: ort", name)
				var r *inferResult
				if r, perr = h.inferFile("ort", filepath.Join(dir, "model.onnx"), input, shape, zooBatches); perr == nil {
					p = mergeBest(p, r)
				}
			}
		}
		for i, b := range zooBatches {
			r := zooRow(h, name, b, target)
			r.goVal, r.goErr = zooValue(g, gerr, b)
			r.peerVal, r.peerErr = zooValue(p, perr, b)
			if q, ok := r.ratio(); ok {
				logs[i] = append(logs[i], math.Log(q))
			}
			switch {
			case ierr != nil:
				r.note = zooNote(ierr)
			case r.goErr != nil:
				r.note = "Go: " + zooNote(r.goErr)
			case r.peerErr != nil:
				r.note = "ORT: " + zooNote(r.peerErr)
			}
			rows = append(rows, r)
		}
		rows = append(rows, zooRSSRow(h, name, g, gerr, p, perr))
	}
	for i, b := range zooBatches {
		r := row{name: fmt.Sprintf("infer zoo, batch %d: geometric mean of %d models", b, len(logs[i])),
			unit: "x", peer: h.peerName("ort"), maxRatio: 1, note: "Go/peer of the models both sides ran"}
		if len(logs[i]) == 0 {
			r.goErr = fmt.Errorf("no model ran on both sides")
		} else {
			var sum float64
			for _, l := range logs[i] {
				sum += l
			}
			r.goVal, r.peerVal = math.Exp(sum/float64(len(logs[i]))), 1
		}
		rows = append(rows, r)
	}
	return rows
}

// unsupportedOp finds the op types in an error listing unsupported nodes:
// node "NAME" (OP, domain ...).
var unsupportedOp = regexp.MustCompile(`\(([A-Za-z0-9_]+), domain `)

// zooNote is a one-line note for a model a side could not run: the ops Go
// cannot load yet, or the error's last line, shortened.
func zooNote(err error) string {
	msg := err.Error()
	if strings.Contains(msg, "unsupported nodes") {
		var ops []string
		for _, m := range unsupportedOp.FindAllStringSubmatch(msg, -1) {
			if !slices.Contains(ops, m[1]) {
				ops = append(ops, m[1])
			}
		}
		if len(ops) > 0 {
			return "cannot load yet: no " + strings.Join(ops, ", ")
		}
	}
	lines := strings.Split(strings.TrimSpace(msg), "\n")
	last := strings.Join(strings.Fields(lines[len(lines)-1]), " ")
	if len(last) > 100 {
		last = last[:97] + "..."
	}
	return last
}

// zooRow is the row of model at batch b: the median latency at batch 1,
// the mean time of a run otherwise, in ms.
func zooRow(h *harness, model string, b int, target float64) row {
	r := row{peer: h.peerName("ort"), maxRatio: target, unit: "ms"}
	if b == 1 {
		r.name = fmt.Sprintf("infer zoo %s, batch 1 latency (median)", model)
	} else {
		r.name = fmt.Sprintf("infer zoo %s, batch %d (mean ms per batch)", model, b)
	}
	return r
}

// zooRSSRow compares the peak resident memory of the two sides' children,
// which ran the model at every batch size of zooBatches: the largest over
// the runs, with a target of no more than ORT's.
func zooRSSRow(h *harness, model string, g *inferResult, gerr error, p *inferResult, perr error) row {
	r := row{name: fmt.Sprintf("infer zoo %s, peak RSS (MB)", model), unit: "MB", peer: h.peerName("ort"), maxRatio: 1,
		goErr: gerr, peerErr: perr}
	if gerr == nil {
		r.goVal = float64(g.maxRSS) / 1e6
	}
	if perr == nil {
		r.peerVal = float64(p.maxRSS) / 1e6
	}
	return r
}

// zooValue is the median latency in ms for batch 1 and the mean time of a
// run in ms otherwise.
func zooValue(r *inferResult, err error, batch int) (float64, error) {
	if batch == 1 || err != nil {
		return inferValue(r, err, batch)
	}
	t, err := r.at(batch)
	if err != nil {
		return 0, err
	}
	if t.Runs < 1 || t.Seconds <= 0 {
		return 0, fmt.Errorf("batch %d: %d runs in %v s", batch, t.Runs, t.Seconds)
	}
	return 1000 * t.Seconds / float64(t.Runs), nil
}

// zooFeeds is the file the harness writes for the children of a model
// with several inputs, or inputs other than float32 (-feeds): for each
// batch size, each input's name, element type (float32 or int64), whole
// shape and the file of its little-endian elements.
type zooFeeds struct {
	Batches []zooBatch `json:"batches"`
}

type zooBatch struct {
	Batch  int       `json:"batch"`
	Inputs []zooFeed `json:"inputs"`
}

type zooFeed struct {
	Name  string `json:"name"`
	DType string `json:"dtype"`
	Shape []int  `json:"shape"`
	File  string `json:"file"`
}

// zooInput prepares the inputs of the model folder dir from its stored
// test_data_set_0/input_*.pb, each repeated along its batch axis (the
// first symbolic dimension the model declares for it) to each batch size.
// A model with one float32 input gets the float32 file of the largest
// batch and the shape of one sample (the -input/-shape protocol of the
// other workloads); any other model gets a feeds file (-feeds), its shape
// nil.
func (h *harness) zooInput(dir, model string) (string, []int, error) {
	pbs, _ := filepath.Glob(filepath.Join(dir, "test_data_set_0", "input_*.pb"))
	if len(pbs) == 0 {
		return "", nil, fmt.Errorf("not timed: no stored inputs in %s", dir)
	}
	slices.SortFunc(pbs, func(a, b string) int { return zooIndex(a) - zooIndex(b) })
	m, err := onnx.ReadFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return "", nil, err
	}
	inits := map[string]bool{}
	for _, in := range m.Graph.Initializers {
		inits[in.Name] = true
	}
	var decl []*onnx.ValueInfo
	for _, in := range m.Graph.Inputs {
		if !inits[in.Name] {
			decl = append(decl, in)
		}
	}
	if len(decl) != len(pbs) {
		return "", nil, fmt.Errorf("not timed: %d stored inputs for %d model inputs", len(pbs), len(decl))
	}
	big := slices.Max(zooBatches)
	var feeds zooFeeds
	for _, b := range zooBatches {
		feeds.Batches = append(feeds.Batches, zooBatch{Batch: b})
	}
	for k, pb := range pbs {
		name, t, err := onnx.ReadTensorFile(pb)
		if err != nil {
			return "", nil, err
		}
		vi := decl[k]
		if name != "" {
			i := slices.IndexFunc(decl, func(v *onnx.ValueInfo) bool { return v.Name == name })
			if i < 0 {
				return "", nil, fmt.Errorf("not timed: stored input %q is not a model input", name)
			}
			vi = decl[i]
		}
		axis := slices.IndexFunc(vi.Shape, func(d onnx.Dim) bool { return d.Param != "" })
		if t.F32 == nil && t.I64 == nil || axis >= t.Rank() || axis >= 0 && t.Shape[axis] < 1 {
			return "", nil, fmt.Errorf("not timed: input %q is %v, the zoo workload feeds float32 and int64 tensors", vi.Name, t)
		}
		if len(pbs) == 1 && t.F32 != nil && axis == 0 {
			x := zooRepeat(t, 0, big)
			buf := make([]byte, 0, 4*len(x.F32))
			for _, v := range x.F32 {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			}
			path := filepath.Join(h.tmp, model+".f32")
			return path, slices.Clone(t.Shape[1:]), os.WriteFile(path, buf, 0o644)
		}
		for i, b := range zooBatches {
			x := t
			if axis >= 0 {
				x = zooRepeat(t, axis, b)
			}
			f := zooFeed{Name: vi.Name, DType: "float32", Shape: x.Shape,
				File: filepath.Join(h.tmp, fmt.Sprintf("%s.%d.b%d.bin", model, k, b))}
			var buf []byte
			if x.F32 != nil {
				for _, v := range x.F32 {
					buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
				}
			} else {
				f.DType = "int64"
				for _, v := range x.I64 {
					buf = binary.LittleEndian.AppendUint64(buf, uint64(v))
				}
			}
			if err := os.WriteFile(f.File, buf, 0o644); err != nil {
				return "", nil, err
			}
			feeds.Batches[i].Inputs = append(feeds.Batches[i].Inputs, f)
		}
	}
	js, err := json.Marshal(feeds)
	if err != nil {
		return "", nil, err
	}
	path := filepath.Join(h.tmp, model+".feeds.json")
	return path, nil, os.WriteFile(path, js, 0o644)
}

// zooIndex is the k of a path ending in input_k.pb.
func zooIndex(path string) int {
	k, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "input_"), ".pb"))
	return k
}

// zooRepeat returns t (float32 or int64) with n entries along axis, the
// stored ones repeated in turn.
func zooRepeat(t *tensor.Tensor, axis, n int) *tensor.Tensor {
	shape := slices.Clone(t.Shape)
	shape[axis] = n
	outer := tensor.NumElements(t.Shape[:axis])
	inner := tensor.NumElements(t.Shape[axis+1:])
	have := t.Shape[axis]
	r := tensor.New(t.DType, shape...)
	for o := range outer {
		for i := range n {
			src := (o*have + i%have) * inner
			dst := (o*n + i) * inner
			if t.F32 != nil {
				copy(r.F32[dst:dst+inner], t.F32[src:src+inner])
			} else {
				copy(r.I64[dst:dst+inner], t.I64[src:src+inner])
			}
		}
	}
	return r
}
