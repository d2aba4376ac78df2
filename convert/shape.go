package convert

import (
	"fmt"
	"math"
	"strings"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// inferShapes works out the static shapes (rank, and the dimensions it can)
// and element types of the main graph's values from the declared inputs,
// the initializers and the ops whose shape rules it knows. A value it
// cannot work out is left out.
func (r *rewriter) inferShapes() {
	r.shapes = map[string][]int64{}
	r.dtypes = map[string]tensor.DType{}
	declare := func(v *onnx.ValueInfo) {
		if v.DType != tensor.Invalid {
			r.dtypes[v.Name] = v.DType
		}
		if !v.HasShape {
			return
		}
		s := make([]int64, len(v.Shape))
		for i, d := range v.Shape {
			s[i] = d.Value
			if d.Value <= 0 && d.Param != "" || d.Value < 0 {
				s[i] = -1
			}
		}
		r.shapes[v.Name] = s
	}
	for _, v := range r.g.ValueInfo {
		declare(v)
	}
	for _, v := range r.g.Inputs {
		declare(v)
	}
	for name, t := range r.consts {
		s := make([]int64, len(t.Shape))
		for i, d := range t.Shape {
			s[i] = int64(d)
		}
		r.shapes[name] = s
		r.dtypes[name] = t.DType
	}
	for _, n := range r.g.Nodes {
		if n.Domain != "" || len(n.Outputs) == 0 {
			continue
		}
		if s := r.outShape(n); s != nil {
			r.shapes[n.Outputs[0]] = s
		}
		if len(n.Inputs) > 0 {
			if dt, ok := r.dtypes[n.Inputs[0]]; ok && sameType[n.OpType] {
				r.dtypes[n.Outputs[0]] = dt
			}
		}
	}
}

// sameType lists ops whose first output has their first input's type.
var sameType = map[string]bool{}

// unaryShape lists ops whose first output has their first input's shape.
var unaryShape = map[string]bool{}

func init() {
	for _, op := range strings.Fields(`Relu Tanh Sigmoid Abs Neg Exp Log Sqrt Erf Identity Dropout LeakyRelu
		Elu Selu Softplus Softsign Softmax LogSoftmax Hardmax Clip BatchNormalization LRN InstanceNormalization
		Reciprocal Floor Ceil HardSigmoid HardSwish Sign Round PRelu Gelu Sin Cos`) {
		unaryShape[op] = true
		sameType[op] = true
	}
	for _, op := range strings.Fields(`Add Sub Mul Div Pow Max Min Sum Mean Conv MaxPool AveragePool
		GlobalAveragePool GlobalMaxPool Gemm MatMul Flatten Reshape Transpose Pad Squeeze Unsqueeze Concat`) {
		sameType[op] = true
	}
}

// rank is the rank of a value, or -1 when it is unknown.
func (r *rewriter) rank(name string) int {
	if s, ok := r.shapes[name]; ok {
		return len(s)
	}
	return -1
}

func (r *rewriter) outShape(n *onnx.Node) []int64 {
	in := func(i int) []int64 {
		if i < len(n.Inputs) {
			return r.shapes[n.Inputs[i]]
		}
		return nil
	}
	x := in(0)
	switch op := n.OpType; {
	case unaryShape[op]:
		return x
	case op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Pow" || op == "Max" ||
		op == "Min" || op == "Sum" || op == "Mean" || op == "Equal" || op == "Greater" || op == "Less" || op == "Where":
		out := x
		for i := 1; i < len(n.Inputs); i++ {
			out = broadcast(out, in(i))
		}
		return out
	case op == "Conv" || op == "MaxPool" || op == "AveragePool":
		return r.poolShape(n, x, in(1))
	case op == "GlobalAveragePool" || op == "GlobalMaxPool":
		if len(x) < 2 {
			return nil
		}
		out := append([]int64(nil), x...)
		for i := 2; i < len(out); i++ {
			out[i] = 1
		}
		return out
	case op == "Gemm":
		a, b := x, in(1)
		if len(a) != 2 || len(b) != 2 {
			return nil
		}
		m, k := a[0], b[1]
		if attrInt(n, "transA", 0) != 0 {
			m = a[1]
		}
		if attrInt(n, "transB", 0) != 0 {
			k = b[0]
		}
		return []int64{m, k}
	case op == "MatMul":
		a, b := x, in(1)
		if len(a) == 2 && len(b) == 2 {
			return []int64{a[0], b[1]}
		}
	case op == "Flatten":
		ax, ok := normAxis(attrInt(n, "axis", 1), len(x))
		if x == nil || !ok && ax != int64(len(x)) {
			return nil
		}
		return []int64{prod(x[:ax]), prod(x[ax:])}
	case op == "Reshape":
		shape, present, ok := r.constInts(n, 1)
		if !present || !ok || attrInt(n, "allowzero", 0) != 0 {
			return nil
		}
		return reshaped(x, shape)
	case op == "Transpose":
		if x == nil {
			return nil
		}
		perm, ok := attrInts(n, "perm")
		out := make([]int64, len(x))
		for i := range out {
			p := int64(len(x) - 1 - i)
			if ok {
				if len(perm) != len(x) || perm[i] < 0 || perm[i] >= int64(len(x)) {
					return nil
				}
				p = perm[i]
			}
			out[i] = x[p]
		}
		return out
	case op == "Pad":
		pads, ok := attrInts(n, "pads")
		if !ok {
			var present bool
			pads, present, ok = r.constInts(n, 1)
			ok = ok && present && (len(n.Inputs) < 4 || n.Inputs[3] == "")
		}
		if !ok || x == nil || len(pads) != 2*len(x) {
			return nil
		}
		out := append([]int64(nil), x...)
		for i := range out {
			if out[i] >= 0 {
				out[i] += pads[i] + pads[i+len(x)]
			}
		}
		return out
	case op == "Shape":
		if x != nil && n.Attr("start") == nil && n.Attr("end") == nil {
			return []int64{int64(len(x))}
		}
	}
	return nil
}

// poolShape is the output shape of Conv and the pools (explicit pads,
// NOTSET auto_pad only).
func (r *rewriter) poolShape(n *onnx.Node, x, w []int64) []int64 {
	if len(x) < 3 || attrString(n, "auto_pad", "NOTSET") != "NOTSET" {
		return nil
	}
	sp := len(x) - 2
	kernel, ok := attrInts(n, "kernel_shape")
	if !ok && n.OpType == "Conv" && len(w) == len(x) {
		kernel = w[2:]
	}
	if len(kernel) != sp {
		return nil
	}
	pads, _ := attrInts(n, "pads")
	strides, _ := attrInts(n, "strides")
	dil, _ := attrInts(n, "dilations")
	out := make([]int64, len(x))
	out[0], out[1] = x[0], x[1]
	if n.OpType == "Conv" {
		out[1] = -1
		if len(w) > 0 {
			out[1] = w[0]
		}
	}
	for i := 0; i < sp; i++ {
		p0, p1, s, d := int64(0), int64(0), int64(1), int64(1)
		if len(pads) == 2*sp {
			p0, p1 = pads[i], pads[i+sp]
		}
		if len(strides) == sp {
			s = strides[i]
		}
		if len(dil) == sp {
			d = dil[i]
		}
		if x[i+2] < 0 || s <= 0 || kernel[i] <= 0 {
			out[i+2] = -1
			continue
		}
		span := x[i+2] + p0 + p1 - d*(kernel[i]-1) - 1
		if attrInt(n, "ceil_mode", 0) != 0 {
			out[i+2] = (span+s-1)/s + 1
		} else {
			out[i+2] = span/s + 1
		}
	}
	return out
}

// broadcast is the multidirectional broadcast of two shapes (nil when
// either is unknown).
func broadcast(a, b []int64) []int64 {
	if a == nil || b == nil {
		return nil
	}
	n := max(len(a), len(b))
	out := make([]int64, n)
	for i := range out {
		da, db := int64(1), int64(1)
		if j := i - (n - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (n - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == 1:
			out[i] = db
		case db == 1 || da == db:
			out[i] = da
		default:
			out[i] = -1
		}
	}
	return out
}

// reshaped applies Reshape's 0 and -1 to a target shape.
func reshaped(x, shape []int64) []int64 {
	out := make([]int64, len(shape))
	minus := -1
	known := int64(1)
	for i, d := range shape {
		switch {
		case d == 0:
			if i >= len(x) {
				return nil
			}
			out[i] = x[i]
		case d == -1:
			if minus >= 0 {
				return nil
			}
			minus = i
			continue
		case d < -1:
			return nil
		default:
			out[i] = d
		}
		if out[i] < 0 {
			known = -1
		} else if known >= 0 {
			known *= out[i]
		}
	}
	if minus >= 0 {
		out[minus] = -1
		if total := prod(x); total >= 0 && known > 0 && x != nil {
			out[minus] = total / known
		}
	}
	return out
}

// prod is the product of dims, -1 when one is unknown.
func prod(dims []int64) int64 {
	p := int64(1)
	for _, d := range dims {
		if d < 0 || d != 0 && p > math.MaxInt64/d {
			return -1
		}
		p *= d
	}
	return p
}

func static(s []int64) bool { return s != nil && prod(s) >= 0 }

func shapeString(s []int64) string {
	if s == nil {
		return "an unknown shape"
	}
	return fmt.Sprint(s)
}
