package infer

import (
	"fmt"
	"math"

	"github.com/onnxkit/onnxkit/internal/kernel"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// batchNormOp is BatchNormalization in inference mode (opsets 1, 6, 7, 9,
// 14, 15; float32, float64): per channel (axis 1),
// Y = (X - mean) / sqrt(var + epsilon) * scale + B.
// With spatial=0 (opsets 1 to 7) the statistics are per activation: the
// parameters have shape C x D1 x ... like one sample of X.
// Training mode (training_mode=1, an explicit is_test=0 before opset 7, or
// nodes before opset 14 with the statistics outputs) is unsupported. An
// absent is_test is read as inference, as ONNX's version converter to
// opset 7 does; opset 1's consumed_inputs has no effect.
type batchNormOp struct {
	epsilon    float32
	perElement bool // spatial=0
}

func buildBatchNorm(n *onnx.Node, opset int64) (op, error) {
	maxOut := 5
	if opset >= 14 {
		maxOut = 3
	}
	if err := checkArity(n, 5, 5, maxOut); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &batchNormOp{epsilon: a.float("epsilon", 1e-5)}
	_ = a.float("momentum", 0.9) // used by training only
	if opset < 9 {
		switch sp := a.int("spatial", 1); sp {
		case 0, 1:
			o.perElement = sp == 0
		default:
			a.fail("attribute \"spatial\": want 0 or 1, got %d", sp)
		}
	} else if a.has("spatial") {
		a.fail("attribute \"spatial\" is not supported by this opset version")
	}
	training := false
	if opset < 7 {
		a.ints("consumed_inputs", -1, nil)
		// Nonzero is test mode.
		training = a.has("is_test") && a.int("is_test", 0) == 0
	}
	if opset >= 14 {
		switch tm := a.int("training_mode", 0); tm {
		case 0:
		case 1:
			training = true
		default:
			a.fail("attribute \"training_mode\": want 0 or 1, got %d", tm)
		}
	}
	if a.err != nil {
		return nil, a.err
	}
	if training && opset < 7 {
		return nil, unsupportedf(n, "is_test=0 (training mode)")
	}
	if training {
		return nil, unsupportedf(n, "training_mode=1")
	}
	if len(n.Outputs) > 1 {
		return nil, unsupportedf(n, "outputs beyond Y (training mode)")
	}
	return o, nil
}

func (o *batchNormOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	dt := x.DType
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return fmt.Errorf("want a float input, got X %v", x)
	}
	if x.Rank() < 2 {
		return fmt.Errorf("want X of rank 2 or more (N x C x ...), got %v", x)
	}
	n := x.Shape[0]
	groups := x.Shape[1]       // values sharing one set of parameters per sample
	inner := prod(x.Shape[2:]) // consecutive values sharing a parameter
	if o.perElement {
		groups, inner = groups*inner, 1
	}
	names := [4]string{"scale", "B", "mean", "var"}
	for i, p := range in[1:5] {
		if p.DType != dt || p.Len() != groups || (!o.perElement && p.Rank() != 1) {
			return fmt.Errorf("input %s is %v, want %v with %d elements to match X %v", names[i], p, dt, groups, x)
		}
	}
	y := out[0]
	y.Resize(dt, x.Shape...)
	if dt == tensor.Float32 {
		batchNorm(n, groups, inner, o.epsilon, x.F32, in[1].F32, in[2].F32, in[3].F32, in[4].F32, y.F32)
	} else {
		batchNorm(n, groups, inner, o.epsilon, x.F64, in[1].F64, in[2].F64, in[3].F64, in[4].F64, y.F64)
	}
	return nil
}

func batchNorm[T ~float32 | ~float64](n, groups, inner int, eps float32, x, scale, bias, mean, variance, y []T) {
	for i := 0; i < n; i++ {
		for c := 0; c < groups; c++ {
			// y = x*a + b with a and b computed in float64.
			a := float64(scale[c]) / math.Sqrt(float64(variance[c])+float64(eps))
			b := float64(bias[c]) - float64(mean[c])*a
			off := (i*groups + c) * inner
			xs, ys := x[off:off+inner], y[off:off+inner]
			fa, fb := T(a), T(b)
			if xf, ok := any(xs).([]float32); ok && len(xs) > 0 && &xs[0] != &ys[0] {
				// fb + float32(x*fa): the loop's two roundings, vectorized.
				yf := any(ys).([]float32)
				fill(yf, float32(fb))
				kernel.AxpyRows(float32(fa), xf, inner, 1, yf, inner, 1, inner)
				continue
			}
			for j, v := range xs {
				ys[j] = T(v*fa) + fb
			}
		}
	}
}

// meanVar returns the mean and the (biased) variance of x, computed in
// float64 in two passes.
func meanVar[T float32 | float64](x []T) (mean, variance float64) {
	if len(x) == 0 {
		return math.NaN(), math.NaN()
	}
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	mean = s / float64(len(x))
	var q float64
	for _, v := range x {
		d := float64(v) - mean
		q += d * d
	}
	return mean, q / float64(len(x))
}

// checkStash reads stash_type, the precision of the statistics: only 1
// (float32) is implemented.
func checkStash(n *onnx.Node, a *attrs) error {
	st := a.int("stash_type", 1)
	if a.err != nil {
		return a.err
	}
	if st != 1 {
		return unsupportedf(n, "attribute \"stash_type\": %d (only 1, float32, is implemented)", st)
	}
	return nil
}

// layerNormOp is LayerNormalization (opset 17): each run of the axes
// [axis, rank) is standardized in float32 (stash_type 1; a float64 X is
// rounded to float32 first, as the spec's casts say), then multiplied by
// Scale and shifted by B, which broadcast to X, in X's dtype. The optional
// outputs Mean and InvStdDev are float32 of shape [d0, ..., d(axis-1), 1, ...].
type layerNormOp struct {
	axis    int64
	epsilon float32
}

func buildLayerNorm(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 2, 3, 3); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &layerNormOp{axis: a.int("axis", -1), epsilon: a.float("epsilon", 1e-5)}
	if err := checkStash(n, &a); err != nil {
		return nil, err
	}
	return o, nil
}

func (o *layerNormOp) run(s *scratch, in, out []*tensor.Tensor) error {
	x, scale, bias := in[0], in[1], input(in, 2)
	r := x.Rank()
	if o.axis < -int64(r) || o.axis >= int64(r) {
		return fmt.Errorf("attribute \"axis\": %d out of range for X %v", o.axis, x)
	}
	axis := int(o.axis)
	if axis < 0 {
		axis += r
	}
	dt := x.DType
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return fmt.Errorf("want a float input, got X %v", x)
	}
	for i, p := range [2]*tensor.Tensor{scale, bias} {
		if p == nil {
			continue
		}
		name := [2]string{"Scale", "B"}[i]
		if p.DType != dt {
			return fmt.Errorf("input %s is %v, want %v like X", name, p, dt)
		}
		if err := checkUnidirectional(name, x, p); err != nil {
			return err
		}
	}
	rows, size := prod(x.Shape[:axis]), prod(x.Shape[axis:])
	var mean, inv []float32
	for i, t := range out[1:] {
		if t != nil {
			stat := shapeBuf(t, r)
			copy(stat, x.Shape[:axis])
			for j := axis; j < r; j++ {
				stat[j] = 1
			}
			t.Resize(tensor.Float32, stat...)
			if i == 0 {
				mean = t.F32
			} else {
				inv = t.F32
			}
		}
	}
	y := out[0]
	y.Resize(dt, x.Shape...)
	if dt == tensor.Float32 {
		return layerNorm[float32](s, o, x, scale, bias, y, axis, rows, size, mean, inv, nil)
	}
	return layerNorm[float64](s, o, x, scale, bias, y, axis, rows, size, mean, inv, s.floats(size))
}

// rowParam reports whether p (broadcasting to x) holds one value per
// element of a row [axis, rank) of x, in the row's order.
func rowParam(p, x *tensor.Tensor, axis int) bool {
	if p == nil {
		return true
	}
	if p.Len() != prod(x.Shape[axis:]) {
		return false
	}
	off := x.Rank() - p.Rank()
	for i, d := range p.Shape {
		if off+i < axis && d != 1 {
			return false
		}
	}
	return true
}

// layerNorm computes y; x32 holds a row of a float64 X rounded to float32
// (nil for a float32 X, whose rows are split across the workers when
// there are enough of them).
func layerNorm[T float32 | float64](s *scratch, o *layerNormOp, x, scale, bias, y *tensor.Tensor, axis, rows, size int, mean, inv, x32 []float32) error {
	xv, yv, sv := data[T](x), data[T](y), data[T](scale)
	var bv []T
	if bias != nil {
		bv = data[T](bias)
	}
	fused := rowParam(scale, x, axis) && rowParam(bias, x, axis)
	if x32 == nil && rows > 1 && rows*size >= 1<<16 {
		t := taskOf[layerNormTask](s)
		*t = layerNormTask{o: o, x: any(xv).([]float32), y: any(yv).([]float32), mean: mean, inv: inv, size: size}
		if fused {
			t.scale = any(sv).([]float32)
			t.bias, _ = any(bv).([]float32)
		}
		err := parallelFor(s, rows, rows, t)
		*t = layerNormTask{}
		if err != nil {
			return err
		}
	} else {
		var fs, fb []T
		if fused {
			fs, fb = sv, bv
		}
		layerNormRows(o, xv, yv, fs, fb, 0, rows, size, mean, inv, x32)
	}
	if fused {
		return nil
	}
	mul, add := mulKernel[T](), addKernel[T]()
	broadcastBinary(&mul, yv, x.Shape, yv, x.Shape, sv, scale.Shape)
	if bias != nil {
		broadcastBinary(&add, yv, x.Shape, yv, x.Shape, bv, bias.Shape)
	}
	return nil
}

// layerNormTask is layerNormRows for float32 over a range of rows.
type layerNormTask struct {
	o                 *layerNormOp
	x, y, scale, bias []float32
	mean, inv         []float32
	size              int
}

func (t *layerNormTask) run(lo, hi, _ int) error {
	layerNormRows(t.o, t.x, t.y, t.scale, t.bias, lo, hi, t.size, t.mean, t.inv, nil)
	return nil
}

// layerNormRows standardizes rows [lo, hi) of x into y, then multiplies
// them by scale and adds bias when these are given (one value per element
// of a row; nil: left to the caller).
func layerNormRows[T float32 | float64](o *layerNormOp, xv, yv, sv, bv []T, lo, hi, size int, mean, inv, x32 []float32) {
	for i := lo; i < hi; i++ {
		xs, ys := xv[i*size:(i+1)*size], yv[i*size:(i+1)*size]
		row, _ := any(xs).([]float32)
		if x32 != nil { // float64 X: the statistics come from X in float32
			for j, v := range xs {
				x32[j] = float32(v)
			}
			row = x32
		}
		m, v := meanVar(row)
		m32, inv32 := float32(m), float32(1/math.Sqrt(float64(float32(v)+o.epsilon)))
		if mean != nil {
			mean[i] = m32
		}
		if inv != nil {
			inv[i] = inv32
		}
		switch {
		case sv != nil && bv != nil:
			for j, v := range row {
				ys[j] = T((v-m32)*inv32)*sv[j] + bv[j]
			}
		case sv != nil:
			for j, v := range row {
				ys[j] = T((v-m32)*inv32) * sv[j]
			}
		default:
			for j, v := range row {
				ys[j] = T((v - m32) * inv32)
			}
		}
	}
}

// instanceNormOp is InstanceNormalization (opsets 1, 6, 22; opset 1's
// consumed_inputs has no effect): each channel of each sample of X
// (N x C x D1 x ...) is standardized over D1 x ..., then multiplied by
// scale[c] and shifted by B[c].
type instanceNormOp struct{ epsilon float32 }

func buildInstanceNorm(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 3, 3, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	if opset < 6 {
		a.ints("consumed_inputs", -1, nil)
	}
	o := &instanceNormOp{epsilon: a.float("epsilon", 1e-5)}
	return o, a.err
}

func (o *instanceNormOp) run(s *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	if err := checkNCX(x); err != nil {
		return err
	}
	c := x.Shape[1]
	if err := checkParams(x, c, in[1:3], "scale", "B"); err != nil {
		return err
	}
	y := out[0]
	y.Resize(x.DType, x.Shape...)
	if x.DType == tensor.Float32 {
		return groupNorm(s, x.F32, y.F32, x.Shape[0], c, c, prod(x.Shape[2:]), o.epsilon, in[1].F32, in[2].F32, false)
	}
	return groupNorm(s, x.F64, y.F64, x.Shape[0], c, c, prod(x.Shape[2:]), o.epsilon, in[1].F64, in[2].F64, false)
}

// checkNCX checks that X is a float tensor of rank 2 or more (N x C x ...).
func checkNCX(x *tensor.Tensor) error {
	if x.DType != tensor.Float32 && x.DType != tensor.Float64 {
		return fmt.Errorf("want a float input, got X %v", x)
	}
	if x.Rank() < 2 {
		return fmt.Errorf("want X of rank 2 or more (N x C x ...), got %v", x)
	}
	return nil
}

// checkParams checks that each parameter is a 1-D tensor of X's dtype with
// want elements.
func checkParams(x *tensor.Tensor, want int, params []*tensor.Tensor, names ...string) error {
	for i, p := range params {
		if p.DType != x.DType || p.Rank() != 1 || p.Shape[0] != want {
			return fmt.Errorf("input %s is %v, want %v[%d] to match X %v", names[i], p, x.DType, want, x)
		}
	}
	return nil
}

// groupNormOp is GroupNormalization: the channels of each sample of X (N x
// C x D1 x ...) form num_groups groups of C/num_groups channels, each
// standardized over its channels and D1 x ...; then each channel is
// multiplied by a scale and shifted by a bias, given per group in opset 18
// and per channel from opset 21 (with stash_type; only 1, float32).
type groupNormOp struct {
	epsilon    float32
	groups     int64
	perChannel bool // opset >= 21
}

func buildGroupNorm(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 3, 3, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	if !a.has("num_groups") {
		return nil, errorf(n, "attribute \"num_groups\" is required")
	}
	o := &groupNormOp{epsilon: a.float("epsilon", 1e-5), groups: a.int("num_groups", 0), perChannel: opset >= 21}
	if o.groups <= 0 {
		a.fail("attribute \"num_groups\": want a positive value, got %d", o.groups)
	}
	if o.perChannel {
		if err := checkStash(n, &a); err != nil {
			return nil, err
		}
	}
	return o, a.err
}

func (o *groupNormOp) run(s *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	if err := checkNCX(x); err != nil {
		return err
	}
	c := x.Shape[1]
	if int64(c)%o.groups != 0 {
		return fmt.Errorf("X %v: %d channels do not divide into num_groups %d", x, c, o.groups)
	}
	g := int(o.groups)
	want := g
	if o.perChannel {
		want = c
	}
	if err := checkParams(x, want, in[1:3], "scale", "bias"); err != nil {
		return err
	}
	y := out[0]
	y.Resize(x.DType, x.Shape...)
	if x.DType == tensor.Float32 {
		return groupNorm(s, x.F32, y.F32, x.Shape[0], c, g, prod(x.Shape[2:]), o.epsilon, in[1].F32, in[2].F32, !o.perChannel)
	}
	return groupNorm(s, x.F64, y.F64, x.Shape[0], c, g, prod(x.Shape[2:]), o.epsilon, in[1].F64, in[2].F64, !o.perChannel)
}

// groupNorm standardizes x (n samples of c channels of inner values) over
// groups of c/groups channels, then sets y = x̂*scale[k] + bias[k] with k
// the channel, or the group when perGroup. The statistics are computed in
// float64 and applied as y = (x - mean)*a + bias, a = scale/stddev: the
// subtraction first keeps a value near the mean precise, as x*a + b would
// not. Large inputs are split across the workers by groups.
func groupNorm[T float32 | float64](s *scratch, x, y []T, n, c, groups, inner int, eps float32, scale, bias []T, perGroup bool) error {
	if groups == 0 || c == 0 {
		return nil
	}
	workers := 1
	if len(x) >= 1<<16 {
		workers = n * groups // parallelFor takes at most one per CPU
	}
	t := taskOf[groupNormTask[T]](s)
	*t = groupNormTask[T]{x: x, y: y, c: c, groups: groups, inner: inner, eps: eps, scale: scale, bias: bias, perGroup: perGroup}
	err := parallelFor(s, n*groups, workers, t)
	*t = groupNormTask[T]{}
	return err
}

// groupNormTask is groupNorm over a range of (sample, group) pairs.
type groupNormTask[T float32 | float64] struct {
	x, y, scale, bias []T
	c, groups, inner  int
	eps               float32
	perGroup          bool
}

func (t *groupNormTask[T]) run(lo, hi, _ int) error {
	cg := t.c / t.groups
	per := cg * t.inner
	for i := lo; i < hi; i++ {
		m, v := meanVar(t.x[i*per : (i+1)*per])
		inv := 1 / math.Sqrt(v+float64(t.eps))
		for k := 0; k < cg; k++ {
			p := i%t.groups*cg + k // the channel
			if t.perGroup {
				p = i % t.groups
			}
			off := i*per + k*t.inner
			xs, ys := t.x[off:off+t.inner], t.y[off:off+t.inner]
			fm, fa, fb := T(m), T(float64(t.scale[p])*inv), t.bias[p]
			for j, v := range xs {
				ys[j] = (v-fm)*fa + fb
			}
		}
	}
	return nil
}

// mvnOp is MeanVarianceNormalization (opsets 9, 13):
// (X - mean) / (sqrt(variance) + 1e-9), with the statistics over axes
// (default [0, 2, 3]), as the spec's function body computes it.
type mvnOp struct {
	n    *onnx.Node
	axes []int64
}

func buildMVN(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &mvnOp{n: n, axes: a.ints("axes", -1, []int64{0, 2, 3})}
	return o, a.err
}

func (o *mvnOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	r := x.Rank()
	kept := append([]int(nil), x.Shape...)
	for _, a := range o.axes {
		i, err := normAxis(o.n, a, r)
		if err != nil {
			return err
		}
		if kept[i] == 1 && x.Shape[i] != 1 {
			return errorf(o.n, "axis %d repeated", a)
		}
		kept[i] = 1
	}
	if err := checkPlanDims(x.Shape); err != nil {
		return errorf(o.n, "%v", err)
	}
	count := float64(x.Len() / max(tensor.NumElements(kept), 1))
	switch x.DType {
	case tensor.Float32:
		mvn[float32](x, out[0], kept, count)
	case tensor.Float64:
		mvn[float64](x, out[0], kept, count)
	default:
		return errorf(o.n, "unsupported dtype %v", x.DType)
	}
	return nil
}

func mvn[T float32 | float64](x, d *tensor.Tensor, kept []int, count float64) {
	xv := data[T](x)
	mean := make([]float64, tensor.NumElements(kept))
	sumInto(mean, kept, xv, x.Shape)
	for j := range mean {
		mean[j] /= count
	}
	q := make([]float64, len(mean))
	foldInto(q, kept, xv, x.Shape, func(a float64, v T, j int) float64 {
		e := float64(v) - mean[j]
		return a + e*e
	})
	for j := range q {
		q[j] = math.Sqrt(q[j]/count) + 1e-9
	}
	d.Resize(x.DType, x.Shape...)
	dv := data[T](d)
	var p bcastPlan
	p.init(x.Shape, kept)
	p.each(func(off [planInputs]int, o int) {
		j, st := off[0], p.step[0]
		for i, v := range xv[o : o+p.inner] {
			dv[o+i] = T((float64(v) - mean[j]) / q[j])
			j += st
		}
	})
}

// rmsNormOp is RMSNormalization (opset 23): each run of the axes
// [axis, rank) of X is divided by sqrt(mean(x*x) + epsilon), computed in
// float32 (stash_type 1; a float64 X is rounded first) or float64
// (stash_type 11), then multiplied by Scale, which broadcasts to X.
type rmsNormOp struct {
	n       *onnx.Node
	axis    int64
	epsilon float32
	stash64 bool
}

func buildRMSNorm(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 2, 2, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &rmsNormOp{n: n, axis: a.int("axis", -1), epsilon: a.float("epsilon", 1e-5)}
	st := a.int("stash_type", 1)
	if a.err != nil {
		return nil, a.err
	}
	switch st {
	case 1:
	case 11:
		o.stash64 = true
	default:
		return nil, unsupportedf(n, "attribute \"stash_type\": %d (want 1, float32, or 11, float64)", st)
	}
	return o, nil
}

func (o *rmsNormOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x, scale := in[0], in[1]
	axis, err := normAxis(o.n, o.axis, x.Rank())
	if err != nil {
		return err
	}
	dt := x.DType
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return errorf(o.n, "want a float input, got X %v", x)
	}
	if scale.DType != dt {
		return errorf(o.n, "input scale is %v, want %v like X", scale, dt)
	}
	if err := checkUnidirectional("scale", x, scale); err != nil {
		return errorf(o.n, "%v", err)
	}
	y := out[0]
	y.Resize(dt, x.Shape...)
	size := prod(x.Shape[axis:])
	if dt == tensor.Float32 {
		rmsNorm(o, x.F32, y.F32, size)
	} else {
		rmsNorm(o, x.F64, y.F64, size)
	}
	scaleBy(y, scale)
	return nil
}

func rmsNorm[T float32 | float64](o *rmsNormOp, xv, yv []T, size int) {
	for i := 0; i+size <= len(xv) && size > 0; i += size {
		xs, ys := xv[i:i+size], yv[i:i+size]
		if o.stash64 {
			var ss float64
			for _, v := range xs {
				ss += float64(v) * float64(v)
			}
			inv := 1 / math.Sqrt(ss/float64(size)+float64(o.epsilon))
			for j, v := range xs {
				ys[j] = T(float64(v) * inv)
			}
			continue
		}
		var ss float64
		for _, v := range xs {
			v32 := float32(v)
			ss += float64(v32 * v32)
		}
		inv := 1 / float32(math.Sqrt(float64(float32(ss/float64(size))+o.epsilon)))
		for j, v := range xs {
			ys[j] = T(float32(v) * inv)
		}
	}
}

// scaleBy multiplies y in place by s, which broadcasts to it.
func scaleBy(y, s *tensor.Tensor) {
	if y.DType == tensor.Float32 {
		mul := mulKernel[float32]()
		broadcastBinary(&mul, y.F32, y.Shape, y.F32, y.Shape, s.F32, s.Shape)
	} else {
		mul := mulKernel[float64]()
		broadcastBinary(&mul, y.F64, y.Shape, y.F64, y.Shape, s.F64, s.Shape)
	}
}

// lpNormOp is LpNormalization (opsets 1, 22): X divided by its L1 (p 1) or
// L2 (p 2) norm along axis; a zero norm gives zeros (as the node suite's
// test_l2normalization_axis_0 expects).
type lpNormOp struct {
	n    *onnx.Node
	axis int64
	p    int64
}

func buildLpNorm(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &lpNormOp{n: n, axis: a.int("axis", -1), p: a.int("p", 2)}
	if a.err != nil {
		return nil, a.err
	}
	if o.p != 1 && o.p != 2 {
		return nil, errorf(n, "attribute \"p\": %d (want 1 or 2)", o.p)
	}
	return o, nil
}

func (o *lpNormOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	axis, err := normAxis(o.n, o.axis, x.Rank())
	if err != nil {
		return err
	}
	y := out[0]
	y.Resize(x.DType, x.Shape...)
	outer, n := prod(x.Shape[:axis]), x.Shape[axis]
	inner := prod(x.Shape[axis+1:])
	switch x.DType {
	case tensor.Float32:
		lpNorm(x.F32, y.F32, outer, n, inner, o.p)
	case tensor.Float64:
		lpNorm(x.F64, y.F64, outer, n, inner, o.p)
	default:
		return errorf(o.n, "want a float input, got %v", x)
	}
	return nil
}

func lpNorm[T float32 | float64](xv, yv []T, outer, n, inner int, p int64) {
	for o := 0; o < outer; o++ {
		base := o * n * inner
		for i := 0; i < inner; i++ {
			var s float64
			for k := 0; k < n; k++ {
				v := float64(xv[base+k*inner+i])
				if p == 1 {
					s += math.Abs(v)
				} else {
					s += v * v
				}
			}
			if p == 2 {
				s = math.Sqrt(s)
			}
			for k := 0; k < n; k++ {
				j := base + k*inner + i
				if s == 0 {
					yv[j] = 0
				} else {
					yv[j] = T(float64(xv[j]) / s)
				}
			}
		}
	}
}
