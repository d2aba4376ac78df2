// Package quantize rewrites a float32 ONNX model into an int8 one: weights
// quantized symmetrically (per output channel or per tensor), activations
// asymmetrically to uint8 with ranges from calibration inputs, written in
// the QDQ format (QuantizeLinear/DequantizeLinear pairs around the float
// ops) or the QOperator format (QLinearConv and QLinearMatMul).
//
// Quantized are Conv, Gemm (transA 0, alpha 1, beta 1) and MatMul whose
// weights (and bias) are initializers; other nodes stay float.
package quantize

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/onnxkit/onnxkit/infer"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// Format is how the quantized model is written.
type Format int

const (
	QDQ       Format = iota // QuantizeLinear/DequantizeLinear around float ops
	QOperator               // QLinearConv, QLinearMatMul
)

// Method is how activation ranges come from the calibration values.
type Method int

const (
	MinMax     Method = iota // the smallest and largest values seen
	Percentile               // the Percentile-th percentiles of each tail
)

// Options control Quantize; the zero value writes QDQ with per-tensor
// weights, min-max ranges and 7-bit weights.
type Options struct {
	Format     Format
	PerChannel bool    // a weight scale per output channel
	Method     Method  //
	Percentile float64 // for Percentile: the share of values kept, in percent (0: 99.999)
	// WeightBits is the weights' width, 7 or 8 (0: 7). 7-bit weights keep
	// every pair of uint8 x int8 products within int16, so kernels that add
	// pairs with saturation (x86's VPMADDUBSW, as onnxruntime uses without
	// VNNI) stay exact.
	WeightBits int
}

// target is a node to quantize, with what calibration measured.
type target struct {
	node   *onnx.Node
	x      string         // the float input
	w      *tensor.Tensor // weights as the node uses them
	b      *tensor.Tensor // bias or nil
	transB bool           // Gemm's weights are N x K
	nobias string         // a Gemm's product before its bias, for QLinearMatMul's output scale; or ""
	xr, yr [2]float32     // calibrated ranges of x and of the output
	mr     [2]float32     // of nobias
}

// Quantize returns an int8 version of m, calibrated on the given inputs
// (each a map from graph input name to a batch). m is not modified.
func Quantize(m *onnx.Model, calib []map[string]*tensor.Tensor, opt Options) (*onnx.Model, error) {
	if m.Graph == nil {
		return nil, errors.New("quantize: model has no graph")
	}
	if len(calib) == 0 {
		return nil, errors.New("quantize: no calibration inputs")
	}
	if opt.WeightBits == 0 {
		opt.WeightBits = 7
	}
	if opt.WeightBits != 7 && opt.WeightBits != 8 {
		return nil, fmt.Errorf("quantize: weight width %d bits, want 7 or 8", opt.WeightBits)
	}
	if opt.Percentile == 0 {
		opt.Percentile = 99.999
	}
	if opt.Percentile <= 50 || opt.Percentile > 100 {
		return nil, fmt.Errorf("quantize: percentile %g, want (50, 100]", opt.Percentile)
	}
	opset, _ := m.Opset("")
	minOpset := int64(10)
	if opt.Format == QDQ && opt.PerChannel {
		minOpset = 13 // per-axis DequantizeLinear
	}
	if opset < minOpset {
		return nil, fmt.Errorf("quantize: model opset %d, this format needs %d or later", opset, minOpset)
	}
	targets := findTargets(m.Graph)
	if len(targets) == 0 {
		return nil, errors.New("quantize: no Conv, Gemm or MatMul node with constant weights")
	}
	if err := calibrate(m, targets, calib, opt); err != nil {
		return nil, err
	}
	return rewrite(m, targets, opt)
}

func findTargets(g *onnx.Graph) []*target {
	inits := map[string]*tensor.Tensor{}
	for _, in := range g.Initializers {
		inits[in.Name] = in.Tensor
	}
	float := func(name string) *tensor.Tensor {
		if t := inits[name]; t != nil && t.DType == tensor.Float32 {
			return t
		}
		return nil
	}
	var ts []*target
	for _, n := range g.Nodes {
		if n.Domain != "" || len(n.Inputs) < 2 || len(n.Outputs) != 1 || inits[n.Inputs[0]] != nil {
			continue
		}
		t := &target{node: n, x: n.Inputs[0], w: float(n.Inputs[1])}
		if t.w == nil {
			continue
		}
		if len(n.Inputs) > 2 && n.Inputs[2] != "" {
			if t.b = float(n.Inputs[2]); t.b == nil {
				continue
			}
		}
		switch n.OpType {
		case "Conv":
			if t.w.Rank() < 3 || (t.b != nil && (t.b.Rank() != 1 || t.b.Shape[0] != t.w.Shape[0])) {
				continue
			}
		case "Gemm":
			if intAttr(n, "transA", 0) != 0 || floatAttr(n, "alpha", 1) != 1 || t.w.Rank() != 2 {
				continue
			}
			t.transB = intAttr(n, "transB", 0) == 1
			ncols := t.w.Shape[1]
			if t.transB {
				ncols = t.w.Shape[0]
			}
			if t.b != nil {
				if floatAttr(n, "beta", 1) != 1 || t.b.Len() != ncols || t.b.Rank() > 2 || (t.b.Rank() == 2 && t.b.Shape[0] != 1) {
					continue
				}
				t.nobias = n.Outputs[0] + "/quantize_nobias"
			}
		case "MatMul":
			if t.w.Rank() != 2 || len(n.Inputs) != 2 {
				continue
			}
		default:
			continue
		}
		ts = append(ts, t)
	}
	return ts
}

func intAttr(n *onnx.Node, name string, def int64) int64 {
	if a := n.Attr(name); a != nil && a.Type == onnx.AttrInt {
		return a.I
	}
	return def
}

func floatAttr(n *onnx.Node, name string, def float32) float32 {
	if a := n.Attr(name); a != nil && a.Type == onnx.AttrFloat {
		return a.F
	}
	return def
}

// maxSamples bounds the values kept per tensor for percentiles (beyond it,
// every k-th value is kept).
const maxSamples = 1 << 22

// calibrate runs m with every target's input and output (for a Gemm with
// bias, its product before the bias, from an added Gemm without C) as
// graph outputs and records their ranges.
func calibrate(m *onnx.Model, ts []*target, calib []map[string]*tensor.Tensor, opt Options) error {
	g := *m.Graph
	g.Nodes = slices.Clone(g.Nodes)
	g.Outputs = slices.Clone(g.Outputs)
	names := map[string]bool{}
	for _, o := range g.Outputs {
		names[o.Name] = true
	}
	for _, t := range ts {
		if t.nobias != "" {
			c := *t.node
			c.Name += "/quantize_nobias"
			c.Inputs = c.Inputs[:2]
			c.Outputs = []string{t.nobias}
			g.Nodes = append(g.Nodes, &c)
		}
		for _, v := range []string{t.x, t.node.Outputs[0], t.nobias} {
			if v != "" && !names[v] {
				names[v] = true
				g.Outputs = append(g.Outputs, &onnx.ValueInfo{Name: v, DType: tensor.Float32, ElemType: 1})
			}
		}
	}
	cm := *m
	cm.Graph = &g
	s, err := infer.NewSession(&cm)
	if err != nil {
		return fmt.Errorf("quantize: calibration model: %w", err)
	}
	ranges := map[string]*[2]float32{}
	samples := map[string][]float32{}
	seen := map[string]int{}
	for _, in := range calib {
		out, err := s.Run(in)
		if err != nil {
			return fmt.Errorf("quantize: calibration: %w", err)
		}
		for name := range names {
			v := out[name]
			if v == nil || v.DType != tensor.Float32 {
				continue
			}
			r := ranges[name]
			if r == nil {
				r = &[2]float32{}
				ranges[name] = r
			}
			for _, x := range v.F32 {
				r[0], r[1] = min(r[0], x), max(r[1], x)
			}
			if opt.Method == Percentile {
				step := 1 + (seen[name]+len(v.F32))/maxSamples
				for i := 0; i < len(v.F32); i += step {
					samples[name] = append(samples[name], v.F32[i])
				}
				seen[name] += len(v.F32)
			}
		}
	}
	for name, sm := range samples {
		slices.Sort(sm)
		q := opt.Percentile / 100
		lo, hi := sm[int(float64(len(sm)-1)*(1-q))], sm[int(math.Ceil(float64(len(sm)-1)*q))]
		ranges[name] = &[2]float32{min(lo, 0), max(hi, 0)}
	}
	for _, t := range ts {
		rx, ry, rm := ranges[t.x], ranges[t.node.Outputs[0]], ranges[t.nobias]
		if rx == nil || ry == nil || (t.nobias != "" && rm == nil) {
			return fmt.Errorf("quantize: node %q: no float32 calibration values", t.node.Name)
		}
		t.xr, t.yr = *rx, *ry
		if rm != nil {
			t.mr = *rm
		}
	}
	return nil
}

// actParams returns the uint8 scale and zero point of a range containing 0.
func actParams(r [2]float32) (float32, uint8) {
	lo, hi := min(r[0], 0), max(r[1], 0)
	s := (hi - lo) / 255
	if s == 0 {
		return 1, 0
	}
	zp := math.RoundToEven(float64(-lo / s))
	return s, uint8(min(max(zp, 0), 255))
}

// quantWeights returns w (output channels along axis) as int8 with its
// symmetric scales, one per channel or one in all.
func quantWeights(w *tensor.Tensor, channels int, chanOf func(i int) int, perChannel bool, bits int) (*tensor.Tensor, []float32) {
	qmax := float32(int(1)<<(bits-1) - 1)
	absMax := make([]float32, channels)
	for i, v := range w.F32 {
		c := chanOf(i)
		absMax[c] = max(absMax[c], float32(math.Abs(float64(v))))
	}
	if !perChannel {
		all := slices.Max(absMax)
		absMax = []float32{all}
		chanOf = func(int) int { return 0 }
	}
	scales := make([]float32, len(absMax))
	for c, a := range absMax {
		scales[c] = a / qmax
		if a == 0 {
			scales[c] = 1
		}
	}
	q := tensor.New(tensor.Int8, w.Shape...)
	for i, v := range w.F32 {
		r := math.RoundToEven(float64(v / scales[chanOf(i)]))
		q.I8[i] = int8(min(max(r, float64(-qmax)), float64(qmax)))
	}
	return q, scales
}

// builder collects the nodes and initializers of the rewritten graph.
type builder struct {
	nodes  []*onnx.Node
	inits  []*onnx.Initializer
	quants map[string]string // float value -> its QuantizeLinear output
}

func (b *builder) init(name string, t *tensor.Tensor) string {
	b.inits = append(b.inits, &onnx.Initializer{Name: name, Tensor: t})
	return name
}

func (b *builder) node(op, name string, in, out []string, attrs ...*onnx.Attribute) {
	b.nodes = append(b.nodes, &onnx.Node{Name: name, OpType: op, Inputs: in, Outputs: out, Attrs: attrs})
}

func scalar(v float32) *tensor.Tensor { return tensor.FromFloat32([]float32{v}) }

func scalarU8(v uint8) *tensor.Tensor {
	t := tensor.New(tensor.Uint8)
	t.U8[0] = v
	return t
}

// quantized returns x quantized to uint8 with the range r (one
// QuantizeLinear per value) and its scale and zero point's names.
func (b *builder) quantized(x string, r [2]float32) (q, s, z string) {
	s, z = x+"/quant_scale", x+"/quant_zero_point"
	if q, ok := b.quants[x]; ok {
		return q, s, z
	}
	sc, zp := actParams(r)
	b.init(s, scalar(sc))
	b.init(z, scalarU8(zp))
	q = x + "/quantized"
	b.node("QuantizeLinear", x+"/QuantizeLinear", []string{x, s, z}, []string{q})
	b.quants[x] = q
	return q, s, z
}

func rewrite(m *onnx.Model, ts []*target, opt Options) (*onnx.Model, error) {
	byNode := map[*onnx.Node]*target{}
	for _, t := range ts {
		byNode[t.node] = t
	}
	b := &builder{quants: map[string]string{}}
	for _, n := range m.Graph.Nodes {
		t := byNode[n]
		if t == nil {
			b.nodes = append(b.nodes, n)
			continue
		}
		b.target(t, opt)
	}
	g := *m.Graph
	g.Nodes = b.nodes
	used := map[string]bool{}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			used[in] = true
		}
	}
	for _, o := range g.Outputs {
		used[o.Name] = true
	}
	g.Initializers = nil
	for _, in := range append(slices.Clone(m.Graph.Initializers), b.inits...) {
		if used[in.Name] {
			g.Initializers = append(g.Initializers, in)
		}
	}
	out := *m
	out.Graph = &g
	return &out, nil
}

// target writes the quantized form of one node.
func (b *builder) target(t *target, opt Options) {
	n := t.node
	base := n.Outputs[0]
	y := n.Outputs[0]
	// Weights: channels along axis 0 (Conv; Gemm with transB) or 1.
	w := t.w
	channels, axis := w.Shape[0], int64(0)
	per := w.Len() / max(channels, 1)
	chanOf := func(i int) int { return i / per }
	if n.OpType != "Conv" && !t.transB {
		channels, axis = w.Shape[1], 1
		chanOf = func(i int) int { return i % channels }
	}
	wq, ws := quantWeights(w, channels, chanOf, opt.PerChannel, opt.WeightBits)
	if opt.Format == QOperator && axis == 0 && n.OpType != "Conv" { // QLinearMatMul takes K x N
		wq = transpose(wq)
		axis = 1
	}
	wsT := tensor.FromFloat32(ws, len(ws))
	wzT := tensor.New(tensor.Int8, len(ws))
	if len(ws) == 1 {
		wsT, wzT = scalar(ws[0]), tensor.New(tensor.Int8)
	}
	wqName := b.init(base+"/weight_quantized", wq)
	wsName := b.init(base+"/weight_scale", wsT)
	wzName := b.init(base+"/weight_zero_point", wzT)
	xs, _ := actParams(t.xr)
	var bq *tensor.Tensor // bias as int32, scale xs*ws
	var bscale []float32
	if t.b != nil {
		bq = tensor.New(tensor.Int32, t.b.Len())
		bscale = make([]float32, t.b.Len())
		for i, v := range t.b.F32 {
			bscale[i] = xs * ws[min(i, len(ws)-1)]
			bq.I32[i] = int32(math.RoundToEven(float64(v / bscale[i])))
		}
	}
	xq, xsName, xzName := b.quantized(t.x, t.xr)
	if opt.Format == QDQ {
		xdq := t.x + "/dequantized"
		if _, ok := b.quants[xdq]; !ok {
			b.quants[xdq] = xdq
			b.node("DequantizeLinear", t.x+"/DequantizeLinear", []string{xq, xsName, xzName}, []string{xdq})
		}
		wdq := base + "/weight_dequantized"
		b.node("DequantizeLinear", base+"/weight/DequantizeLinear", []string{wqName, wsName, wzName}, []string{wdq}, axisAttr(axis))
		in := []string{xdq, wdq}
		if bq != nil {
			bs := b.init(base+"/bias_scale", tensor.FromFloat32(bscale, len(bscale)))
			bz := b.init(base+"/bias_zero_point", tensor.New(tensor.Int32, len(bscale)))
			bqName := b.init(base+"/bias_quantized", bq)
			b.node("DequantizeLinear", base+"/bias/DequantizeLinear", []string{bqName, bs, bz}, []string{base + "/bias_dequantized"}, axisAttr(0))
			in = append(in, base+"/bias_dequantized")
		}
		c := *n
		c.Inputs = in
		c.Outputs = []string{base + "/float"}
		b.nodes = append(b.nodes, &c)
		yq, ys, yz := b.quantized(base+"/float", t.yr)
		b.node("DequantizeLinear", base+"/output/DequantizeLinear", []string{yq, ys, yz}, []string{y})
		return
	}
	if n.OpType == "Conv" {
		ysc, yzp := actParams(t.yr)
		ys, yz := b.init(base+"/output_scale", scalar(ysc)), b.init(base+"/output_zero_point", scalarU8(yzp))
		in := []string{xq, xsName, xzName, wqName, wsName, wzName, ys, yz}
		if bq != nil {
			in = append(in, b.init(base+"/bias_quantized", bq))
		}
		b.nodes = append(b.nodes, &onnx.Node{Name: n.Name + "/QLinearConv", OpType: "QLinearConv", Inputs: in,
			Outputs: []string{base + "/output_quantized"}, Attrs: n.Attrs})
		b.node("DequantizeLinear", base+"/output/DequantizeLinear", []string{base + "/output_quantized", ys, yz}, []string{y})
		return
	}
	r := t.yr
	if t.nobias != "" {
		r = t.mr
	}
	ysc, yzp := actParams(r)
	ys, yz := b.init(base+"/product_scale", scalar(ysc)), b.init(base+"/product_zero_point", scalarU8(yzp))
	b.node("QLinearMatMul", n.Name+"/QLinearMatMul", []string{xq, xsName, xzName, wqName, wsName, wzName, ys, yz}, []string{base + "/output_quantized"})
	if t.b == nil {
		b.node("DequantizeLinear", base+"/output/DequantizeLinear", []string{base + "/output_quantized", ys, yz}, []string{y})
		return
	}
	b.node("DequantizeLinear", base+"/output/DequantizeLinear", []string{base + "/output_quantized", ys, yz}, []string{base + "/product"})
	b.node("Add", n.Name+"/bias", []string{base + "/product", n.Inputs[2]}, []string{y})
}

// axisAttr is DequantizeLinear's axis attribute.
func axisAttr(axis int64) *onnx.Attribute {
	return &onnx.Attribute{Name: "axis", Type: onnx.AttrInt, I: axis}
}

func transpose(t *tensor.Tensor) *tensor.Tensor {
	r, c := t.Shape[0], t.Shape[1]
	o := tensor.New(t.DType, c, r)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			o.I8[j*r+i] = t.I8[i*c+j]
		}
	}
	return o
}
