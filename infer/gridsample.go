package infer

import (
	"fmt"
	"math"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// gridSampleOp is GridSample (versions 16, 20 and 22; 16 names the modes
// bilinear and bicubic and takes 4-D input only): Y[n,c,p] samples X[n,c]
// at the grid's normalized position for p (innermost dimension first),
// with N-linear, nearest (half to even) or N-cubic (Keys, a = -0.75)
// interpolation and zeros, border or reflection padding. Linear and nearest
// clamp or reflect the coordinate; cubic clamps or reflects each tap.
type gridSampleOp struct {
	mode    int // 0 linear, 1 nearest, 2 cubic
	padding int // 0 zeros, 1 border, 2 reflection
	align   bool
	opset   int64
	n       *onnx.Node
}

func buildGridSample(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 2, 2, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &gridSampleOp{align: a.int("align_corners", 0) != 0, opset: opset, n: n}
	mode, def := a.string("mode", "linear"), "linear"
	pad := a.string("padding_mode", "zeros")
	if a.err != nil {
		return nil, a.err
	}
	names := []string{"linear", "nearest", "cubic"}
	if opset < 20 {
		names, def = []string{"bilinear", "nearest", "bicubic"}, "bilinear"
		if !a.has("mode") {
			mode = def
		}
	}
	o.mode = indexOf(names, mode)
	if o.mode < 0 {
		return nil, errorf(n, "attribute \"mode\": want one of %v, got %q", names, mode)
	}
	o.padding = indexOf([]string{"zeros", "border", "reflection"}, pad)
	if o.padding < 0 {
		return nil, errorf(n, "attribute \"padding_mode\": want zeros, border or reflection, got %q", pad)
	}
	return o, nil
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// reflectCoord folds x into [lo, hi] by reflecting at the bounds.
func reflectCoord(x, lo, hi float64) float64 {
	span := hi - lo
	if span <= 0 {
		return lo
	}
	x = math.Abs(x - lo)
	extra := math.Mod(x, span)
	if int64(math.Floor(x/span))%2 == 0 {
		return lo + extra
	}
	return hi - extra
}

func (o *gridSampleOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x, g := in[0], in[1]
	if x.DType != tensor.Float32 && x.DType != tensor.Float64 {
		return fmt.Errorf("input X: want float32 or float64, got %v", x.DType)
	}
	if g.DType != tensor.Float32 && g.DType != tensor.Float64 {
		return fmt.Errorf("input grid: want float32 or float64, got %v", g.DType)
	}
	r := x.Rank() - 2
	if r < 1 || (o.opset < 20 && r != 2) || r > 3 {
		return fmt.Errorf("input X: shape %v has an unsupported rank for this opset", x.Shape)
	}
	if g.Rank() != r+2 || g.Shape[0] != x.Shape[0] || g.Shape[r+1] != r {
		return fmt.Errorf("input grid: want shape (%d, ..., %d) of rank %d, got %v", x.Shape[0], r, r+2, g.Shape)
	}
	nb, ch := x.Shape[0], x.Shape[1]
	isz := x.Shape[2:]
	outSp := g.Shape[1 : r+1]
	shape := append([]int{nb, ch}, outSp...)
	if err := checkSize(o.n, shape); err != nil {
		return err
	}
	resize(out[0], x.DType, shape...)
	y := out[0]
	inSize, outSize := prod(isz), prod(outSp)
	if ch == 0 || outSize == 0 {
		return nil
	}
	// fetch returns X[n,c] at integer index idx (innermost last), with
	// cubic taps clamped or reflected, and zero outside for zeros padding.
	var idx [3]int
	fetch := func(base int) float64 {
		off := 0
		for d := range r {
			i, sz := idx[d], isz[d]
			if i < 0 || i >= sz {
				switch o.padding {
				case 0:
					return 0
				case 1:
					i = min(max(i, 0), sz-1)
				case 2:
					lo, hi := -0.5, float64(sz)-0.5
					if o.align {
						lo, hi = 0, float64(sz-1)
					}
					i = min(max(int(reflectCoord(float64(i), lo, hi)), 0), sz-1)
				}
			}
			off = off*sz + i
		}
		return x.Float64At(base + off)
	}
	var lo [3]int
	var w [3][4]float64
	taps := [3]int{2, 1, 4}[o.mode]
	for b := range nb {
		for p := range outSize {
			gb := (b*outSize + p) * r
			for d := range r {
				// Grid coordinates list the innermost dimension first.
				v := g.Float64At(gb + r - 1 - d)
				sz := float64(isz[d])
				var c float64
				if o.align {
					c = (v + 1) / 2 * (sz - 1)
				} else {
					c = ((v+1)*sz - 1) / 2
				}
				if o.mode != 2 {
					switch o.padding {
					case 1:
						c = math.Min(math.Max(c, 0), sz-1)
					case 2:
						if o.align {
							c = reflectCoord(c, 0, sz-1)
						} else {
							c = reflectCoord(c, -0.5, sz-0.5)
						}
						c = math.Min(math.Max(c, 0), sz-1)
					}
				}
				switch o.mode {
				case 0:
					f := math.Floor(c)
					lo[d], w[d][0], w[d][1] = int(f), 1-(c-f), c-f
				case 1:
					lo[d], w[d][0] = int(math.RoundToEven(c)), 1
				case 2:
					f := math.Floor(c)
					lo[d] = int(f) - 1
					w[d] = cubicWeights(c - f)
				}
				if math.IsNaN(c) || math.Abs(c) > 1<<40 {
					lo[d] = -1 << 40 // far outside: padding decides
				}
			}
			for c := range ch {
				base := (b*ch + c) * inSize
				var sum float64
				n := 1
				for range r {
					n *= taps
				}
				for t := range n {
					wt, k := 1.0, t
					for d := r - 1; d >= 0; d-- {
						j := k % taps
						k /= taps
						idx[d] = lo[d] + j
						wt *= w[d][j]
					}
					if wt != 0 {
						sum += wt * fetch(base)
					}
				}
				yi := (b*ch+c)*outSize + p
				if y.DType == tensor.Float32 {
					y.F32[yi] = float32(sum)
				} else {
					y.F64[yi] = sum
				}
			}
		}
	}
	return nil
}

// cubicWeights are the Keys cubic convolution weights (a = -0.75) of the
// four taps around a point at fraction t past the second.
func cubicWeights(t float64) [4]float64 {
	const a = -0.75
	near := func(x float64) float64 { return ((a+2)*x-(a+3))*x*x + 1 }
	far := func(x float64) float64 { return ((a*x-5*a)*x+8*a)*x - 4*a }
	return [4]float64{far(t + 1), near(t), near(1 - t), far(2 - t)}
}
