package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/onnxkit/onnxkit/verify"
)

var verifyCmd = &command{
	name:  "verify",
	args:  "DIR...",
	short: "run ONNX test folders (model.onnx + test_data_set_*) and compare with their outputs",
	setup: func(fs *flag.FlagSet) func([]string) error {
		rtol := fs.Float64("rtol", verify.Default.Rtol, "relative tolerance: |got-want| <= atol + rtol*|want|")
		atol := fs.Float64("atol", verify.Default.Atol, "absolute tolerance")
		jsonOut := fs.Bool("json", false, "print the results as JSON")
		return func(args []string) error {
			if len(args) == 0 {
				return usagef("no test folder given")
			}
			if *rtol < 0 || *atol < 0 {
				return usagef("-rtol and -atol must not be negative")
			}
			dirs, err := caseDirs(args)
			if err != nil {
				return err
			}
			tol := verify.Tolerance{Rtol: *rtol, Atol: *atol}
			type result struct {
				Dir    string  `json:"dir"`
				Sets   int     `json:"sets"`
				MaxAbs float64 `json:"max_abs"`
				MaxRel float64 `json:"max_rel"`
				Error  string  `json:"error,omitempty"`
			}
			var results []result
			failed := 0
			for _, dir := range dirs {
				r := verify.Case(dir, tol)
				res := result{Dir: dir, Sets: r.Sets, MaxAbs: r.MaxAbs, MaxRel: r.MaxRel}
				status := "ok  "
				if !r.Passed() {
					failed++
					status = "FAIL"
					res.Error = r.Err.Error()
				}
				results = append(results, res)
				if *jsonOut {
					continue
				}
				fmt.Fprintf(stdout, "%s %s: %d sets, max abs %.3g, max rel %.3g", status, dir, r.Sets, r.MaxAbs, r.MaxRel)
				if !r.Passed() {
					fmt.Fprintf(stdout, ": %v", r.Err)
				}
				fmt.Fprintln(stdout)
			}
			if *jsonOut {
				if err := printJSON(map[string]any{"passed": len(dirs) - failed, "failed": failed, "cases": results}); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(stdout, "%d passed, %d failed\n", len(dirs)-failed, failed)
			}
			if failed > 0 {
				return exitCode(1)
			}
			return nil
		}
	},
}

// caseDirs expands the arguments of verify: a folder holding model.onnx is a
// case; a folder without one stands for its subfolders that hold one.
func caseDirs(args []string) ([]string, error) {
	var dirs []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("%s: not a folder (want a folder with model.onnx and test_data_set_*)", a)
		}
		if _, err := os.Stat(filepath.Join(a, "model.onnx")); err == nil {
			dirs = append(dirs, a)
			continue
		}
		subs, _ := filepath.Glob(filepath.Join(a, "*", "model.onnx"))
		if len(subs) == 0 {
			return nil, fmt.Errorf("%s: no model.onnx in it or its subfolders", a)
		}
		sort.Strings(subs)
		for _, s := range subs {
			dirs = append(dirs, filepath.Dir(s))
		}
	}
	return dirs, nil
}
