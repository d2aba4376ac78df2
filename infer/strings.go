package infer

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// String ops: StringConcat, RegexFullMatch, StringSplit (opset 20) and
// StringNormalizer (opset 10).

// wantStrings checks that input i is a string tensor.
func wantStrings(n *onnx.Node, t *tensor.Tensor, what string) error {
	if t.DType != tensor.String {
		return errorf(n, "input %s: want string, got %v", what, t.DType)
	}
	return nil
}

// stringConcatOp is StringConcat: X + Y elementwise, numpy broadcasting.
type stringConcatOp struct{ n *onnx.Node }

func buildStringConcat(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 2, 2, 1); err != nil {
		return nil, err
	}
	return &stringConcatOp{n}, nil
}

func (o *stringConcatOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	a, b := in[0], in[1]
	if err := wantStrings(o.n, a, "X"); err != nil {
		return err
	}
	if err := wantStrings(o.n, b, "Y"); err != nil {
		return err
	}
	shape, bshape, err := binaryShapes(o.n, nil, out[0], a, b, nil)
	if err != nil {
		return err
	}
	k := funcKernel(func(x, y string) string { return x + y })
	out[0].Resize(tensor.String, shape...)
	broadcastBinary(&k, data[string](out[0]), shape, data[string](a), a.Shape, data[string](b), bshape)
	return nil
}

// regexFullMatchOp is RegexFullMatch: whether each string matches the
// pattern in full. Go's regexp has RE2's syntax, which the spec names.
type regexFullMatchOp struct {
	n  *onnx.Node
	re *regexp.Regexp
}

func buildRegexFullMatch(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	pattern := a.string("pattern", "")
	if a.err != nil {
		return nil, a.err
	}
	re, err := regexp.Compile(`^(?:` + pattern + `)$`)
	if err != nil {
		return nil, errorf(n, "attribute \"pattern\": %v", err)
	}
	return &regexFullMatchOp{n, re}, nil
}

func (o *regexFullMatchOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	if err := wantStrings(o.n, x, "X"); err != nil {
		return err
	}
	out[0].Resize(tensor.Bool, x.Shape...)
	for i, s := range data[string](x) {
		out[0].B[i] = o.re.MatchString(s)
	}
	return nil
}

// stringSplitOp is StringSplit: each string split on the delimiter (on
// runs of white space when it is empty), at most maxsplit times; Y pads
// the pieces with empty strings to the longest, Z counts them.
type stringSplitOp struct {
	n         *onnx.Node
	delimiter string
	maxsplit  int // -1: no limit
}

func buildStringSplit(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 2); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &stringSplitOp{n: n, delimiter: a.string("delimiter", ""), maxsplit: -1}
	if a.has("maxsplit") {
		m := a.int("maxsplit", 0)
		if m < 0 || m > int64(maxElements) {
			a.fail("attribute \"maxsplit\": want a non-negative value, got %d", m)
		}
		o.maxsplit = int(m)
	}
	return o, a.err
}

func (o *stringSplitOp) split(s string) []string {
	if o.delimiter != "" {
		n := -1 // all
		if o.maxsplit >= 0 {
			n = o.maxsplit + 1
		}
		return strings.SplitN(s, o.delimiter, n)
	}
	f := strings.Fields(s)
	if o.maxsplit < 0 || len(f) <= o.maxsplit+1 {
		return f
	}
	// Keep the rest after the maxsplit-th split whole, as Python's
	// str.split(None, maxsplit) does: from the start of the next field.
	rest := strings.TrimLeftFunc(s, unicode.IsSpace)
	for range o.maxsplit {
		i := strings.IndexFunc(rest, unicode.IsSpace)
		rest = strings.TrimLeftFunc(rest[i:], unicode.IsSpace)
	}
	return append(f[:o.maxsplit:o.maxsplit], rest)
}

func (o *stringSplitOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	if err := wantStrings(o.n, x, "X"); err != nil {
		return err
	}
	xs := data[string](x)
	parts := make([][]string, len(xs))
	width := 0
	for i, s := range xs {
		parts[i] = o.split(s)
		width = max(width, len(parts[i]))
	}
	shape := append(append([]int(nil), x.Shape...), width)
	if err := checkSizeOf(o.n, shape, tensor.String); err != nil {
		return err
	}
	y := out[0]
	y.Resize(tensor.String, shape...)
	ys := data[string](y)
	clear(ys)
	for i, p := range parts {
		copy(ys[i*width:], p)
	}
	if z := output(out, 1); z != nil {
		z.Resize(tensor.Int64, x.Shape...)
		for i, p := range parts {
			z.I64[i] = int64(len(p))
		}
	}
	return nil
}

// stringNormalizerOp is StringNormalizer: drops the stop words from a [C]
// or [1, C] tensor, then changes case. Case folding is Unicode's, whatever
// the locale attribute says.
type stringNormalizerOp struct {
	n             *onnx.Node
	action        string // "LOWER", "UPPER" or "NONE"
	caseSensitive bool
	stop          map[string]bool
}

func buildStringNormalizer(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &stringNormalizerOp{n: n, action: a.string("case_change_action", "NONE"),
		caseSensitive: a.int("is_case_sensitive", 0) != 0, stop: map[string]bool{}}
	a.string("locale", "")
	if at := a.get("stopwords", onnx.AttrStrings); at != nil {
		for _, w := range at.Strings {
			o.stop[o.key(string(w))] = true
		}
	}
	switch o.action {
	case "LOWER", "UPPER", "NONE":
	default:
		a.fail("attribute \"case_change_action\": want LOWER, UPPER or NONE, got %q", o.action)
	}
	return o, a.err
}

// key is how a word is looked up among the stop words.
func (o *stringNormalizerOp) key(w string) string {
	if o.caseSensitive {
		return w
	}
	return strings.ToLower(w)
}

func (o *stringNormalizerOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	if err := wantStrings(o.n, x, "X"); err != nil {
		return err
	}
	if x.Rank() != 1 && (x.Rank() != 2 || x.Shape[0] != 1) {
		return errorf(o.n, "input X: want a [C] or [1, C] tensor, got %v", x)
	}
	var kept []string
	for _, s := range data[string](x) {
		if o.stop[o.key(s)] {
			continue
		}
		switch o.action {
		case "LOWER":
			s = strings.ToLower(s)
		case "UPPER":
			s = strings.ToUpper(s)
		}
		kept = append(kept, s)
	}
	n := len(kept)
	if n == 0 {
		kept, n = []string{""}, 1 // the spec's empty value
	}
	shape := []int{n}
	if x.Rank() == 2 {
		shape = []int{1, n}
	}
	out[0].Resize(tensor.String, shape...)
	copy(data[string](out[0]), kept)
	return nil
}
