package convert

import (
	"fmt"
	"strings"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// target is a runtime Convert can rewrite for: the newest opset it runs,
// the lowerings it needs (in order) and a check of every node afterwards.
type target struct {
	maxOpset  int64
	lowerings []string
	check     func(r *rewriter, n *onnx.Node) ([]*onnx.Node, error)
}

// targets is the one table of what each runtime needs.
var targets = map[string]target{
	// onnxruntime runs every opset Convert writes.
	"ort": {maxOpset: MaxOpset, check: keep},
	// github.com/owulveryck/onnx-go v0.5.0 with its Gorgonia backend reads
	// Squeeze/Unsqueeze axes and Dropout's ratio as attributes (opset 11),
	// has no Pad or AveragePool, no Conv groups, and resolves a Reshape's
	// -1 wrongly; its Gemm wants C.
	"onnx-go": {maxOpset: 11, lowerings: []string{"fold-pad", "avgpool-conv", "static-reshape", "gemm-c", "positive-axes"}, check: onnxGoCheck},
}

// lowerings rewrite one node into ops a runtime has; each returns the
// nodes that replace it (the node itself when it does not apply).
var lowerings = map[string]func(r *rewriter, n *onnx.Node) ([]*onnx.Node, error){
	"fold-pad":       foldPad,
	"avgpool-conv":   avgPoolConv,
	"static-reshape": staticReshape,
	"gemm-c":         gemmC,
	"positive-axes":  positiveAxes,
}

func keep(r *rewriter, n *onnx.Node) ([]*onnx.Node, error) { return []*onnx.Node{n}, nil }

// consumers lists the nodes reading a value, and whether it is a graph
// output.
func (r *rewriter) consumers(name string) (ns []*onnx.Node, output bool) {
	for _, n := range r.g.Nodes {
		for _, in := range n.Inputs {
			if in == name {
				ns = append(ns, n)
				break
			}
		}
	}
	for _, o := range r.g.Outputs {
		output = output || o.Name == name
	}
	return ns, output
}

// padAmounts returns a constant-mode zero Pad's pads (attribute or input).
func (r *rewriter) padAmounts(n *onnx.Node) ([]int64, bool) {
	if attrString(n, "mode", "constant") != "constant" || attrFloat(n, "value", 0) != 0 {
		return nil, false
	}
	if pads, ok := attrInts(n, "pads"); ok {
		return pads, true
	}
	if len(n.Inputs) > 3 && n.Inputs[3] != "" {
		return nil, false // axes
	}
	if v, present, ok := r.constFloat(n, 2); present && (!ok || v != 0) {
		return nil, false
	}
	pads, present, ok := r.constInts(n, 1)
	return pads, present && ok
}

// foldPad removes a zero Pad of the spatial dimensions whose every reader
// is a Conv or an AveragePool that counts padding, moving the pads into
// theirs. (A MaxPool pads with -inf, not zero.)
func foldPad(r *rewriter, n *onnx.Node) ([]*onnx.Node, error) {
	if n.OpType != "Pad" || n.Domain != "" {
		return []*onnx.Node{n}, nil
	}
	pads, ok := r.padAmounts(n)
	rank := len(pads) / 2
	if !ok || rank < 3 || len(pads) != 2*rank || anyNegative(pads) || pads[0] != 0 || pads[1] != 0 || pads[rank] != 0 || pads[rank+1] != 0 {
		return []*onnx.Node{n}, nil
	}
	readers, output := r.consumers(n.Outputs[0])
	if output || len(readers) == 0 {
		return []*onnx.Node{n}, nil
	}
	sp := rank - 2
	for _, c := range readers {
		if c.Inputs[0] != n.Outputs[0] || attrString(c, "auto_pad", "NOTSET") != "NOTSET" {
			return []*onnx.Node{n}, nil
		}
		for _, in := range c.Inputs[1:] {
			if in == n.Outputs[0] {
				return []*onnx.Node{n}, nil
			}
		}
		switch c.OpType {
		case "Conv":
		case "AveragePool":
			if attrInt(c, "count_include_pad", 0) == 0 {
				if own, _ := attrInts(c, "pads"); anyNonZero(own) {
					return []*onnx.Node{n}, nil
				}
			}
		default:
			return []*onnx.Node{n}, nil
		}
		if own, ok := attrInts(c, "pads"); ok && len(own) != 2*sp {
			return []*onnx.Node{n}, nil
		}
	}
	for _, c := range readers {
		own, ok := attrInts(c, "pads")
		if !ok {
			own = make([]int64, 2*sp)
		}
		sum := make([]int64, 2*sp)
		for i := 0; i < sp; i++ {
			sum[i] = own[i] + pads[2+i]
			sum[sp+i] = own[sp+i] + pads[rank+2+i]
		}
		setAttr(c, intsAttr("pads", sum))
		if c.OpType == "AveragePool" && anyNonZero(pads) {
			setAttr(c, intAttr("count_include_pad", 1))
		}
		c.Inputs[0] = n.Inputs[0]
	}
	return nil, nil
}

func anyNegative(v []int64) bool {
	for _, x := range v {
		if x < 0 {
			return true
		}
	}
	return false
}

func anyNonZero(v []int64) bool {
	for _, x := range v {
		if x != 0 {
			return true
		}
	}
	return false
}

// avgPoolConv turns a 2-D AveragePool into a Conv with constant weights:
// for C channels a C x C x kh x kw kernel, 1/(kh*kw) on the diagonal
// channel pairs, since the runtime's Conv has no groups.
func avgPoolConv(r *rewriter, n *onnx.Node) ([]*onnx.Node, error) {
	if n.OpType != "AveragePool" || n.Domain != "" {
		return []*onnx.Node{n}, nil
	}
	kernel, _ := attrInts(n, "kernel_shape")
	x := r.shapes[n.Inputs[0]]
	if len(kernel) != 2 || len(x) != 4 {
		return nil, fmt.Errorf("only 2-D pooling of a 4-D input of known rank becomes a Conv")
	}
	if attrInt(n, "ceil_mode", 0) != 0 || attrString(n, "auto_pad", "NOTSET") != "NOTSET" {
		return nil, fmt.Errorf("ceil_mode and auto_pad have no Conv equivalent")
	}
	if pads, _ := attrInts(n, "pads"); anyNonZero(pads) && attrInt(n, "count_include_pad", 0) == 0 {
		return nil, fmt.Errorf("pads with count_include_pad=0 divide by a varying count, which a Conv cannot")
	}
	if dil, ok := attrInts(n, "dilations"); ok && (len(dil) != 2 || dil[0] != 1 || dil[1] != 1) {
		return nil, fmt.Errorf("dilations other than 1 are not lowered")
	}
	c := x[1]
	kh, kw := kernel[0], kernel[1]
	const maxWeights = 1 << 26
	if c <= 0 || kh <= 0 || kw <= 0 || c > maxWeights/c || c*c > maxWeights/(kh*kw) || kh*kw > maxWeights {
		return nil, fmt.Errorf("channels %d, kernel %dx%d: no Conv of at most %d weights", c, kh, kw, maxWeights)
	}
	w := tensor.New(tensor.Float32, int(c), int(c), int(kh), int(kw))
	if r.dtypes[n.Inputs[0]] == tensor.Float64 {
		return nil, fmt.Errorf("float64 pooling is not lowered")
	}
	plane := int(kh * kw)
	for ch := 0; ch < int(c); ch++ {
		off := (ch*int(c) + ch) * plane
		for i := 0; i < plane; i++ {
			w.F32[off+i] = 1 / float32(plane)
		}
	}
	conv := &onnx.Node{Name: n.Name, OpType: "Conv", Inputs: []string{n.Inputs[0], r.addConst(n.Name+"_weight", w)},
		Outputs: n.Outputs[:1], Attrs: []*onnx.Attribute{intsAttr("kernel_shape", kernel)}}
	for _, name := range []string{"pads", "strides"} {
		if v, ok := attrInts(n, name); ok {
			setAttr(conv, intsAttr(name, v))
		}
	}
	return []*onnx.Node{conv}, nil
}

// staticReshape replaces a Reshape's 0 and -1 by the sizes they stand for:
// a static shape, or a Flatten when only the first dimension is unknown.
func staticReshape(r *rewriter, n *onnx.Node) ([]*onnx.Node, error) {
	if n.OpType != "Reshape" || n.Domain != "" {
		return []*onnx.Node{n}, nil
	}
	shape, present, ok := r.constInts(n, 1)
	if !present || !ok {
		return nil, fmt.Errorf("the shape input must be a constant")
	}
	if !anyOf(shape, 0) && !anyOf(shape, -1) {
		return []*onnx.Node{n}, nil
	}
	out := r.shapes[n.Outputs[0]]
	if static(out) {
		n.Inputs[1] = r.addConst(n.Name+"_shape", tensor.FromInt64(append([]int64(nil), out...), len(out)))
		return []*onnx.Node{n}, nil
	}
	x := r.shapes[n.Inputs[0]]
	if len(out) == 2 && len(x) >= 2 && out[1] >= 0 && prod(x[1:]) == out[1] {
		return []*onnx.Node{{Name: n.Name, OpType: "Flatten", Inputs: n.Inputs[:1], Outputs: n.Outputs,
			Attrs: []*onnx.Attribute{intAttr("axis", 1)}}}, nil
	}
	return nil, fmt.Errorf("shape %v has 0 or -1 and the input's shape %s is not known well enough (give the batch size)", shape, shapeString(x))
}

func anyOf(v []int64, x int64) bool {
	for _, y := range v {
		if y == x {
			return true
		}
	}
	return false
}

// gemmC gives a Gemm without C a zero one.
func gemmC(r *rewriter, n *onnx.Node) ([]*onnx.Node, error) {
	if n.OpType == "Gemm" && n.Domain == "" && (len(n.Inputs) < 3 || n.Inputs[2] == "") {
		setInput(n, 2, r.addConst(n.Name+"_C", r.scalarLike(n.Inputs[0], 0)))
	}
	return []*onnx.Node{n}, nil
}

// onnxGoOps are the operators onnx-go v0.5.0's Gorgonia backend registers.
var onnxGoOps = map[string]bool{}

func init() {
	for _, op := range strings.Fields(`Mul Div Sub Add Abs Sign Ceil Floor Sin Cos Exp Log Log2 Relu Neg Square
		Sqrt Inverse Cube Tanh Sigmoid Log1p Expm1 Softplus BatchNormalization Concat Constant Conv Dropout
		Flatten GlobalAveragePool Gemm Identity ImageScaler LeakyRelu MatMul MaxPool Min Max Reshape Softmax
		Squeeze Transpose Unsqueeze`) {
		onnxGoOps[op] = true
	}
}

// onnxGoCheck refuses what onnx-go cannot run after the lowerings.
func onnxGoCheck(r *rewriter, n *onnx.Node) ([]*onnx.Node, error) {
	if n.Domain != "" || !onnxGoOps[n.OpType] {
		return nil, fmt.Errorf("onnx-go has no %s", n.OpType)
	}
	symmetric := func(p []int64) bool {
		h := len(p) / 2
		for i := 0; i < h; i++ {
			if p[i] != p[i+h] {
				return false
			}
		}
		return true
	}
	switch n.OpType {
	case "Conv":
		if attrInt(n, "group", 1) != 1 {
			return nil, fmt.Errorf("onnx-go's Conv has no groups")
		}
		if p, _ := attrInts(n, "pads"); !symmetric(p) {
			return nil, fmt.Errorf("onnx-go's Conv pads each side alike")
		}
		k, _ := attrInts(n, "kernel_shape")
		if rank := r.rank(n.Inputs[0]); rank >= 0 && rank != 4 || k != nil && len(k) != 2 {
			return nil, fmt.Errorf("onnx-go runs 2-D convolutions only")
		}
	case "MaxPool":
		if n.Attr("dilations") != nil || attrInt(n, "ceil_mode", 0) != 0 || len(n.Outputs) > 1 {
			return nil, fmt.Errorf("onnx-go's MaxPool has no dilations, ceil_mode or indices")
		}
		if k, _ := attrInts(n, "kernel_shape"); len(k) != 2 {
			return nil, fmt.Errorf("onnx-go's MaxPool is 2-D only")
		}
		if p, _ := attrInts(n, "pads"); !symmetric(p) {
			return nil, fmt.Errorf("onnx-go's MaxPool pads each side alike")
		}
	case "Gemm":
		for _, in := range n.Inputs[:2] {
			if s := r.shapes[in]; s != nil && len(s) != 2 {
				return nil, fmt.Errorf("input %q is not 2-D", in)
			}
		}
		// Its Gemm adds C when C has 1, N or M*N values, as a row when N.
		if len(n.Inputs) < 3 {
			return nil, fmt.Errorf("onnx-go's Gemm needs C")
		}
		if c := r.shapes[n.Inputs[2]]; c != nil {
			if len(c) > 2 || len(c) == 2 && c[1] == 1 && c[0] != 1 {
				return nil, fmt.Errorf("onnx-go's Gemm does not broadcast C of shape %v", c)
			}
		} else if r.constant(n.Inputs[2]) == nil {
			return nil, fmt.Errorf("onnx-go's Gemm needs C of a known shape")
		}
	case "Reshape":
		if shape, _, ok := r.constInts(n, 1); !ok || anyOf(shape, -1) || anyOf(shape, 0) {
			return nil, fmt.Errorf("onnx-go needs a constant shape without 0 or -1")
		}
	}
	return []*onnx.Node{n}, nil
}

// positiveAxes makes negative axes positive (the runtime counts them as
// given), from the input's rank.
func positiveAxes(r *rewriter, n *onnx.Node) ([]*onnx.Node, error) {
	var s step
	switch n.OpType {
	case "Flatten", "Softmax", "Concat":
		s = negAxis("axis")
	case "Squeeze", "Unsqueeze":
		s = negAxes("axes")
	default:
		return []*onnx.Node{n}, nil
	}
	if _, _, err := s(r, n, 0); err != nil {
		return nil, err
	}
	return []*onnx.Node{n}, nil
}
