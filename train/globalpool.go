package train

import (
	"fmt"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// GlobalAvgPool averages each channel over its whole plane, like
// torch.nn.AdaptiveAvgPool2d(1): [N, C, H, W] to [N, C, 1, 1]. It is
// exported as GlobalAveragePool.
type GlobalAvgPool struct {
	name     string
	n, c, hw int
	y, dx    tensor.Tensor
	dy       *tensor.Tensor
	fwd      chunkFunc
	bwd      chunkFunc
	x        *tensor.Tensor
}

// NewGlobalAvgPool returns a global average pooling layer.
func NewGlobalAvgPool(name string) *GlobalAvgPool {
	p := &GlobalAvgPool{name: name}
	p.fwd, p.bwd = p.forwardChunk, p.backwardChunk
	return p
}

// Name returns the layer's name.
func (p *GlobalAvgPool) Name() string { return p.name }

// Params returns nil.
func (p *GlobalAvgPool) Params() []*Param { return nil }

// OutShape returns [C, 1, 1] for an input sample [C, H, W].
func (p *GlobalAvgPool) OutShape(in []int) ([]int, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("input [%s], want [C, H, W]", tensor.ShapeString(in))
	}
	return []int{in[0], 1, 1}, nil
}

// exportONNX writes a GlobalAveragePool.
func (p *GlobalAvgPool) exportONNX(e *exporter, in string) string {
	return e.node(p.name, "GlobalAveragePool", nil, in)
}

// Forward computes y [N, C, 1, 1], the mean of each plane of x [N, C, H, W]
// (summed in float64).
func (p *GlobalAvgPool) Forward(x *tensor.Tensor) *tensor.Tensor {
	checkRank(p.name, "input", x, 4)
	p.x = x
	p.n, p.c, p.hw = x.Shape[0], x.Shape[1], x.Shape[2]*x.Shape[3]
	p.y.Resize(tensor.Float32, p.n, p.c, 1, 1)
	pool().run(p.n, chunkSize(p.n), p.fwd)
	return &p.y
}

func (p *GlobalAvgPool) forwardChunk(_, _, lo, hi int) {
	for pl := lo * p.c; pl < hi*p.c; pl++ {
		var s float64
		for _, v := range p.x.F32[pl*p.hw : (pl+1)*p.hw] {
			s += float64(v)
		}
		p.y.F32[pl] = float32(s / float64(p.hw))
	}
}

// Backward takes dy [N, C, 1, 1] and returns dx [N, C, H, W] = dy/(H*W)
// at every position of the plane.
func (p *GlobalAvgPool) Backward(dy *tensor.Tensor) *tensor.Tensor {
	if p.x == nil {
		panic("train: layer " + p.name + ": Backward before Forward")
	}
	checkSame(p.name, "output gradient", dy, p.y.Shape)
	p.dy = dy
	p.dx.Resize(tensor.Float32, p.x.Shape...)
	pool().run(p.n, chunkSize(p.n), p.bwd)
	p.dy = nil
	return &p.dx
}

func (p *GlobalAvgPool) backwardChunk(_, _, lo, hi int) {
	for pl := lo * p.c; pl < hi*p.c; pl++ {
		g := p.dy.F32[pl] / float32(p.hw)
		dx := p.dx.F32[pl*p.hw : (pl+1)*p.hw]
		for i := range dx {
			dx[i] = g
		}
	}
}

// buildGlobalPool makes a GlobalAvgPool from a GlobalAveragePool.
func buildGlobalPool(b *onnxBuilder, n *onnx.Node) (Node, error) {
	return Apply(NewGlobalAvgPool(b.layerName(n, "")), n.Inputs[0]), nil
}
