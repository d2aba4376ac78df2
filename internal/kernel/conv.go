package kernel

import "math"

// ConvGeom is the geometry of a 2-D convolution (or pooling window) over
// one image of C channels of H x W values, stored [C][H][W]. The zero
// value of a stride or a dilation means 1.
type ConvGeom struct {
	C, H, W                              int // input channels, height and width
	KH, KW                               int // kernel height and width
	PadTop, PadLeft, PadBottom, PadRight int // implicit zeros around the input
	StrideH, StrideW                     int
	DilationH, DilationW                 int
}

// steps returns the strides and dilations, zero read as 1.
func (g *ConvGeom) steps() (sh, sw, dh, dw int) {
	return max(g.StrideH, 1), max(g.StrideW, 1), max(g.DilationH, 1), max(g.DilationW, 1)
}

// OutH returns the output height: the number of window positions down
// the padded input (0 when the window does not fit).
func (g *ConvGeom) OutH() int {
	sh, _, dh, _ := g.steps()
	return outSize(g.H+g.PadTop+g.PadBottom, g.KH, sh, dh)
}

// OutW returns the output width: the number of window positions across
// the padded input (0 when the window does not fit).
func (g *ConvGeom) OutW() int {
	_, sw, _, dw := g.steps()
	return outSize(g.W+g.PadLeft+g.PadRight, g.KW, sw, dw)
}

// ColRows returns C*KH*KW, the number of rows of the im2col matrix.
func (g *ConvGeom) ColRows() int { return g.C * g.KH * g.KW }

// ColCols returns OutH*OutW, the number of columns of the im2col matrix.
func (g *ConvGeom) ColCols() int { return g.OutH() * g.OutW() }

func outSize(padded, k, stride, dil int) int {
	span := dil*(k-1) + 1
	if k <= 0 || padded < span {
		return 0
	}
	return (padded-span)/stride + 1
}

// check panics unless g is a valid geometry and an image of nx values and
// an im2col matrix of ncol values (row stride ld) are long enough for it.
func (g *ConvGeom) check(name string, nx, ncol, ld int) {
	if g.C < 0 || g.H < 0 || g.W < 0 || g.KH < 0 || g.KW < 0 || g.PadTop < 0 || g.PadLeft < 0 ||
		g.PadBottom < 0 || g.PadRight < 0 || g.StrideH < 0 || g.StrideW < 0 || g.DilationH < 0 || g.DilationW < 0 {
		panic("kernel: " + name + ": negative size in geometry")
	}
	rows, cols := g.ColRows(), g.ColCols()
	if rows == 0 || cols == 0 {
		return
	}
	if nx < g.C*g.H*g.W {
		panic("kernel: " + name + ": image is too short for its geometry")
	}
	if ld < cols || ncol < (rows-1)*ld+cols {
		panic("kernel: " + name + ": col is too short for its geometry and stride")
	}
}

// validRange returns the outputs [lo, hi) of one axis whose input index
// o*stride - pad + off falls inside [0, size), given n outputs.
func validRange(n, stride, pad, off, size int) (lo, hi int) {
	// First o with o*stride >= pad-off, last with o*stride < size+pad-off.
	lo = max(0, ceilDiv(pad-off, stride))
	hi = min(n, max(0, ceilDiv(size+pad-off, stride)))
	return lo, max(lo, hi)
}

// ceilDiv is the ceiling of a/b for b > 0 and any sign of a.
func ceilDiv(a, b int) int {
	if a <= 0 {
		return -(-a / b)
	}
	return (a + b - 1) / b
}

// Im2col writes the im2col matrix of the image x ([C][H][W]) into col:
// row (c*KH+i)*KW+j, column oy*OutW+ox holds the input value under kernel
// tap (i, j) of channel c for output position (oy, ox), or 0 where the tap
// falls on padding. Rows are ld values apart (ld >= OutH*OutW), so several
// images can be placed side by side. It panics when x or col is too short.
// It takes float32 images and the int16 ones of the integer convolutions
// (8-bit values less their zero point, so that padding is the zero point).
func Im2col[T float32 | int16](g *ConvGeom, x, col []T, ld int) {
	g.check("Im2col", len(x), len(col), ld)
	oh, ow := g.OutH(), g.OutW()
	if g.ColRows() == 0 || oh*ow == 0 {
		return
	}
	sh, sw, dh, dw := g.steps()
	plane := g.H * g.W
	r := 0
	for c := range g.C {
		xc := x[c*plane : (c+1)*plane]
		for i := range g.KH {
			yLo, yHi := validRange(oh, sh, g.PadTop, i*dh, g.H)
			for j := range g.KW {
				xLo, xHi := validRange(ow, sw, g.PadLeft, j*dw, g.W)
				dst := col[r*ld : r*ld+oh*ow]
				r++
				clear(dst[:yLo*ow])
				clear(dst[yHi*ow:])
				if xLo == xHi {
					clear(dst[yLo*ow : yHi*ow])
					continue
				}
				x0 := xLo*sw - g.PadLeft + j*dw // input column of output xLo
				for oy := yLo; oy < yHi; oy++ {
					d := dst[oy*ow : (oy+1)*ow]
					src := xc[(oy*sh-g.PadTop+i*dh)*g.W:][:g.W]
					clear(d[:xLo])
					clear(d[xHi:])
					if sw == 1 {
						copy(d[xLo:xHi], src[x0:])
						continue
					}
					for ox, ix := xLo, x0; ox < xHi; ox, ix = ox+1, ix+sw {
						d[ox] = src[ix]
					}
				}
			}
		}
	}
}

// Col2im is the adjoint of Im2col: it adds every value of the im2col
// matrix col (rows ld values apart) to the element of the image x
// ([C][H][W]) it was taken from, dropping the ones that fall on padding.
// x is added to, not overwritten: clear it first for a plain col2im. It
// panics when x or col is too short.
func Col2im(g *ConvGeom, col []float32, ld int, x []float32) {
	g.check("Col2im", len(x), len(col), ld)
	oh, ow := g.OutH(), g.OutW()
	if g.ColRows() == 0 || oh*ow == 0 {
		return
	}
	sh, sw, dh, dw := g.steps()
	plane := g.H * g.W
	r := 0
	for c := range g.C {
		xc := x[c*plane : (c+1)*plane]
		for i := range g.KH {
			yLo, yHi := validRange(oh, sh, g.PadTop, i*dh, g.H)
			for j := range g.KW {
				xLo, xHi := validRange(ow, sw, g.PadLeft, j*dw, g.W)
				src := col[r*ld : r*ld+oh*ow]
				r++
				if xLo == xHi {
					continue
				}
				x0 := xLo*sw - g.PadLeft + j*dw
				for oy := yLo; oy < yHi; oy++ {
					s := src[oy*ow+xLo : oy*ow+xHi]
					dst := xc[(oy*sh-g.PadTop+i*dh)*g.W:][:g.W]
					if sw == 1 {
						Axpy(1, s, dst[x0:]) // 1*s + x rounds once: exactly s + x
						continue
					}
					for k, ix := 0, x0; k < len(s); k, ix = k+1, ix+sw {
						dst[ix] += s[k]
					}
				}
			}
		}
	}
}

// The wide im2col layout, for a stride-1, undilated convolution: output
// position (oy, ox) is column oy*PW + ox, where PW = W+PadLeft+PadRight is
// the padded width, so that each im2col row is one contiguous run of the
// padded input plane; the KW-1 columns past each output row are computed
// and dropped. Copying KH*KW runs a channel instead of KH*KW*OutH short
// rows makes im2col several times cheaper, for a few more columns.

// Wide returns the number of columns of the wide layout, (OutH-1)*PW +
// OutW, and whether g has the layout (stride and dilation 1, an output
// of at least one position) at no more than 40% more columns than
// Im2col's.
func (g *ConvGeom) Wide() (cols int, ok bool) {
	sh, sw, dh, dw := g.steps()
	oh, ow := g.OutH(), g.OutW()
	if sh != 1 || sw != 1 || dh != 1 || dw != 1 || oh < 1 || ow < 1 {
		return 0, false
	}
	cols = (oh-1)*g.PaddedW() + ow
	return cols, cols*5 <= oh*ow*7
}

// PaddedW is the width of the input with its padding.
func (g *ConvGeom) PaddedW() int { return g.W + g.PadLeft + g.PadRight }

// PaddedSize is the size of one padded input plane, or 0 without padding
// (Im2colWide's pad argument).
func (g *ConvGeom) PaddedSize() int {
	if g.PadTop+g.PadLeft+g.PadBottom+g.PadRight == 0 {
		return 0
	}
	return (g.H + g.PadTop + g.PadBottom) * g.PaddedW()
}

// Im2colWide writes the wide im2col matrix of the image x ([C][H][W])
// into col, rows ld values apart, using pad (PaddedSize values) for the
// padded copy of each plane. g must have the wide layout (see Wide).
func Im2colWide(g *ConvGeom, x, col []float32, ld int, pad []float32) {
	cols, _ := g.Wide()
	pw, plane := g.PaddedW(), g.H*g.W
	row := 0
	for c := range g.C {
		src := x[c*plane : (c+1)*plane]
		if n := g.PaddedSize(); n > 0 {
			padPlane(g, src, pad[:n])
			src = pad
		}
		for i := range g.KH {
			for j := range g.KW {
				dst, s := col[row*ld:][:cols], src[i*pw+j:][:cols]
				if cols == 1 { // a kernel the size of the input: no call
					dst[0] = s[0]
				} else {
					copy(dst, s)
				}
				row++
			}
		}
	}
}

// padPlane writes the plane src (H x W) into dst, one padded plane.
func padPlane[T float32 | int16](g *ConvGeom, src, dst []T) {
	pw := g.PaddedW()
	clear(dst[:g.PadTop*pw])
	for y := range g.H {
		row := dst[(y+g.PadTop)*pw : (y+g.PadTop+1)*pw]
		clear(row[:g.PadLeft])
		copy(row[g.PadLeft:], src[y*g.W:(y+1)*g.W])
		clear(row[g.PadLeft+g.W:])
	}
	clear(dst[(g.H+g.PadTop)*pw:])
}

// The wide im2col matrix read in place: row (c*KH+i)*KW+j of the wide
// matrix is the run of the padded input from offset c*PS + i*PW + j,
// where PS is the size of one padded plane, so PackedA.SgemmOffsets can
// multiply by it without writing it. WideInput writes the padded input
// once, WideOffsets gives the offsets.

// WideInputSize returns the length of WideInput's output: the C padded
// planes, and the values past them that SgemmOffsets reads for the
// columns past the last (TileCols of the wide columns in all from each
// offset). g must have the wide layout.
func (g *ConvGeom) WideInputSize() int {
	cols, _ := g.Wide()
	return g.C*g.paddedPlane() + TileCols(cols) - cols
}

// FromWide copies one channel of output out of the wide layout: dst
// (OutH x OutW) from src, whose output rows are PaddedW apart, dropping
// the columns past each row.
func (g *ConvGeom) FromWide(dst, src []float32) {
	oh, ow, pw := g.OutH(), g.OutW(), g.PaddedW()
	for oy := range oh {
		copy(dst[oy*ow:(oy+1)*ow], src[oy*pw:oy*pw+ow])
	}
}

// paddedPlane is the size of one padded plane, padding or not.
func (g *ConvGeom) paddedPlane() int { return (g.H + g.PadTop + g.PadBottom) * g.PaddedW() }

// WideInput writes the image x ([C][H][W]) into dst (WideInputSize
// values) as C padded planes, zeros around them and after the last.
func (g *ConvGeom) WideInput(x, dst []float32) { wideInput(*g, x, dst) }

// WideInputInt16 is WideInput for the int16 images of the integer
// convolutions (GemmInt16PackedOffsets reads them).
func (g *ConvGeom) WideInputInt16(x, dst []int16) { wideInput(*g, x, dst) }

// wideInput is WideInput for either type. It takes g by value: once
// WideInput is inlined into another package, a pointer passed to a
// generic function escapes, and the caller's ConvGeom would be allocated.
func wideInput[T float32 | int16](g ConvGeom, x, dst []T) {
	plane, ps := g.H*g.W, g.paddedPlane()
	dst = dst[:g.WideInputSize()]
	if ps == plane {
		copy(dst, x[:g.C*plane])
	} else {
		for c := range g.C {
			padPlane(&g, x[c*plane:(c+1)*plane], dst[c*ps:(c+1)*ps])
		}
	}
	clear(dst[g.C*ps:])
}

// WideOffsets sets offs (ColRows values) to the offset of each row of the
// wide im2col matrix in WideInput's output. g must have the wide layout;
// it panics when WideInputSize does not fit in an int32.
func (g *ConvGeom) WideOffsets(offs []int32) {
	if g.WideInputSize() > math.MaxInt32 {
		panic("kernel: WideOffsets: the padded input is too large for int32 offsets")
	}
	ps, pw := g.paddedPlane(), g.PaddedW()
	offs = offs[:g.ColRows()]
	r := 0
	for c := range g.C {
		for i := range g.KH {
			for j := range g.KW {
				offs[r] = int32(c*ps + i*pw + j)
				r++
			}
		}
	}
}
