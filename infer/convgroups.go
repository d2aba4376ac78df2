package infer

import (
	"slices"

	"github.com/onnxkit/onnxkit/internal/kernel"
)

// groupsWide computes a grouped stride-1 convolution (1 < group < C) with
// each group's weights packed at load (gpacks): for every (sample, group)
// pair, the group's channels padded once and the product read from them
// in place (kernel.PackedA.SgemmOffsets), the bias and activation applied
// to it, and the output copied out of the wide layout. No im2col matrix,
// no packing of it, and at batch 1 the groups are shared out between the
// workers. sg is the geometry of one group of one sample.
func groupsWide(s *scratch, a convArgs, gpacks []*kernel.PackedA, n int, sg kernel.ConvGeom) error {
	cols, _ := sg.Wide()
	mg := a.m / a.group
	ldc := kernel.TileCols(cols)
	srcSize := sg.WideInputSize()
	per := srcSize + kernel.TileRows(mg)*ldc
	items := n * a.group
	workers := batchWorkers(items, mg*sg.ColRows()*cols)
	if err := checkAlloc(workers * per); err != nil {
		return err
	}
	t := taskOf[convGroupsWide](s)
	t.offs = slices.Grow(t.offs[:0], sg.ColRows())[:sg.ColRows()]
	sg.WideOffsets(t.offs)
	t.a, t.gpacks, t.geom, t.cols, t.ldc, t.buf, t.per = a, gpacks, sg, cols, ldc, s.floats(workers*per), per
	err := parallelFor(s, items, workers, t)
	t.a, t.gpacks, t.buf = convArgs{}, nil, nil
	return err
}

// convGroupsWide is groupsWide's task over (sample, group) pairs, item i
// being sample i/group's group i%group; each worker has per floats of buf:
// the padded group, then its tile-padded product [TileRows(M/group), ldc].
type convGroupsWide struct {
	a         convArgs
	gpacks    []*kernel.PackedA
	geom      kernel.ConvGeom // of one group of one sample
	offs      []int32         // the rows of the wide im2col matrix in the padded group
	cols, ldc int
	buf       []float32
	per       int
}

func (t *convGroupsWide) run(lo, hi, worker int) error {
	a, g := &t.a, &t.geom
	mine := t.buf[worker*t.per : (worker+1)*t.per]
	src, c := mine[:g.WideInputSize()], mine[g.WideInputSize():]
	cg, mg := a.c/a.group, a.m/a.group
	inSize, P := g.H*g.W, a.g.outSize()
	for it := lo; it < hi; it++ {
		i, gi := it/a.group, it%a.group
		x := a.x[(i*a.c+gi*cg)*inSize : (i*a.c+(gi+1)*cg)*inSize]
		g.WideInput(x, src)
		t.gpacks[gi].SgemmOffsets(t.cols, src, t.offs, c, t.ldc)
		y := a.y[(i*a.m+gi*mg)*P : (i*a.m+(gi+1)*mg)*P]
		for o := range mg {
			row := c[o*t.ldc : o*t.ldc+t.cols]
			if a.b != nil {
				kernel.AddConst(a.b[gi*mg+o], row)
			}
			applyAct(a.act, row)
			g.FromWide(y[o*P:(o+1)*P], row)
		}
	}
	return nil
}
