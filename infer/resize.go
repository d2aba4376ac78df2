package infer

import (
	"fmt"
	"math"
	"slices"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// Interpolation modes of Resize and Upsample.
const (
	resizeNearest = iota
	resizeLinear
	resizeCubic
)

// resizeOp is Resize (opsets 10, 11, 13, 18, 19) and Upsample (7, 9).
// Each output coordinate along a resized axis is mapped to an input
// coordinate by the coordinate transformation, then read from its nearest
// input element (any element type), or interpolated from its 2 (linear)
// or 4 (cubic) neighbours, more when antialias widens the filter
// (float32, float64). N-linear and N-cubic interpolation are separable:
// the axes are resized one after the other, each output along an axis a
// weighted sum of input slices. Neighbours beyond the edge repeat the edge
// element, or drop out with exclude_outside (the others renormalized).
//
// Resize-10 and Upsample map coordinates as x_resized/scale (asymmetric);
// nearest rounds down, or up when an axis is shrunk (the spec leaves the
// rounding open for these versions).
type resizeOp struct {
	opset     int64
	upsample  bool
	mode      int
	coord     string // coordinate_transformation_mode
	nearest   string // nearest_mode
	cubicA    float64
	exclude   bool
	extrap    float64
	antialias bool
	axes      []int64        // nil: every axis
	policy    string         // keep_aspect_ratio_policy
	scales    *tensor.Tensor // Upsample-7's scales attribute, or nil
}

func buildResize(n *onnx.Node, opset int64) (op, error) {
	// Inputs: X, scales (opset 10); X, roi, scales[, sizes] (11); X and
	// the optional roi, scales, sizes (13 on).
	minIn, maxIn := 1, 4
	switch opset {
	case 10:
		minIn, maxIn = 2, 2
	case 11:
		minIn = 3
	}
	if err := checkArity(n, minIn, maxIn, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	known := []string{"mode"}
	if opset >= 11 {
		known = append(known, "coordinate_transformation_mode", "cubic_coeff_a", "exclude_outside", "extrapolation_value", "nearest_mode")
	}
	if opset >= 18 {
		known = append(known, "antialias", "axes", "keep_aspect_ratio_policy")
	}
	onlyAttrs(&a, opset, known...)
	o := &resizeOp{opset: opset, coord: "asymmetric", nearest: "legacy", cubicA: -0.75, policy: "stretch"}
	o.mode = parseResizeMode(&a, opset >= 11)
	if opset >= 11 {
		o.coord = a.string("coordinate_transformation_mode", "half_pixel")
		known := []string{"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_crop_and_resize"}
		if opset == 11 {
			known = append(known, "tf_half_pixel_for_nn")
		}
		if opset >= 19 {
			known = append(known, "half_pixel_symmetric")
		}
		if !slices.Contains(known, o.coord) {
			a.fail("attribute \"coordinate_transformation_mode\": unknown value %q for opset %d", o.coord, opset)
		}
		o.nearest = a.string("nearest_mode", "round_prefer_floor")
		if !slices.Contains([]string{"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"}, o.nearest) {
			a.fail("attribute \"nearest_mode\": unknown value %q", o.nearest)
		}
		o.cubicA = float64(a.float("cubic_coeff_a", -0.75))
		o.exclude = boolAttr(&a, "exclude_outside")
		o.extrap = float64(a.float("extrapolation_value", 0))
	}
	if opset >= 18 {
		o.antialias = boolAttr(&a, "antialias")
		o.axes = a.ints("axes", -1, nil)
		if len(o.axes) > maxResizeRank {
			a.fail("attribute \"axes\": more than %d values", maxResizeRank)
		}
		for i, ax := range o.axes {
			if slices.Contains(o.axes[:i], ax) {
				a.fail("attribute \"axes\": axis %d repeated", ax)
			}
		}
		o.policy = a.string("keep_aspect_ratio_policy", "stretch")
		if !slices.Contains([]string{"stretch", "not_larger", "not_smaller"}, o.policy) {
			a.fail("attribute \"keep_aspect_ratio_policy\": unknown value %q", o.policy)
		}
	}
	if a.err != nil {
		return nil, a.err
	}
	return o, nil
}

// maxResizeRank bounds the rank Resize accepts.
const maxResizeRank = 16

// buildUpsample builds Upsample-7 (scales attribute) and Upsample-9
// (scales input) as a Resize-10.
func buildUpsample(n *onnx.Node, opset int64) (op, error) {
	nin := 2
	if opset < 9 {
		nin = 1
	}
	if err := checkArity(n, nin, nin, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	if opset < 9 {
		onlyAttrs(&a, opset, "mode", "scales")
	} else {
		onlyAttrs(&a, opset, "mode")
	}
	o := &resizeOp{opset: 10, upsample: true, coord: "asymmetric", nearest: "legacy", policy: "stretch"}
	o.mode = parseResizeMode(&a, false)
	if opset < 9 {
		if !a.has("scales") {
			a.fail("attribute \"scales\" is required")
		}
		scales := a.floats("scales", nil)
		for _, s := range scales {
			if !(s >= 1) || s > 1<<24 {
				a.fail("attribute \"scales\": want values from 1, got %v", s)
			}
		}
		o.scales = tensor.FromFloat32(scales, len(scales))
	}
	if a.err != nil {
		return nil, a.err
	}
	return o, nil
}

// onlyAttrs fails on any attribute of the node not in known: one of
// another version of the op.
func onlyAttrs(a *attrs, opset int64, known ...string) {
	for _, at := range a.n.Attrs {
		if at != nil && !slices.Contains(known, at.Name) {
			a.fail("attribute %q is not defined for %s-%d", at.Name, a.n.OpType, opset)
		}
	}
}

// parseResizeMode reads mode: nearest, linear, and cubic when withCubic.
func parseResizeMode(a *attrs, withCubic bool) int {
	switch m := a.string("mode", "nearest"); {
	case m == "nearest":
		return resizeNearest
	case m == "linear":
		return resizeLinear
	case m == "cubic" && withCubic:
		return resizeCubic
	default:
		a.fail("attribute \"mode\": unknown value %q", m)
	}
	return resizeNearest
}

// boolAttr reads an int attribute that must be 0 or 1.
func boolAttr(a *attrs, name string) bool {
	v := a.int(name, 0)
	if v != 0 && v != 1 {
		a.fail("attribute %q: want 0 or 1, got %d", name, v)
	}
	return v == 1
}

// resizeAxis maps the output positions of one axis to input positions:
// output o reads the nt inputs idx[o*nt:][:nt] with weights w[o*nt:][:nt],
// or is the extrapolation value when outside[o].
type resizeAxis struct {
	axis, in, out int
	nt            int
	idx           []int
	w             []float64
	outside       []bool
	anyOutside    bool
}

// resizeState is a node's run-time working memory.
type resizeState struct {
	axes       []resizeAxis
	buf32      [2][]float32
	buf64      [2][]float64
	w32        []float32 // one axis' weights as float32
	w64        []float64
	inShape    []int
	outShape   []int
	scaleOf    []float64 // by axis of X
	roiS, roiE []float64
}

func (o *resizeOp) run(s *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	r := x.Rank()
	if r > maxResizeRank {
		return fmt.Errorf("input X: rank %d is above %d", r, maxResizeRank)
	}
	if o.mode != resizeNearest && x.DType != tensor.Float32 && x.DType != tensor.Float64 {
		return fmt.Errorf("input X: mode linear and cubic need float32 or float64, got %v", x.DType)
	}
	st := taskOf[resizeState](s)
	if err := o.plan(st, in); err != nil {
		return err
	}
	if err := checkAlloc(st.outShape...); err != nil {
		return err
	}
	y := out[0]
	resize(y, x.DType, st.outShape...)
	if y.Len() == 0 {
		return nil
	}
	if o.mode == resizeNearest {
		return resizeGather(st, x, y, o.extrap)
	}
	if x.DType == tensor.Float32 {
		return resizeSeparable(s, st, x.F32, y.F32, &st.buf32, &st.w32, float32(o.extrap))
	}
	return resizeSeparable(s, st, x.F64, y.F64, &st.buf64, &st.w64, o.extrap)
}

// plan reads scales, sizes and roi and fills st: output shape and the
// mapping of each resized axis.
func (o *resizeOp) plan(st *resizeState, in []*tensor.Tensor) error {
	x := in[0]
	r := x.Rank()
	st.inShape = append(st.inShape[:0], x.Shape...)
	st.outShape = append(st.outShape[:0], x.Shape...)
	// The axes that roi, scales and sizes describe.
	var axes [maxResizeRank]int
	na := r
	if o.axes != nil {
		na = len(o.axes)
		for i, ax := range o.axes {
			if ax < int64(-r) || ax >= int64(r) {
				return fmt.Errorf("attribute \"axes\": axis %d out of range for rank %d", ax, r)
			}
			axes[i] = int((ax + int64(r)) % int64(r))
		}
	} else {
		for i := range r {
			axes[i] = i
		}
	}
	var roi, scales, sizes *tensor.Tensor
	switch {
	case o.scales != nil:
		scales = o.scales
	case o.opset < 11:
		scales = in[1]
	default:
		roi, scales = inputAt(in, 1), inputAt(in, 2)
		sizes = inputAt(in, 3)
	}
	if scales != nil && scales.Len() == 0 {
		scales = nil
	}
	if sizes != nil && sizes.Len() == 0 {
		sizes = nil
	}
	if roi != nil && roi.Len() == 0 {
		roi = nil
	}
	st.scaleOf = grow64(st.scaleOf, r)
	st.roiS, st.roiE = grow64(st.roiS, r), grow64(st.roiE, r)
	for i := range r {
		st.scaleOf[i], st.roiS[i], st.roiE[i] = 1, 0, 1
	}
	if roi != nil && o.coord == "tf_crop_and_resize" {
		if roi.Rank() != 1 || roi.Len() != 2*na || (roi.DType != tensor.Float32 && roi.DType != tensor.Float64) {
			return fmt.Errorf("input roi: want %d float values (start and end of %d axes), got %v", 2*na, na, roi)
		}
		for i := range na {
			st.roiS[axes[i]], st.roiE[axes[i]] = roi.Float64At(i), roi.Float64At(na+i)
		}
	}
	switch {
	case scales != nil && sizes != nil:
		return fmt.Errorf("inputs scales and sizes are both given; want one")
	case scales != nil:
		if scales.DType != tensor.Float32 || scales.Rank() != 1 || scales.Len() != na {
			return fmt.Errorf("input scales: want float32[%d], got %v", na, scales)
		}
		for i := range na {
			sc := float64(scales.F32[i])
			if !(sc > 0) || math.IsInf(sc, 0) {
				return fmt.Errorf("input scales: value %v on axis %d is not a positive number", scales.F32[i], axes[i])
			}
			if o.upsample && sc < 1 {
				return fmt.Errorf("input scales: value %v on axis %d is below 1", scales.F32[i], axes[i])
			}
			d := axes[i]
			st.scaleOf[d] = sc
			// floor(in*scale): the spec's summary also multiplies by
			// roi_end - roi_start, which ONNX's shape inference,
			// reference implementation and onnxruntime do not.
			size := float64(x.Shape[d]) * sc
			if !(size >= 0) || size > float64(maxElements) {
				return fmt.Errorf("input scales: axis %d of size %d scaled by %v: output size out of range", d, x.Shape[d], sc)
			}
			st.outShape[d] = int(size)
		}
	case sizes != nil:
		if sizes.DType != tensor.Int64 || sizes.Rank() != 1 || sizes.Len() != na {
			return fmt.Errorf("input sizes: want int64[%d], got %v", na, sizes)
		}
		common := 0.0
		for i := range na {
			d, sz := axes[i], sizes.I64[i]
			if sz < 0 || sz > int64(maxElements) {
				return fmt.Errorf("input sizes: value %d on axis %d out of range", sz, d)
			}
			sc := float64(sz) / float64(x.Shape[d])
			if x.Shape[d] == 0 {
				sc = 1
			}
			st.scaleOf[d], st.outShape[d] = sc, int(sz)
			switch {
			case i == 0:
				common = sc
			case o.policy == "not_larger":
				common = min(common, sc)
			case o.policy == "not_smaller":
				common = max(common, sc)
			}
		}
		if o.policy != "stretch" {
			for i := range na {
				d := axes[i]
				size := math.Floor(common*float64(x.Shape[d]) + 0.5)
				if size > float64(maxElements) {
					return fmt.Errorf("input sizes: axis %d of size %d scaled by %v: output size out of range", d, x.Shape[d], common)
				}
				st.scaleOf[d], st.outShape[d] = common, int(size)
			}
		}
	default:
		return fmt.Errorf("want input scales or sizes, got neither")
	}
	st.axes = st.axes[:0]
	for i := range na {
		d := axes[i]
		if len(st.axes) < cap(st.axes) {
			st.axes = st.axes[:len(st.axes)+1]
		} else {
			st.axes = append(st.axes, resizeAxis{})
		}
		ra := &st.axes[len(st.axes)-1]
		if err := o.mapAxis(ra, d, x.Shape[d], st.outShape[d], st.scaleOf[d], st.roiS[d], st.roiE[d]); err != nil {
			return err
		}
		if ra.identity() {
			st.axes = st.axes[:len(st.axes)-1]
		}
	}
	// Shrinking axes first leaves less to compute on the others; among
	// axes scaled alike, the innermost first (its pass, element by
	// element, is the costlier, the others' are row operations).
	slices.SortStableFunc(st.axes, func(a, b resizeAxis) int {
		if c := compareRatio(a.out, a.in, b.out, b.in); c != 0 {
			return c
		}
		return b.axis - a.axis
	})
	return nil
}

// compareRatio compares a/b with c/d (b, d > 0).
func compareRatio(a, b, c, d int) int {
	l, r := a*d, c*b
	switch {
	case l < r:
		return -1
	case l > r:
		return 1
	}
	return 0
}

func inputAt(in []*tensor.Tensor, i int) *tensor.Tensor {
	if i < len(in) {
		return in[i]
	}
	return nil
}

func grow64(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// coordinate maps output position x of an axis of in and out positions
// to the input coordinate. The resized length in pytorch_half_pixel and
// align_corners is in*scale, which a scale may make fractional (as the
// official test cases compute it); tf_crop_and_resize uses out.
func (o *resizeOp) coordinate(x float64, in, out int, scale, roiS, roiE float64) float64 {
	length := float64(in) * scale
	switch o.coord {
	case "half_pixel":
		return (x+0.5)/scale - 0.5
	case "half_pixel_symmetric":
		adj := float64(out) / (scale * float64(in))
		center := float64(in) / 2
		return center*(1-adj) + (x+0.5)/scale - 0.5
	case "pytorch_half_pixel":
		if length > 1 {
			return (x+0.5)/scale - 0.5
		}
		return 0
	case "align_corners":
		if length == 1 {
			return 0
		}
		return x * float64(in-1) / (length - 1)
	case "tf_half_pixel_for_nn":
		return (x + 0.5) / scale
	case "tf_crop_and_resize":
		if out > 1 {
			return roiS*float64(in-1) + x*(roiE-roiS)*float64(in-1)/float64(out-1)
		}
		return 0.5 * (roiS + roiE) * float64(in-1)
	}
	return x / scale // asymmetric
}

// mapAxis fills ra for axis d.
func (o *resizeOp) mapAxis(ra *resizeAxis, d, in, out int, scale, roiS, roiE float64) error {
	ra.axis, ra.in, ra.out, ra.anyOutside = d, in, out, false
	// Taps per output: 1 (nearest), or the filter's support, widened by
	// 1/scale with antialias when shrinking.
	fs := 1.0 // the filter's scale
	start := 0
	switch o.mode {
	case resizeNearest:
		ra.nt = 1
	case resizeLinear, resizeCubic:
		if o.antialias && scale < 1 {
			fs = scale
		}
		support := 1.0
		if o.mode == resizeCubic {
			support = 2
		}
		st := math.Floor(-support/fs) + 1
		if st < -float64(maxElements) {
			return fmt.Errorf("axis %d: scale %v needs too wide a filter", d, scale)
		}
		start = int(st)
		ra.nt = 2 - 2*start
	}
	if out > 0 && in == 0 {
		return fmt.Errorf("input X: axis %d is empty, cannot resize it to %d", d, out)
	}
	if err := checkAlloc(out, ra.nt); err != nil {
		return err
	}
	n := out * ra.nt
	ra.idx = slices.Grow(ra.idx[:0], n)[:n]
	ra.w = slices.Grow(ra.w[:0], n)[:n]
	ra.outside = slices.Grow(ra.outside[:0], out)[:out]
	for j := range out {
		x := o.coordinate(float64(j), in, out, scale, roiS, roiE)
		idx, w := ra.idx[j*ra.nt:(j+1)*ra.nt], ra.w[j*ra.nt:(j+1)*ra.nt]
		ra.outside[j] = o.coord == "tf_crop_and_resize" && (x < 0 || x > float64(in-1))
		if ra.outside[j] {
			ra.anyOutside = true
			clear(idx)
			clear(w)
			continue
		}
		if o.mode == resizeNearest {
			idx[0], w[0] = min(max(o.round(x, scale), 0), in-1), 1
			continue
		}
		// Taps i0+k, k in [start, 1-start], at distance (k - t) from x.
		i0 := math.Floor(x)
		t := x - i0
		if t == 0 {
			i0, t = i0-1, 1
		}
		sum := 0.0
		for k := range ra.nt {
			pos := int(i0) + start + k
			v := o.filter((float64(start+k) - t) * fs)
			if pos < 0 || pos >= in {
				if o.exclude {
					v = 0
				}
				pos = min(max(pos, 0), in-1)
			}
			idx[k], w[k] = pos, v
			sum += v
		}
		if (o.exclude || fs < 1) && sum != 0 {
			for k := range w {
				w[k] /= sum
			}
		}
	}
	return nil
}

// round picks the nearest input index of coordinate x.
func (o *resizeOp) round(x, scale float64) int {
	switch o.nearest {
	case "floor":
		return int(math.Floor(x))
	case "ceil":
		return int(math.Ceil(x))
	case "round_prefer_ceil":
		return int(math.Floor(x + 0.5))
	case "round_prefer_floor":
		return int(math.Ceil(x - 0.5))
	}
	if scale < 1 { // Resize-10 and Upsample
		return int(math.Ceil(x))
	}
	return int(math.Floor(x))
}

// filter is the interpolation kernel at distance x: the triangle, or
// the cubic convolution kernel with coefficient a.
func (o *resizeOp) filter(x float64) float64 {
	x = math.Abs(x)
	if o.mode == resizeLinear {
		return max(0, 1-x)
	}
	a := o.cubicA
	switch {
	case x <= 1:
		return ((a+2)*x-(a+3))*x*x + 1
	case x < 2:
		return ((a*x-5*a)*x+8*a)*x - 4*a
	}
	return 0
}

// identity reports whether the axis maps each output to the same input.
func (ra *resizeAxis) identity() bool {
	if ra.in != ra.out || ra.anyOutside {
		return false
	}
	for j := range ra.out {
		found := false
		for k := range ra.nt {
			i, w := ra.idx[j*ra.nt+k], ra.w[j*ra.nt+k]
			if w != 0 && (i != j || w != 1) {
				return false
			}
			found = found || w == 1
		}
		if !found {
			return false
		}
	}
	return true
}

// resizeGather computes nearest-mode output: each output element is the
// input element at the mapped index of every axis.
func resizeGather(st *resizeState, x, y *tensor.Tensor, extrap float64) error {
	switch x.DType {
	case tensor.Float32:
		gather(st, x.F32, y.F32, float32(extrap))
	case tensor.Float64:
		gather(st, x.F64, y.F64, extrap)
	case tensor.Int64:
		gather(st, x.I64, y.I64, int64(extrap))
	case tensor.Int32:
		gather(st, x.I32, y.I32, int32(extrap))
	case tensor.Uint8:
		gather(st, x.U8, y.U8, uint8(extrap))
	case tensor.Int8:
		gather(st, x.I8, y.I8, int8(extrap))
	case tensor.Int16:
		gather(st, data[int16](x), data[int16](y), int16(extrap))
	case tensor.Uint16:
		gather(st, data[uint16](x), data[uint16](y), uint16(extrap))
	case tensor.Uint32:
		gather(st, data[uint32](x), data[uint32](y), uint32(extrap))
	case tensor.Uint64:
		gather(st, data[uint64](x), data[uint64](y), uint64(extrap))
	case tensor.Bool:
		gather(st, x.B, y.B, extrap != 0)
	default:
		return fmt.Errorf("input X: unsupported dtype %v", x.DType)
	}
	return nil
}

func gather[E any](st *resizeState, x, y []E, extrap E) {
	r := len(st.inShape)
	// Per axis: the input index of each output index (identity for the
	// axes not resized), -1 for an extrapolated one.
	var maps [maxResizeRank][]int
	for i := range st.axes {
		maps[st.axes[i].axis] = st.axes[i].idx // nt is 1
		if st.axes[i].anyOutside {
			for j, o := range st.axes[i].outside {
				if o {
					st.axes[i].idx[j] = -1
				}
			}
		}
	}
	var inStride [maxResizeRank]int
	s := 1
	for d := r - 1; d >= 0; d-- {
		inStride[d] = s
		s *= st.inShape[d]
	}
	if r == 0 {
		y[0] = x[0]
		return
	}
	last := r - 1
	w := st.outShape[last]
	var pos [maxResizeRank]int
	prev := -2 // the input row of the previous output row
	for row := 0; row*w < len(y); row++ {
		base := 0
		for d := 0; d < last; d++ {
			i := pos[d]
			if maps[d] != nil {
				i = maps[d][i]
			}
			if i < 0 {
				base = -1
				break
			}
			base += i * inStride[d]
		}
		dst := y[row*w : (row+1)*w]
		switch {
		case base == prev:
			// Upsampled rows repeat the one before.
			copy(dst, y[(row-1)*w:row*w])
		case base < 0:
			for j := range dst {
				dst[j] = extrap
			}
		case maps[last] == nil:
			copy(dst, x[base:base+w])
		default:
			for j, i := range maps[last] {
				if i < 0 {
					dst[j] = extrap
				} else {
					dst[j] = x[base+i]
				}
			}
		}
		prev = base
		for d := last - 1; d >= 0; d-- {
			pos[d]++
			if pos[d] < st.outShape[d] {
				break
			}
			pos[d] = 0
		}
	}
}

// resizeSeparable computes linear and cubic output: one pass per resized
// axis, through the state's buffers, then the extrapolated positions.
func resizeSeparable[T float32 | float64](s *scratch, st *resizeState, x, y []T, bufs *[2][]T, ws *[]T, extrap T) error {
	var shape [maxResizeRank]int
	r := copy(shape[:], st.inShape)
	src := x
	for p := range st.axes {
		ra := &st.axes[p]
		outer := prod(shape[:ra.axis])
		inner := prod(shape[ra.axis+1 : r])
		shape[ra.axis] = ra.out
		dst := y
		if p < len(st.axes)-1 {
			n := outer * ra.out * inner
			if cap(bufs[p%2]) < n {
				bufs[p%2] = make([]T, n)
			}
			dst = bufs[p%2][:n]
		}
		*ws = slices.Grow((*ws)[:0], len(ra.w))[:len(ra.w)]
		for i, w := range ra.w {
			(*ws)[i] = T(w)
		}
		if s.inner == nil {
			s.inner = new(scratch) // s holds the resizeState
		}
		t := taskOf[resizePass[T]](s.inner)
		*t = resizePass[T]{ra: ra, w: *ws, src: src, dst: dst, inner: inner}
		err := parallelFor(s.inner, outer, batchWorkers(outer, ra.out*inner*ra.nt), t)
		*t = resizePass[T]{}
		if err != nil {
			return err
		}
		src = dst
	}
	if len(st.axes) == 0 {
		copy(y, x)
	}
	for p := range st.axes {
		ra := &st.axes[p]
		if !ra.anyOutside {
			continue
		}
		outer := prod(shape[:ra.axis])
		inner := prod(shape[ra.axis+1 : r])
		for o := range outer {
			for j, out := range ra.outside {
				if out {
					row := y[(o*ra.out+j)*inner : (o*ra.out+j+1)*inner]
					for i := range row {
						row[i] = extrap
					}
				}
			}
		}
	}
	return nil
}

// resizePass resizes one axis of src, viewed as [outer, ra.in, inner],
// into dst [outer, ra.out, inner], with the axis' weights w as T.
type resizePass[T float32 | float64] struct {
	ra       *resizeAxis
	w        []T
	src, dst []T
	inner    int
}

// run computes the outer slices [lo, hi).
func (t *resizePass[T]) run(lo, hi, _ int) error {
	ra, inner, nt := t.ra, t.inner, t.ra.nt
	for o := lo; o < hi; o++ {
		s := t.src[o*ra.in*inner : (o+1)*ra.in*inner]
		d := t.dst[o*ra.out*inner : (o+1)*ra.out*inner]
		if inner == 1 {
			if nt == 2 {
				for j := range d {
					i0, i1 := ra.idx[2*j], ra.idx[2*j+1]
					d[j] = t.w[2*j]*s[i0] + t.w[2*j+1]*s[i1]
				}
				continue
			}
			for j := range d {
				var acc T
				for k, i := range ra.idx[j*nt : (j+1)*nt] {
					acc += t.w[j*nt+k] * s[i]
				}
				d[j] = acc
			}
			continue
		}
		for j := range ra.out {
			row := d[j*inner : (j+1)*inner]
			idx, w := ra.idx[j*nt:(j+1)*nt], t.w[j*nt:(j+1)*nt]
			first := s[idx[0]*inner : (idx[0]+1)*inner]
			if nt == 2 {
				second := s[idx[1]*inner : (idx[1]+1)*inner]
				w0, w1 := w[0], w[1]
				for c := range row {
					row[c] = w0*first[c] + w1*second[c]
				}
				continue
			}
			for c, v := range first {
				row[c] = w[0] * v
			}
			for k := 1; k < nt; k++ {
				if w[k] == 0 {
					continue
				}
				wk, sk := w[k], s[idx[k]*inner:(idx[k]+1)*inner]
				for c := range row {
					row[c] += wk * sk[c]
				}
			}
		}
	}
	return nil
}
