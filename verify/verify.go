package verify

import (
	"fmt"
	"math"
	"slices"

	"github.com/onnxkit/onnxkit/infer"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// Tolerance bounds the difference between a computed value got and an
// expected value want: |got-want| <= Atol + Rtol*|want|, the rule of numpy's
// allclose and of ONNX's test runners. NaN matches NaN.
type Tolerance struct {
	Rtol, Atol float64
}

// Default is the tolerance of onnxruntime's backend tests.
var Default = Tolerance{Rtol: 1e-3, Atol: 1e-5}

// Result is the outcome of one test case.
type Result struct {
	Dir    string
	Sets   int     // data sets run
	MaxAbs float64 // worst |got-want| over all outputs of all sets
	MaxRel float64 // worst |got-want|/|want| over elements with want != 0
	// Err is nil when every output of every set is within tolerance.
	Err error
}

// Passed reports whether the case passed.
func (r *Result) Passed() bool { return r.Err == nil }

// Case loads the test case in dir, runs every data set and compares the
// outputs. Inputs are matched to graph inputs by the name stored in the .pb
// file when it names one, else by position; outputs are matched by position.
// A failure to load or run is reported in Result.Err, like a mismatch, and
// so is a case with nothing to compare: no test_data_set_N folder, or a set
// without an output_N.pb file.
func Case(dir string, tol Tolerance) *Result {
	r := &Result{Dir: dir}
	modelPath, sets, err := onnx.LoadTestCase(dir)
	if err != nil {
		r.Err = err
		return r
	}
	if len(sets) == 0 {
		r.Err = fmt.Errorf("%s: nothing to compare: no test_data_set_N folder", dir)
		return r
	}
	for _, set := range sets {
		if len(set.Outputs) == 0 {
			r.Err = fmt.Errorf("%s: nothing to compare: no output_N.pb file", set.Dir)
			return r
		}
	}
	s, err := infer.Load(modelPath)
	if err != nil {
		r.Err = err
		return r
	}
	for _, set := range sets {
		r.Sets++
		if err := r.runSet(s, set, tol); err != nil {
			r.Err = fmt.Errorf("%s: %w", set.Dir, err)
			return r
		}
	}
	return r
}

func (r *Result) runSet(s *infer.Session, set onnx.DataSet, tol Tolerance) error {
	feeds, err := Feeds(s, set.Inputs)
	if err != nil {
		return err
	}
	got, err := s.Run(feeds)
	if err != nil {
		return err
	}
	outs := s.Outputs()
	if len(set.Outputs) > len(outs) {
		return fmt.Errorf("%d expected outputs, the model has %d", len(set.Outputs), len(outs))
	}
	for i, want := range set.Outputs {
		name := outs[i].Name
		d, err := Compare(got[name], want.Tensor, tol)
		r.MaxAbs = max(r.MaxAbs, d.MaxAbs)
		r.MaxRel = max(r.MaxRel, d.MaxRel)
		if err != nil {
			return fmt.Errorf("output %q: %w", name, err)
		}
	}
	return nil
}

// Feeds maps test-data inputs to the session's graph inputs: by the name
// stored in the tensor file when it is a graph input, else by position.
func Feeds(s *infer.Session, inputs []onnx.NamedTensor) (map[string]*tensor.Tensor, error) {
	graphIn := s.Inputs()
	byName := make(map[string]bool, len(graphIn))
	for _, vi := range graphIn {
		byName[vi.Name] = true
	}
	feeds := make(map[string]*tensor.Tensor, len(inputs))
	for i, in := range inputs {
		name := in.Name
		if !byName[name] {
			if i >= len(graphIn) {
				return nil, fmt.Errorf("input_%d.pb (%q): the model has %d inputs", i, in.Name, len(graphIn))
			}
			name = graphIn[i].Name
		}
		if _, dup := feeds[name]; dup {
			return nil, fmt.Errorf("input_%d.pb: input %q given twice", i, name)
		}
		feeds[name] = in.Tensor
	}
	return feeds, nil
}

// Diff is how far a computed tensor is from the expected one.
type Diff struct {
	MaxAbs, MaxRel float64
}

// Compare checks got against want: same dtype, same shape, every element
// within tol (strings equal). The error names the first element out of
// tolerance.
func Compare(got, want *tensor.Tensor, tol Tolerance) (Diff, error) {
	var d Diff
	if got == nil {
		return d, fmt.Errorf("missing")
	}
	if got.DType != want.DType {
		return d, fmt.Errorf("dtype %v, want %v", got.DType, want.DType)
	}
	if !slices.Equal(got.Shape, want.Shape) {
		return d, fmt.Errorf("shape %s, want %s", tensor.ShapeString(got.Shape), tensor.ShapeString(want.Shape))
	}
	if ws := tensor.Data[string](want); want.DType == tensor.String {
		for i, g := range tensor.Data[string](got) {
			if g != ws[i] {
				return d, fmt.Errorf("element %d is %q, want %q", i, g, ws[i])
			}
		}
		return d, nil
	}
	bad := -1
	for i := range want.Len() {
		g, w := got.Float64At(i), want.Float64At(i)
		if math.IsNaN(g) || math.IsNaN(w) {
			if math.IsNaN(g) != math.IsNaN(w) && bad < 0 {
				bad = i
			}
			continue
		}
		if math.IsInf(g, 0) || math.IsInf(w, 0) {
			if g != w && bad < 0 {
				bad = i
			}
			continue
		}
		diff := math.Abs(g - w)
		d.MaxAbs = max(d.MaxAbs, diff)
		if w != 0 {
			d.MaxRel = max(d.MaxRel, diff/math.Abs(w))
		}
		if diff > tol.Atol+tol.Rtol*math.Abs(w) && bad < 0 {
			bad = i
		}
	}
	if bad >= 0 {
		return d, fmt.Errorf("element %d is %g, want %g (atol %g, rtol %g)",
			bad, got.Float64At(bad), want.Float64At(bad), tol.Atol, tol.Rtol)
	}
	return d, nil
}
