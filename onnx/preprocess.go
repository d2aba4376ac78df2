package onnx

import (
	"fmt"
	"math"
	"strconv"
)

// Metadata keys (metadata_props) with which onnxkit records how a model's
// image input is prepared: pixels are scaled by Scale, then (x-Mean)/Std.
const (
	MetaModel = "onnxkit.model"            // the model kind: mlp, cnn, lenet5
	MetaScale = "onnxkit.preprocess.scale" // "1/255": pixels are divided by 255
	MetaMean  = "onnxkit.preprocess.mean"  // subtracted after scaling ("0" for none)
	MetaStd   = "onnxkit.preprocess.std"   // divided by after subtracting ("1" for none)
)

// Preprocess is the normalization applied to pixels in [0, 1] before a
// model sees them: (x - Mean) / Std.
type Preprocess struct {
	Mean, Std float32
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

// Preprocess reads the normalization recorded in m's metadata: Mean 0 and
// Std 1 where a key is absent. A value that is not a finite number (or a
// Std that is not positive) is an error naming the key.
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
	return p, nil
}

// PreprocessMetadata returns the metadata entries that record p for a
// model of the given kind, as Model.Preprocess reads them.
func PreprocessMetadata(kind string, p Preprocess) []StringPair {
	return []StringPair{
		{Key: MetaModel, Value: kind},
		{Key: MetaScale, Value: "1/255"},
		{Key: MetaMean, Value: strconv.FormatFloat(float64(p.Mean), 'g', -1, 32)},
		{Key: MetaStd, Value: strconv.FormatFloat(float64(p.Std), 'g', -1, 32)},
	}
}
