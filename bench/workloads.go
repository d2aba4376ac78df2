package main

import (
	"fmt"
	"strings"
)

// A workload measures one thing on the Go side and on a peer and returns
// the table's rows for it.
type workload struct {
	name  string
	group string   // train, infer or rss
	peers []string // "torch", "ort", "gorgonia"
	doc   string
	run   func(h *harness) []row
}

// A row is one line of the table. Every value is a cost or a throughput in
// unit; ratio is always Go's cost over the peer's (below 1: Go is better).
type row struct {
	name         string
	unit         string // "s", "ms", "img/s", "MB"
	higherBetter bool   // a throughput: the ratio is peer / Go
	goVal        float64
	goErr        error
	peer         string // the peer's name and version
	peerVal      float64
	peerErr      error
	maxRatio     float64 // target: ratio <= maxRatio (0: none)
	maxGo        float64 // target: Go's value <= maxGo (0: none)
	note         string
}

// ratio is Go's cost over the peer's: time Go / time peer, or throughput
// peer / throughput Go.
func (r *row) ratio() (float64, bool) {
	if r.goErr != nil || r.peerErr != nil || r.goVal <= 0 || r.peerVal <= 0 {
		return 0, false
	}
	if r.higherBetter {
		return r.peerVal / r.goVal, true
	}
	return r.goVal / r.peerVal, true
}

var allWorkloads = []*workload{
	trainWorkload("lenet5", "torch", 0.5),
	trainWorkload("cnn", "torch", 0.5),
	trainWorkload("mlp", "torch", 0.5),
	trainWorkload("best", "torch", 0.5),
	trainWorkload("lenet5", "gorgonia", 0),
	inferWorkload("lenet5"),
	inferWorkload("mlp"),
	inferWorkload("cnn"),
	zooWorkload(),
	{
		name: "rss-lenet5", group: "rss", peers: []string{"torch"},
		doc: "peak RSS of the process training LeNet5 (batch 100, Adam), Go vs PyTorch; target Go <= 200 MB",
		run: rssLeNet5,
	},
}

var modelTitle = map[string]string{"lenet5": "LeNet5", "cnn": "CNN", "mlp": "MLP", "best": "best"}

func (h *harness) peerName(side string) string {
	switch side {
	case "torch":
		if v := h.peers.torchVersion; v != "" {
			return "PyTorch " + v
		}
		return "PyTorch"
	case "gorgonia":
		if v := h.peers.gorgoniaVersion; v != "" {
			return "Gorgonia " + v
		}
		return "Gorgonia"
	case "ort":
		if v := h.peers.ortVersion; v != "" {
			return "ORT " + v
		}
		return "ORT"
	}
	return side
}

// trainWorkload times one training epoch of model (batch 100, the
// tutorial's optimizer) on the Go side and on peer.
func trainWorkload(model, peer string, maxRatio float64) *workload {
	name := "train-" + model
	what := "PyTorch"
	if peer != "torch" {
		name += "-" + peer
		what = "Gorgonia"
	}
	batch := "batch 100"
	if model == "best" {
		batch = "batch 128, its recipe: one-cycle SGD, label smoothing, 2-pixel shifts"
	}
	doc := fmt.Sprintf("one epoch of %s (60,000 images, %s), Go vs %s", modelTitle[model], batch, what)
	if maxRatio > 0 {
		doc += fmt.Sprintf("; target Go/peer <= %.2g", maxRatio)
	}
	return &workload{
		name: name, group: "train", peers: []string{peer}, doc: doc,
		run: func(h *harness) []row {
			r := row{name: fmt.Sprintf("train %s, 1 epoch", modelTitle[model]), unit: "s",
				peer: h.peerName(peer), maxRatio: maxRatio}
			// Go and the peer alternate, -count times; the fastest run counts.
			var g, p *trainResult
			for i := 1; i <= h.cfg.count; i++ {
				if r.goErr == nil {
					g, r.goErr = h.train("go", model, i)
				}
				if r.peerErr == nil {
					p, r.peerErr = h.train(peer, model, i)
				}
			}
			if r.goErr == nil {
				r.goVal = g.epochSeconds()
			}
			if r.peerErr == nil {
				r.peerVal = p.epochSeconds()
			}
			if h.cfg.quick {
				var parts []string
				if g != nil && g.Images < epochImages {
					parts = append(parts, fmt.Sprintf("Go %d", g.Batches))
				}
				if p != nil && p.Images < epochImages {
					parts = append(parts, fmt.Sprintf("peer %d", p.Batches))
				}
				if len(parts) > 0 {
					r.note = "timed " + strings.Join(parts, ", ") + " batches, scaled to 60,000 images"
				}
			}
			if peer == "torch" && h.peers.blasNote != "" {
				r.note = strings.TrimPrefix(r.note+"; "+h.peers.blasNote, "; ")
			}
			return []row{r}
		},
	}
}

var inferBatches = []int{1, 64, 1000}

// inferWorkload times PyTorch's export of model in Go's Session.RunInto and
// in ONNX Runtime: the median latency of batch 1 and the throughput at
// batches 64 and 1,000.
func inferWorkload(model string) *workload {
	return &workload{
		name: "infer-" + model, group: "infer", peers: []string{"ort"},
		doc: fmt.Sprintf("PyTorch's %s export: batch-1 latency, throughput at batch 64 and 1,000; Go (Session.RunInto) vs onnxruntime-node; target Go/peer <= 1", modelTitle[model]),
		run: func(h *harness) []row {
			// Go and ORT alternate, -count times; the best timing of each
			// batch size counts.
			var g, p *inferResult
			var gerr, perr error
			for range h.cfg.count {
				if gerr == nil {
					var r *inferResult
					if r, gerr = h.infer("go", model, inferBatches); gerr == nil {
						g = mergeBest(g, r)
					}
				}
				if perr == nil {
					var r *inferResult
					if r, perr = h.infer("ort", model, inferBatches); perr == nil {
						p = mergeBest(p, r)
					}
				}
			}
			var rows []row
			for _, b := range inferBatches {
				r := row{peer: h.peerName("ort"), maxRatio: 1}
				if b == 1 {
					r.name, r.unit = fmt.Sprintf("infer %s, batch 1 latency (median)", modelTitle[model]), "ms"
				} else {
					r.name, r.unit, r.higherBetter = fmt.Sprintf("infer %s, batch %d throughput", modelTitle[model], b), "img/s", true
				}
				r.goVal, r.goErr = inferValue(g, gerr, b)
				r.peerVal, r.peerErr = inferValue(p, perr, b)
				rows = append(rows, r)
			}
			return rows
		},
	}
}

// inferValue is the median latency in ms for batch 1 and the throughput in
// images per second otherwise.
func inferValue(r *inferResult, err error, batch int) (float64, error) {
	if err != nil {
		return 0, err
	}
	t, err := r.at(batch)
	if err != nil {
		return 0, err
	}
	if batch == 1 {
		return t.MedianMS, nil
	}
	if t.Seconds <= 0 {
		return 0, fmt.Errorf("batch %d: %d runs in %v s", batch, t.Runs, t.Seconds)
	}
	return float64(batch*t.Runs) / t.Seconds, nil
}

// rssLeNet5 reads the peak RSS of the LeNet5 training children (run by
// train-lenet5 when it ran, otherwise now).
func rssLeNet5(h *harness) []row {
	r := row{name: "peak RSS, train LeNet5", unit: "MB", peer: h.peerName("torch"), maxGo: 200}
	if g, err := h.train("go", "lenet5", 1); err != nil {
		r.goErr = err
	} else {
		r.goVal = float64(g.maxRSS) / 1e6
	}
	if p, err := h.train("torch", "lenet5", 1); err != nil {
		r.peerErr = err
	} else {
		r.peerVal = float64(p.maxRSS) / 1e6
	}
	r.note = "ru_maxrss of the child process"
	return []row{r}
}

// selectWorkloads parses -workloads: names and groups, comma-separated, in
// the table's order.
func selectWorkloads(spec string) ([]*workload, error) {
	want := map[string]bool{}
	for _, s := range strings.Split(spec, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		found := s == "all"
		for _, w := range allWorkloads {
			if s == "all" || s == w.name || s == w.group {
				want[w.name] = true
				found = true
			}
		}
		if !found {
			var names []string
			for _, w := range allWorkloads {
				names = append(names, w.name)
			}
			return nil, fmt.Errorf("unknown workload %q (want all, train, infer, zoo, rss or one of %s)", s, strings.Join(names, ", "))
		}
	}
	var sel []*workload
	for _, w := range allWorkloads {
		if want[w.name] {
			sel = append(sel, w)
		}
	}
	if len(sel) == 0 {
		return nil, fmt.Errorf("no workloads selected")
	}
	return sel, nil
}
