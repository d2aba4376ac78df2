package infer

import "github.com/onnxkit/onnxkit/tensor"

// Memory planning. A run's node outputs live in buffers: a slot whose value
// is dead (no later node reads it, it is not a graph output, and no live
// view shares its elements) hands its buffer to a later node's output of
// the same element type. Nodes run one after another, so a run holds only
// the values live at its widest point instead of every value of the graph.
// A buffer changes hands only between outputs whose element type the plan
// knows to be the same, so that once grown its storage is reused at every
// run; outputs of an unknown type get buffers of their own.

// assignBuffers sets p.buf and p.nbufs. It runs after the plan's
// rewrites, once p.views is final.
func (p *plan) assignBuffers() {
	view := make([]bool, p.nslots)
	for _, v := range p.views {
		view[v] = true
	}
	// root[s] is the slot whose elements s shares (s itself unless a view).
	root := make([]int, p.nslots)
	for s := range root {
		root[s] = s
	}
	dt := make([]tensor.DType, p.nslots)
	for s, c := range p.consts {
		if c != nil {
			dt[s] = c.DType
		}
	}
	for _, in := range p.inputs {
		dt[in.slot] = in.info.DType
	}
	// last[r] is the index of the last node that reads root r or a view of
	// it; len(p.nodes) keeps it to the end of the run.
	last := make([]int, p.nslots)
	for s := range last {
		last[s] = -1
	}
	for i, pn := range p.nodes {
		for _, s := range pn.in {
			if s >= 0 {
				last[root[s]] = max(last[root[s]], i)
			}
		}
		for j, s := range pn.out {
			if s < 0 {
				continue
			}
			if view[s] {
				root[s] = root[pn.in[0]]
				dt[s] = dt[pn.in[0]]
				continue
			}
			dt[s] = outDType(&pn, j, dt)
		}
	}
	for _, o := range p.outputs {
		last[root[o.slot]] = len(p.nodes)
	}

	p.buf = make([]int, p.nslots)
	for s := range p.buf {
		p.buf[s] = -1
	}
	free := map[tensor.DType][]int{}
	release := func(r, i int) {
		if b := p.buf[r]; b >= 0 && last[r] <= i && dt[r] != tensor.Invalid {
			free[dt[r]] = append(free[dt[r]], b)
			last[r] = len(p.nodes) + 1 // released once
		}
	}
	for i, pn := range p.nodes {
		for _, s := range pn.out {
			if s < 0 || view[s] {
				continue
			}
			if f := free[dt[s]]; dt[s] != tensor.Invalid && len(f) > 0 {
				p.buf[s], free[dt[s]] = f[len(f)-1], f[:len(f)-1]
			} else {
				p.buf[s] = p.nbufs
				p.nbufs++
			}
		}
		// A node's inputs and its unread outputs are free for the nodes
		// after it (never for its own outputs, which an op may write
		// while it reads its inputs).
		for _, s := range pn.in {
			if s >= 0 {
				release(root[s], i)
			}
		}
		for _, s := range pn.out {
			if s >= 0 && !view[s] {
				release(s, i)
			}
		}
	}
}

// outDType is the element type of output j of pn when the plan can tell
// it from the types of the node's inputs (tensor.Invalid when not).
func outDType(pn *planNode, j int, dt []tensor.DType) tensor.DType {
	of := func(i int) tensor.DType {
		if i < len(pn.in) && pn.in[i] >= 0 {
			return dt[pn.in[i]]
		}
		return tensor.Invalid
	}
	switch pn.node.OpType {
	case "Split":
		return of(0)
	case "Where":
		if j == 0 {
			return of(1)
		}
	case "Shape", "Size", "NonZero", "ArgMax", "ArgMin":
		if j == 0 {
			return tensor.Int64
		}
	}
	if j == 0 && sameTypeOps[pn.node.OpType] {
		return of(0)
	}
	return tensor.Invalid
}

// sameTypeOps are the ops whose first output has the element type of
// their first input.
var sameTypeOps = map[string]bool{
	"Abs": true, "Add": true, "AveragePool": true, "BatchNormalization": true, "Ceil": true,
	"Clip": true, "Concat": true, "Conv": true, "ConvTranspose": true, "Cos": true,
	"CumSum": true, "DepthToSpace": true, "Div": true, "Dropout": true, "Elu": true,
	"Erf": true, "Exp": true, "Expand": true, "Flatten": true, "Floor": true,
	"Gather": true, "Gelu": true, "Gemm": true, "GlobalAveragePool": true, "GlobalMaxPool": true,
	"HardSigmoid": true, "HardSwish": true, "Identity": true, "InstanceNormalization": true,
	"LayerNormalization": true, "LeakyRelu": true, "Log": true, "LogSoftmax": true, "LRN": true,
	"MatMul": true, "Max": true, "MaxPool": true, "Mean": true, "Min": true, "Mish": true,
	"Mul": true, "Neg": true, "Pad": true, "Pow": true, "PRelu": true, "Reciprocal": true,
	"ReduceMax": true, "ReduceMean": true, "ReduceMin": true, "ReduceSum": true, "Relu": true,
	"Reshape": true, "Resize": true, "Round": true, "Selu": true, "Sigmoid": true, "Sin": true,
	"Slice": true, "Softmax": true, "Softplus": true, "SpaceToDepth": true, "Sqrt": true,
	"Squeeze": true, "Sub": true, "Sum": true, "Tanh": true, "Tile": true, "Transpose": true,
	"Trilu": true, "Unsqueeze": true, "Upsample": true,
}
