package onnx

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Metadata keys (metadata_props) with which onnxkit records how a model's
// image input is prepared: pixels are scaled by Scale, then (x-Mean)/Std.
const (
	MetaModel = "onnxkit.model"            // the model kind: mlp, cnn, lenet5
	MetaScale = "onnxkit.preprocess.scale" // "1/255": pixels are divided by 255
	MetaMean  = "onnxkit.preprocess.mean"  // subtracted after scaling ("0" for none)
	MetaStd   = "onnxkit.preprocess.std"   // divided by after subtracting ("1" for none)
	// MetaPrepare says how a picture becomes the input: PrepareDigit or
	// PrepareResize (absent: not recorded).
	MetaPrepare = "onnxkit.preprocess.prepare"
	// MetaClasses names the classes in score order, as a JSON array of
	// strings (torchvision's ImageFolder classes: sorted folder names).
	MetaClasses = "onnxkit.classes"
)

// The values of MetaPrepare.
const (
	// PrepareDigit: the picture of a handwritten digit is prepared the
	// MNIST way (package digit).
	PrepareDigit = "digit"
	// PrepareResize: the picture is resized to the input's height and
	// width, as images of an image folder are for training.
	PrepareResize = "resize"
)

// MaxClasses bounds the number of class names Model.Preprocess accepts.
const MaxClasses = 1 << 16

// Preprocess is how a model's image input is made and its scores read:
// the normalization applied to pixels in [0, 1], (x - Mean) / Std; how a
// picture is prepared (PrepareDigit, PrepareResize, or "" when not
// recorded); and the class names in score order (nil when not recorded).
type Preprocess struct {
	Mean, Std float32
	Prepare   string
	Classes   []string
}

// Identity reports whether p leaves pixels as they are.
func (p Preprocess) Identity() bool { return p.Mean == 0 && p.Std == 1 }

// Check returns an error unless Mean is finite and Std finite and positive.
func (p Preprocess) Check() error {
	if m := float64(p.Mean); math.IsNaN(m) || math.IsInf(m, 0) {
		return fmt.Errorf("mean %v: want a finite number", p.Mean)
	}
	if s := float64(p.Std); !(s > 0) || math.IsInf(s, 0) {
		return fmt.Errorf("std %v: want a finite number > 0", p.Std)
	}
	return nil
}

// Preprocess reads the preprocessing recorded in m's metadata: Mean 0 and
// Std 1 where a key is absent. A value that is not a finite number (or a
// Std that is not positive), an unknown Prepare, or class names that are
// not a JSON array of at most MaxClasses distinct strings is an error
// naming the key.
func (m *Model) Preprocess() (Preprocess, error) {
	p := Preprocess{Mean: 0, Std: 1}
	for _, f := range []struct {
		key string
		dst *float32
	}{{MetaMean, &p.Mean}, {MetaStd, &p.Std}} {
		v, ok := m.MetadataValue(f.key)
		if !ok {
			continue
		}
		x, err := strconv.ParseFloat(v, 32)
		if err != nil {
			return p, fmt.Errorf("onnx: metadata %s = %q: not a number", f.key, v)
		}
		*f.dst = float32(x)
	}
	if err := p.Check(); err != nil {
		return p, fmt.Errorf("onnx: metadata %s, %s: %v", MetaMean, MetaStd, err)
	}
	if v, ok := m.MetadataValue(MetaPrepare); ok {
		if v != PrepareDigit && v != PrepareResize {
			return p, fmt.Errorf("onnx: metadata %s = %q: want %q or %q", MetaPrepare, v, PrepareDigit, PrepareResize)
		}
		p.Prepare = v
	}
	if v, ok := m.MetadataValue(MetaClasses); ok {
		names, err := parseClasses(v)
		if err != nil {
			return p, fmt.Errorf("onnx: metadata %s: %v", MetaClasses, err)
		}
		p.Classes = names
	}
	return p, nil
}

// parseClasses reads a JSON array of distinct strings, refusing more than
// MaxClasses before decoding it.
func parseClasses(v string) ([]string, error) {
	dec := json.NewDecoder(strings.NewReader(v))
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return nil, fmt.Errorf("want a JSON array of strings")
	}
	var names []string
	seen := map[string]bool{}
	for dec.More() {
		if len(names) == MaxClasses {
			return nil, fmt.Errorf("more than %d class names", MaxClasses)
		}
		var s string
		if err := dec.Decode(&s); err != nil {
			return nil, fmt.Errorf("class %d: want a string", len(names))
		}
		if seen[s] {
			return nil, fmt.Errorf("class name %q appears twice", s)
		}
		seen[s] = true
		names = append(names, s)
	}
	if t, err := dec.Token(); err != nil || t != json.Delim(']') {
		return nil, fmt.Errorf("want a JSON array of strings")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the array")
	}
	return names, nil
}

// PreprocessMetadata returns the metadata entries that record p for a
// model of the given kind, as Model.Preprocess reads them (Prepare and
// Classes only when set).
func PreprocessMetadata(kind string, p Preprocess) []StringPair {
	md := []StringPair{
		{Key: MetaModel, Value: kind},
		{Key: MetaScale, Value: "1/255"},
		{Key: MetaMean, Value: strconv.FormatFloat(float64(p.Mean), 'g', -1, 32)},
		{Key: MetaStd, Value: strconv.FormatFloat(float64(p.Std), 'g', -1, 32)},
	}
	if p.Prepare != "" {
		md = append(md, StringPair{Key: MetaPrepare, Value: p.Prepare})
	}
	if p.Classes != nil {
		b, _ := json.Marshal(p.Classes) // strings always marshal
		md = append(md, StringPair{Key: MetaClasses, Value: string(b)})
	}
	return md
}
