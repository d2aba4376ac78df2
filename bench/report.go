package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// printReport writes the header (date, CPU, threads, versions), the table
// and what went wrong, as Markdown.
func (h *harness) printReport(w io.Writer, rows []row) {
	fmt.Fprintf(w, "onnxkit bench, %s (%s mode)\n\n", h.started.Format("2006-01-02 15:04 MST"), map[bool]string{true: "quick", false: "full"}[h.cfg.quick])
	fmt.Fprintf(w, "- CPU: %s, %d logical CPUs online; load average %s at the start, %s at the end\n", cpuModel(), runtime.NumCPU(), h.loadAvg[0], h.loadAvg[1])
	t := h.cfg.threads
	fmt.Fprintf(w, "- threads: Go GOMAXPROCS=%d; PyTorch torch.set_num_threads(%d), OMP_NUM_THREADS=%d; ORT intraOpNumThreads=%d, interOpNumThreads=1; Gorgonia GOMAXPROCS=%d\n", t, t, t, t, t)
	vs := []string{"Go " + runtime.Version()}
	if v := h.peers.torchVersion; v != "" {
		vs = append(vs, "PyTorch "+v+" ("+torchPython+")")
	}
	if v := h.peers.ortVersion; v != "" {
		vs = append(vs, "onnxruntime-node "+v+" ("+h.peers.ortModules+")")
	}
	if v := h.peers.gorgoniaVersion; v != "" {
		vs = append(vs, "Gorgonia "+v)
	}
	fmt.Fprintf(w, "- versions: %s\n", strings.Join(vs, "; "))
	fmt.Fprintf(w, "- Go/peer is Go's cost over the peer's: time Go / time peer, or throughput peer / throughput Go; below 1 Go is better.\n")
	if h.cfg.count > 1 {
		fmt.Fprintf(w, "- best of %d runs per side, Go and the peer alternating (RSS: the largest of the LeNet5 training runs).\n", h.cfg.count)
	}
	if h.cfg.quick {
		fmt.Fprintf(w, "- quick: training timed over part of an epoch and scaled to 60,000 images; inference timed %gs per batch size.\n", h.cfg.minTime)
	}
	fmt.Fprintln(w)

	head := []string{"workload", "Go", "peer", "peer value", "Go/peer", "target", "note"}
	cells := [][]string{head}
	var problems []string
	for i := range rows {
		r := &rows[i]
		c := []string{r.name, valueCell(r.goVal, r.goErr, r.unit), r.peer, valueCell(r.peerVal, r.peerErr, r.unit), "-", "", r.note}
		if q, ok := r.ratio(); ok {
			c[4] = fmt.Sprintf("%.2f", q)
		}
		switch {
		case r.maxRatio > 0:
			c[5] = "Go/peer <= " + strconv.FormatFloat(r.maxRatio, 'g', -1, 64)
			if q, ok := r.ratio(); ok {
				c[5] += verdict(q <= r.maxRatio)
			}
		case r.maxGo > 0:
			c[5] = fmt.Sprintf("Go <= %g %s", r.maxGo, r.unit)
			if r.goErr == nil {
				c[5] += verdict(r.goVal <= r.maxGo)
			}
		}
		cells = append(cells, c)
		if r.goErr != nil && !isMissing(r.goErr) {
			problems = append(problems, fmt.Sprintf("%s, Go: %v", r.name, r.goErr))
		}
		if r.peerErr != nil && !isMissing(r.peerErr) {
			problems = append(problems, fmt.Sprintf("%s, %s: %v", r.name, r.peer, r.peerErr))
		}
	}
	writeTable(w, cells)
	if len(h.missing) > 0 {
		fmt.Fprintln(w, "\nmissing peers:")
		keys := make([]string, 0, len(h.missing))
		for k := range h.missing {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "- %s\n", h.missing[k])
		}
	}
	if len(problems) > 0 {
		fmt.Fprintln(w, "\nerrors:")
		seen := map[string]bool{}
		for _, p := range problems {
			if !seen[p] {
				seen[p] = true
				fmt.Fprintf(w, "- %s\n", p)
			}
		}
	}
	fmt.Fprintf(w, "\n(total %s)\n", time.Since(h.started).Round(time.Second))
}

// isMissing reports whether err says a peer is missing (listed once under
// "missing peers" rather than once per row).
func isMissing(err error) bool { return strings.HasPrefix(err.Error(), "missing: ") }

func verdict(ok bool) string {
	if ok {
		return ": met"
	}
	return ": NOT met"
}

// valueCell formats a measured value with its unit.
func valueCell(v float64, err error, unit string) string {
	if err != nil {
		if isMissing(err) {
			return "missing"
		}
		return "error"
	}
	switch unit {
	case "s":
		return fmt.Sprintf("%.2f s", v)
	case "ms":
		return fmt.Sprintf("%.3f ms", v)
	case "img/s":
		return thousands(int64(v+0.5)) + " img/s"
	case "MB":
		return fmt.Sprintf("%.0f MB", v)
	}
	return strconv.FormatFloat(v, 'g', 4, 64) + " " + unit
}

// thousands writes n with commas between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// writeTable writes cells as a Markdown table with padded columns; the
// first row is the header.
func writeTable(w io.Writer, cells [][]string) {
	width := make([]int, len(cells[0]))
	for _, r := range cells {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	line := func(r []string) {
		var b strings.Builder
		b.WriteString("|")
		for i, c := range r {
			b.WriteString(" " + c + strings.Repeat(" ", width[i]-utf8.RuneCountInString(c)) + " |")
		}
		fmt.Fprintln(w, b.String())
	}
	line(cells[0])
	sep := make([]string, len(width))
	for i, n := range width {
		sep[i] = strings.Repeat("-", n)
	}
	line(sep)
	for _, r := range cells[1:] {
		line(r)
	}
}

// cpuModel returns the first "model name" of /proc/cpuinfo, or "unknown".
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
