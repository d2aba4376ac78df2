package verify

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/onnxkit/onnxkit/infer"
	"github.com/onnxkit/onnxkit/onnx"
)

var update = flag.Bool("update", false, "rewrite testdata/conformance.txt from this run's outcomes")

// suites are the official ONNX backend test folders: ONNX 1.22's from
// ../shared (present on the project's machines, absent in a user's clone)
// and ONNX 1.12's from Debian's libonnx-testdata.
var suites = []struct{ name, dir string }{
	{"onnx-1.22", "../../shared/onnx-conformance"},
	{"onnx-1.12", "/usr/share/libonnx-testdata/data"},
}

var suiteKinds = []string{"node", "pytorch-converted", "pytorch-operator", "simple"}

// runnerTolerance is the ONNX backend test runner's default.
var runnerTolerance = Tolerance{Rtol: 1e-3, Atol: 1e-7}

const expectedFile = "testdata/conformance.txt"

// expectation is one line of testdata/conformance.txt:
//
//	pass onnx-1.22/node/test_conv_with_strides_padding
//	pass onnx-1.12/node/test_x rtol=1e-2 # why the tolerance is wider
//	fail onnx-1.22/node/test_cast_FLOAT_to_FLOAT16 # why it fails
type expectation struct {
	pass   bool
	tol    Tolerance
	reason string
}

// TestConformance runs every official ONNX test case whose ops are all
// implemented by infer and checks the outcome against the committed list
// testdata/conformance.txt. Run with -update to rewrite the list.
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("conformance suite skipped in -short mode")
	}
	want, err := readExpected(expectedFile)
	if err != nil {
		t.Fatal(err)
	}
	var cases []string // "suite/kind/case"
	dirs := map[string]string{}
	for _, s := range suites {
		if _, err := os.Stat(s.dir); err != nil {
			t.Logf("%s: %s absent, skipped", s.name, s.dir)
			continue
		}
		for _, kind := range suiteKinds {
			entries, _ := os.ReadDir(filepath.Join(s.dir, kind))
			for _, e := range entries {
				dir := filepath.Join(s.dir, kind, e.Name())
				if e.IsDir() && implemented(dir) {
					id := s.name + "/" + kind + "/" + e.Name()
					cases = append(cases, id)
					dirs[id] = dir
				}
			}
		}
	}
	if len(cases) == 0 {
		t.Skip("no ONNX conformance folder found (../shared/onnx-conformance, /usr/share/libonnx-testdata)")
	}
	sort.Strings(cases)

	results := make([]*Result, len(cases))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				tol := runnerTolerance
				if e, ok := want[cases[i]]; ok && e.tol != (Tolerance{}) {
					tol = e.tol
				}
				results[i] = Case(dirs[cases[i]], tol)
			}
		}()
	}
	for i := range cases {
		next <- i
	}
	close(next)
	wg.Wait()

	passed := 0
	perSuite := map[string][2]int{}
	for i, id := range cases {
		r := results[i]
		suite := id[:strings.Index(id, "/")]
		c := perSuite[suite]
		c[1]++
		if r.Passed() {
			passed++
			c[0]++
		}
		perSuite[suite] = c
		if *update {
			continue
		}
		e, listed := want[id]
		switch {
		case !listed:
			t.Errorf("%s: not in %s (passed: %v); run go test ./verify -run Conformance -update", id, expectedFile, r.Passed())
		case e.pass && !r.Passed():
			t.Errorf("%s: listed as passing, failed: %v", id, r.Err)
		case !e.pass && r.Passed():
			t.Errorf("%s: listed as failing (%s), now passes; run with -update", id, e.reason)
		}
	}
	for _, s := range suites {
		if c, ok := perSuite[s.name]; ok {
			t.Logf("%s: %d of %d cases of implemented ops pass (%.1f%%)", s.name, c[0], c[1], 100*float64(c[0])/float64(c[1]))
		}
	}
	fmt.Printf("conformance: %d of %d cases of implemented ops pass\n", passed, len(cases))
	if *update {
		if err := writeExpected(expectedFile, cases, results, want); err != nil {
			t.Fatal(err)
		}
	}
}

// implemented reports whether every node of the case's model uses an op of
// the default domain that infer implements (in some opset version).
func implemented(dir string) bool {
	m, err := onnx.ReadFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return false
	}
	if m.Graph == nil || len(m.Graph.Nodes) == 0 {
		return false
	}
	for _, n := range m.Graph.Nodes {
		if (n.Domain != "" && n.Domain != "ai.onnx") || !infer.Implements(n.OpType) {
			return false
		}
	}
	return true
}

func readExpected(path string) (map[string]expectation, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return map[string]expectation{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]expectation{}
	sc := bufio.NewScanner(f)
	for ln := 1; sc.Scan(); ln++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var e expectation
		if i := strings.Index(line, "#"); i >= 0 {
			e.reason = strings.TrimSpace(line[i+1:])
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) < 2 || (fields[0] != "pass" && fields[0] != "fail") {
			return nil, fmt.Errorf("%s:%d: want \"pass|fail SUITE/KIND/CASE [rtol=R] [atol=A] [# reason]\"", path, ln)
		}
		e.pass = fields[0] == "pass"
		for _, kv := range fields[2:] {
			k, v, ok := strings.Cut(kv, "=")
			x, err := strconv.ParseFloat(v, 64)
			if !ok || err != nil || (k != "rtol" && k != "atol") {
				return nil, fmt.Errorf("%s:%d: bad option %q", path, ln, kv)
			}
			if e.tol == (Tolerance{}) {
				e.tol = runnerTolerance
			}
			if k == "rtol" {
				e.tol.Rtol = x
			} else {
				e.tol.Atol = x
			}
		}
		if !e.pass && e.reason == "" {
			return nil, fmt.Errorf("%s:%d: a failing case needs a reason", path, ln)
		}
		m[fields[1]] = e
	}
	return m, sc.Err()
}

// writeExpected rewrites the list from this run, keeping tolerance overrides
// and the reasons written for failing cases; a new failure's reason is its
// error text.
func writeExpected(path string, cases []string, results []*Result, old map[string]expectation) error {
	var b strings.Builder
	b.WriteString("# Official ONNX test cases whose ops infer implements, and whether each passes.\n")
	b.WriteString("# Checked by TestConformance; regenerate with: go test ./verify -run Conformance -update\n")
	b.WriteString("# Tolerance: rtol 1e-3, atol 1e-7 (the ONNX runner's) unless a line says otherwise.\n")
	for i, id := range cases {
		r, e := results[i], old[id]
		status := "pass"
		if !r.Passed() {
			status = "fail"
		}
		fmt.Fprintf(&b, "%s %s", status, id)
		if e.tol != (Tolerance{}) {
			fmt.Fprintf(&b, " rtol=%g atol=%g", e.tol.Rtol, e.tol.Atol)
		}
		reason := e.reason
		if !r.Passed() && (reason == "" || e.pass) {
			reason = oneLine(r.Err.Error())
		}
		if reason != "" {
			fmt.Fprintf(&b, " # %s", reason)
		}
		b.WriteByte('\n')
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// oneLine shortens an error to one line without the case's folder path.
func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	for _, su := range suites {
		s = strings.ReplaceAll(s, su.dir+"/", "")
	}
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}
