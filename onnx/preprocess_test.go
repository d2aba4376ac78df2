package onnx

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// PreprocessMetadata and Model.Preprocess are inverses, and malformed
// entries are errors naming the key. (The format is onnxkit's own:
// metadata_props are free-form strings in onnx.proto.)
func TestPreprocessMetadata(t *testing.T) {
	for _, p := range []Preprocess{
		{Mean: 0, Std: 1},
		{Mean: 0.1307, Std: 0.3081, Prepare: PrepareDigit},
		{Mean: 0, Std: 128, Prepare: PrepareResize, Classes: []string{"cat", "dog, brown", `say "hi"`, "日本"}},
	} {
		m := &Model{Metadata: PreprocessMetadata("cnn", p)}
		got, err := m.Preprocess()
		if err != nil || got.Mean != p.Mean || got.Std != p.Std || got.Prepare != p.Prepare || !slices.Equal(got.Classes, p.Classes) {
			t.Errorf("Preprocess(PreprocessMetadata(%+v)) = %+v, %v", p, got, err)
		}
	}
	tests := []struct {
		key, value, want string
	}{
		{MetaPrepare, "crop", `onnxkit.preprocess.prepare = "crop": want "digit" or "resize"`},
		{MetaClasses, `"cat"`, "onnxkit.classes: want a JSON array of strings"},
		{MetaClasses, `["cat", 3]`, "onnxkit.classes: class 1: want a string"},
		{MetaClasses, `["cat", "cat"]`, `onnxkit.classes: class name "cat" appears twice`},
		{MetaClasses, `["cat"] []`, "onnxkit.classes: data after the array"},
		{MetaClasses, `["cat"`, "onnxkit.classes: want a JSON array of strings"},
		{MetaClasses, "[" + strings.TrimSuffix(manyNames(MaxClasses+1), ",") + "]", "more than 65536 class names"},
		{MetaStd, "0", "std 0: want a finite number > 0"},
	}
	for _, tt := range tests {
		m := &Model{Metadata: []StringPair{{Key: tt.key, Value: tt.value}}}
		if _, err := m.Preprocess(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Preprocess(%s = %.40q) error = %v, want %q", tt.key, tt.value, err, tt.want)
		}
	}
}

// manyNames returns n distinct JSON strings, each followed by a comma.
func manyNames(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(`"c` + strconv.Itoa(i) + `",`)
	}
	return b.String()
}
