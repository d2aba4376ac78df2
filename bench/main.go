// Command bench measures onnxkit against its peers on the same CPU, in one
// run, and prints a table of ratios:
//
//	cd bench && go run . [-workloads train,infer,rss] [-quick] [-threads 2]
//
// Training an epoch of the MNIST tutorial's models is compared with PyTorch
// (peers/torch_bench.py) and, for LeNet5, with Gorgonia v0.9.18 (./gorgonia);
// inference on PyTorch's ONNX exports (../testdata/pytorch) with ONNX
// Runtime through onnxruntime-node (peers/ort_bench.js); the peak resident
// memory of LeNet5 training with PyTorch's. Every side, Go included, runs as
// a child process limited to the same number of threads; a child's peak
// memory is read from its rusage (ru_maxrss) when it exits.
//
// Missing peers are installed when possible (apt-get for PyTorch and
// OpenBLAS when running as root, npm for onnxruntime-node into .peers/) and
// otherwise reported with the command that installs them. See README.md for
// what the columns mean.
//
// The subcommands child-train and child-infer are the Go side's child
// processes; they are not meant to be run by hand.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

func main() {
	if len(os.Args) > 1 && strings.HasPrefix(os.Args[1], "child-") {
		if err := runChildCommand(os.Stdout, os.Args[1], os.Args[2:]); err != nil {
			fmt.Fprintf(os.Stderr, "bench %s: %v\n", os.Args[1], err)
			os.Exit(1)
		}
		return
	}
	// The harness itself only waits for its children; keep it from
	// competing with them for CPUs. (Children set GOMAXPROCS from the
	// environment the harness gives them.)
	runtime.GOMAXPROCS(1)
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var cfg config
	wl := fs.String("workloads", "all", "comma-separated `list` of workloads or groups (train, infer, zoo, rss, all); -list shows them")
	list := fs.Bool("list", false, "list the workloads and exit")
	fs.BoolVar(&cfg.quick, "quick", false, "time a tenth of each training epoch (a twentieth for Gorgonia) and scale it; shorter inference runs")
	fs.IntVar(&cfg.threads, "threads", 2, "threads for every side: GOMAXPROCS, torch.set_num_threads/OMP_NUM_THREADS, ORT intraOpNumThreads")
	fs.BoolVar(&cfg.install, "install", false, "install missing peers (apt-get as root, npm into .peers/); without it, missing peers are reported and skipped")
	fs.BoolVar(&cfg.verbose, "v", false, "show progress and the children's stderr")
	fs.IntVar(&cfg.count, "count", 1, "run each side `n` times, alternating Go and the peer, and keep the best (a loaded machine's noise only ever slows a run)")
	fs.StringVar(&cfg.zoo, "zoo", zooDir(), "`folder` of the model zoo (scripts/make_zoo.py) for the infer-zoo workload")
	fs.IntVar(&cfg.zooOpset, "zoo-opset", 13, "opset of the zoo's folders to time (<model>-op`N`)")
	fs.Float64Var(&cfg.minTime, "min-time", 0, "seconds each inference batch size is timed for (default 2, 0.5 with -quick)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go run . [flags]\n\nRuns onnxkit and its peers (PyTorch, ONNX Runtime, Gorgonia) on the same workloads and prints a table of ratios.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		os.Exit(2)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "bench: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		os.Exit(2)
	}
	if *list {
		for _, w := range allWorkloads {
			fmt.Printf("%-24s %-6s %s\n", w.name, w.group, w.doc)
		}
		return
	}
	sel, err := selectWorkloads(*wl)
	if err == nil && cfg.threads < 1 {
		err = fmt.Errorf("-threads %d: want at least 1", cfg.threads)
	}
	if err == nil && cfg.count < 1 {
		err = fmt.Errorf("-count %d: want at least 1", cfg.count)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if cfg.minTime <= 0 {
		cfg.minTime = 2
		if cfg.quick {
			cfg.minTime = 0.5
		}
	}
	if !cfg.verbose {
		if fi, err := os.Stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			cfg.progress = true
		}
	} else {
		cfg.progress = true
	}
	if err := run(&cfg, sel); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// config is what the flags set.
type config struct {
	quick    bool
	threads  int
	count    int // runs per side and workload; the best counts
	install  bool
	verbose  bool // children's stderr passes through
	progress bool // one line per child on stderr
	minTime  float64
	zoo      string // the model zoo's folder
	zooOpset int
}

// zooDir is where the zoo is by default: $ONNXKIT_ZOO, else ../testdata/zoo.
func zooDir() string {
	if d := os.Getenv("ONNXKIT_ZOO"); d != "" {
		return d
	}
	return filepath.Join("..", "testdata", "zoo")
}

func (c *config) logf(format string, args ...any) {
	if c.progress {
		fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	}
}

func run(cfg *config, sel []*workload) error {
	if err := checkBenchDir(); err != nil {
		return err
	}
	h := &harness{cfg: cfg, started: time.Now(), trainCache: map[string]*trainResult{}}
	loadStart := readLoadAvg()
	if err := h.setup(sel); err != nil {
		return err
	}
	defer h.cleanup()
	var rows []row
	for _, w := range sel {
		cfg.logf("workload %s", w.name)
		rows = append(rows, w.run(h)...)
	}
	h.loadAvg = [2]string{loadStart, readLoadAvg()}
	h.printReport(os.Stdout, rows)
	var failed []string
	for _, r := range rows {
		if r.goErr != nil || r.peerErr != nil {
			failed = append(failed, r.name)
		}
	}
	if len(h.missing) > 0 || len(failed) > 0 {
		return fmt.Errorf("incomplete: %d rows without a value on one side (see above)", len(failed))
	}
	return nil
}

// checkBenchDir makes sure the working directory is the bench module: the
// peers' scripts and the Gorgonia program are found relative to it.
func checkBenchDir() error {
	b, err := os.ReadFile("go.mod")
	if err == nil && strings.Contains(string(b), "module github.com/onnxkit/onnxkit/bench\n") {
		if _, err := os.Stat("peers/torch_bench.py"); err == nil {
			return nil
		}
	}
	return errors.New("run from the bench folder: cd bench && go run .")
}
