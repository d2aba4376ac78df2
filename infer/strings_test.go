package infer

import (
	"slices"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

func strT(shape []int, v ...string) *tensor.Tensor { return tensor.Wrap(tensor.String, v, shape...) }

// Expected values as Python's str methods give them: "  a b  c d ".split(None,
// 2) is ['a', 'b', 'c d '], "a,,b".split(",") is ['a', ”, 'b'].
func TestStringOps(t *testing.T) {
	str := func(name, v string) *onnx.Attribute {
		return &onnx.Attribute{Name: name, Type: onnx.AttrString, S: []byte(v)}
	}
	s := func(d ...int) []int { return d }
	for _, c := range []struct {
		name  string
		op    string
		attrs []*onnx.Attribute
		in    []*tensor.Tensor
		want  []*tensor.Tensor
	}{
		{"concat broadcast", "StringConcat", nil, ts(strT(s(2), "a", "b"), strT(nil, "!")), ts(strT(s(2), "a!", "b!"))},
		{"split whitespace maxsplit", "StringSplit", []*onnx.Attribute{ewInt("maxsplit", 2)}, ts(strT(s(2), "  a b  c d ", "x")),
			ts(strT(s(2, 3), "a", "b", "c d ", "x", "", ""), ewI64(s(2), 3, 1))},
		{"split delimiter", "StringSplit", []*onnx.Attribute{str("delimiter", ",")}, ts(strT(s(1), "a,,b")),
			ts(strT(s(1, 3), "a", "", "b"), ewI64(s(1), 3))},
		{"normalize", "StringNormalizer", []*onnx.Attribute{str("case_change_action", "UPPER"),
			{Name: "stopwords", Type: onnx.AttrStrings, Strings: [][]byte{[]byte("the")}}},
			ts(strT(s(1, 3), "The", "Cat", "é")), ts(strT(s(1, 2), "CAT", "É"))},
		{"normalize all dropped", "StringNormalizer", []*onnx.Attribute{{Name: "stopwords", Type: onnx.AttrStrings, Strings: [][]byte{[]byte("x")}}},
			ts(strT(s(1), "X")), ts(strT(s(1), ""))},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ewRun(ewCase{op: c.op, opset: 20, attrs: c.attrs, in: c.in}, len(c.want))
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range c.want {
				if msg := ewDiff(got[i], w); msg != "" {
					t.Errorf("%s output %d: %s", c.op, i, msg)
				}
			}
		})
	}
}

func TestRegexFullMatch(t *testing.T) {
	pattern := &onnx.Attribute{Name: "pattern", Type: onnx.AttrString, S: []byte(`a|b+`)}
	got, err := ewRun(ewCase{op: "RegexFullMatch", opset: 20, attrs: []*onnx.Attribute{pattern},
		in: ts(strT([]int{4}, "a", "bbb", "ab", ""))}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := []bool{true, true, false, false}; !slices.Equal(got[0].B, want) {
		t.Errorf("RegexFullMatch(a|b+) = %v, want %v", got[0].B, want)
	}
	bad := &onnx.Attribute{Name: "pattern", Type: onnx.AttrString, S: []byte(`(`)}
	if _, err := ewRun(ewCase{op: "RegexFullMatch", opset: 20, attrs: []*onnx.Attribute{bad}, in: ts(strT(nil, "a"))}, 1); err == nil {
		t.Errorf("RegexFullMatch with pattern %q: no error", "(")
	}
}
