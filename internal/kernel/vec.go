package kernel

import "math"

// Dot returns the sum of x[i]*y[i] for i < len(x); y must be at least as
// long as x. The AVX2 path sums in eight lanes and so rounds differently
// from a left-to-right sum.
func Dot(x, y []float32) float32 {
	y = y[:len(x)]
	s, n := dotVec(x, y)
	for i := n; i < len(x); i++ {
		s += x[i] * y[i]
	}
	return s
}

// Axpy sets y[i] += a*x[i] for i < len(x); y must be at least as long as
// x. With AVX2 each element is a fused multiply-add (one rounding).
func Axpy(a float32, x, y []float32) {
	y = y[:len(x)]
	n := axpyVec(a, x, y)
	for i := n; i < len(x); i++ {
		y[i] += a * x[i]
	}
}

// Scale sets x[i] *= a for every i.
func Scale(a float32, x []float32) {
	for i := scaleVec(a, x); i < len(x); i++ {
		x[i] *= a
	}
}

// AddConst sets x[i] += a for every i.
func AddConst(a float32, x []float32) {
	for i := addConstVec(a, x); i < len(x); i++ {
		x[i] += a
	}
}

// AddBias adds bias to y laid out as [outer][len(bias)][inner]:
// y[(o*len(bias)+c)*inner+i] += bias[c]. With inner 1 it adds bias to each
// row of a matrix with len(bias) columns (a fully connected layer); with
// inner the size of a feature map it adds one value per channel of an
// NCHW tensor (a convolution). len(y) must be a multiple of
// len(bias)*inner; it panics otherwise.
func AddBias(y, bias []float32, inner int) {
	block := len(bias) * inner
	if block == 0 {
		if len(y) != 0 {
			panic("kernel: AddBias: empty bias for a non-empty y")
		}
		return
	}
	if inner < 1 || len(y)%block != 0 {
		panic("kernel: AddBias: len(y) is not a multiple of len(bias)*inner")
	}
	for o := 0; o < len(y); o += block {
		if inner == 1 {
			Axpy(1, bias, y[o:o+block]) // 1*b + y rounds once: exactly b + y
			continue
		}
		for c, b := range bias {
			AddConst(b, y[o+c*inner:o+(c+1)*inner])
		}
	}
}

// Exp sets dst[i] = exp(src[i]) for every i < len(src), rounded to
// float32 from a float64 computation (within 1 ulp of the exact value,
// almost always the correctly rounded one); NaN stays NaN, large
// arguments give +Inf and very negative ones 0. An element's result
// depends on its value alone, not on where it lies in src. dst must be at
// least as long as src; it may be src itself.
func Exp(dst, src []float32) {
	dst = dst[:len(src)]
	for i := expVec(dst, src); i < len(src); i++ {
		dst[i] = float32(math.Exp(float64(src[i])))
	}
}

// Relu sets dst[i] = src[i], or 0 where src[i] < 0, for every i <
// len(src): NaN and -0 pass through. dst must be at least as long as src;
// it may be src itself.
func Relu(dst, src []float32) {
	dst = dst[:len(src)]
	for i := reluVec(dst, src); i < len(src); i++ {
		v := src[i]
		if v < 0 {
			v = 0
		}
		dst[i] = v
	}
}

// Max4 sets dst[i] to the maximum of a[i], b[i], c[i] and d[i] for every
// i < len(dst), taken as a scalar loop over a pooling window takes it:
// m = a[i], then m = x wherever x > m. So a NaN is kept only from a.
// dst must not overlap the inputs.
func Max4(dst, a, b, c, d []float32) {
	n := len(dst)
	a, b, c, d = a[:n], b[:n], c[:n], d[:n]
	i := max4Vec(dst, a, b, c, d)
	if i < n && i >= 8 {
		// The last partial vector: the vector kernel over the last 8,
		// recomputing some (dst is not an input).
		i += max4Vec(dst[n-8:], a[n-8:], b[n-8:], c[n-8:], d[n-8:]) - (8 - (n - i))
	}
	for ; i < n; i++ {
		m := a[i]
		if b[i] > m {
			m = b[i]
		}
		if c[i] > m {
			m = c[i]
		}
		if d[i] > m {
			m = d[i]
		}
		dst[i] = m
	}
}

// AvgPool2 sets dst[j] to the mean of r0[2j], r0[2j+1], r1[2j] and
// r1[2j+1] for every j < len(dst): 2x2 average pooling at stride 2 over
// two input rows, summed in float64 from 0 in that order and rounded once
// to float32. r0 and r1 must hold at least 2*len(dst) values, and dst
// must not overlap them.
func AvgPool2(dst, r0, r1 []float32) {
	n := len(dst)
	r0, r1 = r0[:2*n], r1[:2*n]
	j := avgPool2Vec(dst, r0, r1)
	if j < n && j >= 4 {
		// The last partial vector, as in Max4.
		j += avgPool2Vec(dst[n-4:], r0[2*(n-4):], r1[2*(n-4):]) - (4 - (n - j))
	}
	for ; j < n; j++ {
		var s float64
		s += float64(r0[2*j])
		s += float64(r0[2*j+1])
		s += float64(r1[2*j])
		s += float64(r1[2*j+1])
		dst[j] = float32(s / 4)
	}
}

// MaxPool2Rows computes rows of 2x2 maximum pooling at column stride 1:
// for r < rows and j < width, dst[r*width+j] is Max4 of src[o+j],
// src[o+j+1], src[o+ld+j] and src[o+ld+j+1], where o = r*step. It gives
// Max4's results, a whole plane in one call. dst must not overlap src.
func MaxPool2Rows(dst, src []float32, rows, width, ld, step int) {
	if rows <= 0 || width <= 0 {
		return
	}
	checkRows("MaxPool2Rows", dst, src, rows, width, ld, step, width+1)
	if maxPool2RowsVec(dst, src, rows, width, ld, step) {
		return
	}
	for r := range rows {
		o := r * step
		Max4(dst[r*width:(r+1)*width], src[o:], src[o+1:], src[o+ld:], src[o+ld+1:])
	}
}

// AvgPool2Rows computes rows of 2x2 average pooling at column stride 2:
// row r of dst (width values) is AvgPool2 of the rows src[r*step:] and
// src[r*step+ld:]. It gives AvgPool2's results, a whole plane in one
// call. dst must not overlap src.
func AvgPool2Rows(dst, src []float32, rows, width, ld, step int) {
	if rows <= 0 || width <= 0 {
		return
	}
	checkRows("AvgPool2Rows", dst, src, rows, width, ld, step, 2*width)
	if avgPool2RowsVec(dst, src, rows, width, ld, step) {
		return
	}
	for r := range rows {
		o := r * step
		AvgPool2(dst[r*width:(r+1)*width], src[o:], src[o+ld:])
	}
}

// checkRows panics unless dst holds rows rows of width values and src
// the input rows of a pool over them, each read for span values.
func checkRows(name string, dst, src []float32, rows, width, ld, step, span int) {
	if ld < 0 || step < 0 || len(dst) < rows*width || len(src) < (rows-1)*step+ld+span {
		panic("kernel: " + name + ": a slice is too short for the rows")
	}
}

// Sum returns the sum of x in eight interleaved partial sums (x[i] goes
// to partial i%8), added pairwise at the end: the order does not depend
// on anything but len(x), and the eight chains of additions run in
// parallel.
func Sum(x []float32) float32 {
	var s [8]float32
	n := len(x) &^ 7
	for i := 0; i < n; i += 8 {
		v := x[i : i+8 : i+8]
		s[0] += v[0]
		s[1] += v[1]
		s[2] += v[2]
		s[3] += v[3]
		s[4] += v[4]
		s[5] += v[5]
		s[6] += v[6]
		s[7] += v[7]
	}
	for i := n; i < len(x); i++ {
		s[i-n] += x[i]
	}
	return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))
}

// TanhGrad sets dx[i] = dy[i] * (1 - y[i]*y[i]) for every i < len(dx),
// the gradient of tanh at output y, each operation rounded on its own.
// dy and y must be at least as long as dx.
func TanhGrad(dx, dy, y []float32) {
	n := len(dx)
	dy, y = dy[:n], y[:n]
	for i := tanhGradVec(dx, dy, y); i < n; i++ {
		dx[i] = dy[i] * (1 - float32(y[i]*y[i])) // float32(): no fused multiply-add
	}
}

// AdamConsts are the per-step constants of an Adam update: the decay
// rates b1 and b2, c1 = 1-b1 and c2 = 1-b2, the square root of the second
// moment's bias correction, eps, and the negated step size lr/(1-b1^t).
type AdamConsts struct {
	B1, B2, C1, C2, BC2Sqrt, Eps, NegStep float32
}

// Adam applies one Adam update (without weight decay) to the parameters w
// with gradients g and moments m and v, all of one length:
// m = m*B1 + C1*g, v = v*B2 + C2*(g*g),
// w += NegStep * (m / (sqrt(v)/BC2Sqrt + Eps)), each operation rounded on
// its own.
func Adam(w, g, m, v []float32, k AdamConsts) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	for j := adamVec(w, g, m, v, &k); j < n; j++ {
		// float32() rounds each product, so that no build fuses them into
		// multiply-adds (the vector kernel does not).
		m[j] = float32(m[j]*k.B1) + float32(k.C1*g[j])
		v[j] = float32(v[j]*k.B2) + float32(k.C2*float32(g[j]*g[j]))
		denom := float32(math.Sqrt(float64(v[j])))/k.BC2Sqrt + k.Eps
		w[j] += k.NegStep * (m[j] / denom)
	}
}
