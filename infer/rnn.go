package infer

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/onnxkit/onnxkit/internal/kernel"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// cellKind is the recurrent cell of an rnnOp.
type cellKind int

const (
	cellRNN cellKind = iota
	cellGRU
	cellLSTM
)

// cells holds, by cellKind, the number of gate blocks of hidden_size rows
// in W and R, the activations per direction and their defaults.
var cells = [...]struct {
	gates    int
	defaults []string
}{
	cellRNN:  {1, []string{"Tanh"}},
	cellGRU:  {3, []string{"Sigmoid", "Tanh"}},
	cellLSTM: {4, []string{"Sigmoid", "Tanh", "Tanh"}},
}

// rnnOp is RNN, GRU or LSTM (opsets 7, 14 and 22; float32). Per direction
// the whole sequence is projected through W in one product, then each step
// multiplies the hidden state by R and applies the gates:
//
//	RNN:  Ht = f(Xt*Wi^T + Ht-1*Ri^T + Wbi + Rbi)
//	GRU:  zt = f(Xt*Wz^T + Ht-1*Rz^T + Wbz + Rbz), rt likewise,
//	      ht = g(Xt*Wh^T + (rt (.) Ht-1)*Rh^T + Rbh + Wbh), or with
//	      linear_before_reset ht = g(Xt*Wh^T + rt (.) (Ht-1*Rh^T + Rbh) + Wbh),
//	      Ht = (1 - zt) (.) ht + zt (.) Ht-1
//	LSTM: it = f(Xt*Wi^T + Ht-1*Ri^T + Pi (.) Ct-1 + Wbi + Rbi), ft likewise
//	      (or 1 - it with input_forget), ct = g(Xt*Wc^T + Ht-1*Rc^T + Wbc + Rbc),
//	      Ct = ft (.) Ct-1 + it (.) ct, ot = f(... + Po (.) Ct + ...),
//	      Ht = ot (.) h(Ct)
//
// clip bounds the input of every gate's activation (not Ct before h). A
// batch entry with sequence_lens L runs steps 0..L-1 (backwards for the
// reverse direction); Y is zero past L, and Y_h and Y_c hold the state
// after its last step (zero when L is 0).
type rnnOp struct {
	cell              cellKind
	hidden            int // the hidden_size attribute; 0 when absent (taken from R)
	dirs              int
	reverse           bool // direction "reverse"
	batchMajor        bool // layout 1
	clip              float32
	acts              [2][3]rnnAct // by direction, in the spec's order (f, g, h)
	inputForget       bool
	linearBeforeReset bool
	want              [3]bool       // the outputs Y, Y_h, Y_c the node asks for
	packed            [2]*rnnPacked // by direction: constant weights packed at load, or nil
}

// rnnPacked holds one direction's constant weights packed once for the
// matrix kernel: W^T, and the columns of R^T of each step's products (all
// of them, or for GRU without linear_before_reset those of z and r, then
// those of h).
type rnnPacked struct {
	w, r, rh *kernel.PackedB
}

// Activation functions of the recurrent ops.
const (
	actSigmoid = iota
	actTanh
	actRelu
	actAffine
	actLeakyRelu
	actThresholdedRelu
	actScaledTanh
	actHardSigmoid
	actElu
	actSoftsign
	actSoftplus
)

// rnnActs maps the lower-cased activation names to their function, which
// of activation_alpha and activation_beta they consume, and the defaults
// (those of the ONNX ops of the same names).
var rnnActs = map[string]struct {
	kind                int
	usesAlpha, usesBeta bool
	alpha, beta         float32
}{
	"sigmoid":         {kind: actSigmoid},
	"tanh":            {kind: actTanh},
	"relu":            {kind: actRelu},
	"affine":          {actAffine, true, true, 1, 0},
	"leakyrelu":       {actLeakyRelu, true, false, 0.01, 0},
	"thresholdedrelu": {actThresholdedRelu, true, false, 1, 0},
	"scaledtanh":      {actScaledTanh, true, true, 1, 1},
	"hardsigmoid":     {actHardSigmoid, true, true, 0.2, 0.5},
	"elu":             {actElu, true, false, 1, 0},
	"softsign":        {kind: actSoftsign},
	"softplus":        {kind: actSoftplus},
}

// rnnAct is one activation function with its parameters.
type rnnAct struct {
	kind        int
	alpha, beta float32
}

func buildRNN(n *onnx.Node, opset int64) (op, error)  { return buildRecurrent(n, opset, cellRNN) }
func buildGRU(n *onnx.Node, opset int64) (op, error)  { return buildRecurrent(n, opset, cellGRU) }
func buildLSTM(n *onnx.Node, opset int64) (op, error) { return buildRecurrent(n, opset, cellLSTM) }

func buildRecurrent(n *onnx.Node, opset int64, cell cellKind) (op, error) {
	maxIn, maxOut := 6, 2
	if cell == cellLSTM {
		maxIn, maxOut = 8, 3
	}
	// Every output is optional, so a node may have none (checkArity wants
	// one at least).
	probe := *n
	if len(probe.Outputs) == 0 {
		probe.Outputs = []string{""}
	}
	if err := checkArity(&probe, 3, maxIn, maxOut); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &rnnOp{cell: cell, dirs: 1}
	switch d := a.string("direction", "forward"); d {
	case "forward":
	case "reverse":
		o.reverse = true
	case "bidirectional":
		o.dirs = 2
	default:
		a.fail("attribute \"direction\": want forward, reverse or bidirectional, got %q", d)
	}
	if a.has("hidden_size") {
		h := a.int("hidden_size", 0)
		if h <= 0 || h > math.MaxInt32 {
			a.fail("attribute \"hidden_size\": want a positive value, got %d", h)
		}
		o.hidden = int(h)
	}
	if a.has("clip") {
		o.clip = a.float("clip", 0)
		if !(o.clip > 0) {
			a.fail("attribute \"clip\": want a positive threshold, got %v", o.clip)
		}
	}
	if a.has("layout") && opset < 14 {
		a.fail("attribute \"layout\" is not defined before opset 14 (model opset %d)", opset)
	}
	switch l := a.int("layout", 0); l {
	case 0, 1:
		o.batchMajor = l == 1
	default:
		a.fail("attribute \"layout\": want 0 or 1, got %d", l)
	}
	flag := func(name string) bool {
		v := a.int(name, 0)
		if v != 0 && v != 1 {
			a.fail("attribute %q: want 0 or 1, got %d", name, v)
		}
		return v == 1
	}
	for _, own := range []struct {
		name string
		cell cellKind
	}{{"input_forget", cellLSTM}, {"linear_before_reset", cellGRU}} {
		if a.has(own.name) && cell != own.cell {
			a.fail("attribute %q: not an attribute of %s", own.name, n.OpType)
		}
	}
	if cell == cellLSTM {
		o.inputForget = flag("input_forget")
	}
	if cell == cellGRU {
		o.linearBeforeReset = flag("linear_before_reset")
	}
	if a.err != nil {
		return nil, a.err
	}
	if err := o.parseActivations(n, &a); err != nil {
		return nil, err
	}
	for i, name := range n.Outputs {
		o.want[i] = name != ""
	}
	return o, nil
}

// parseActivations reads activations, activation_alpha and
// activation_beta. The list holds one set of functions per direction; a
// single set serves both directions of a bidirectional node, and a forward
// or reverse RNN also takes the two-entry list that is its spec's default.
// The alpha and beta lists are consumed in order by the functions that take
// them; a function past the end of a list keeps its default.
func (o *rnnOp) parseActivations(n *onnx.Node, a *attrs) error {
	per := len(cells[o.cell].defaults)
	names := cells[o.cell].defaults
	if at := a.get("activations", onnx.AttrStrings); at != nil {
		names = make([]string, len(at.Strings))
		for i, s := range at.Strings {
			names[i] = string(s)
		}
	}
	alphas := a.floats("activation_alpha", nil)
	betas := a.floats("activation_beta", nil)
	if a.err != nil {
		return a.err
	}
	switch {
	case len(names) == per*o.dirs:
	case len(names) == per && o.dirs == 2:
		names = append(names, names...)
	case o.cell == cellRNN && o.dirs == 1 && len(names) == 2:
		names = names[:1]
	default:
		return errorf(n, "attribute \"activations\": want %d functions, got %d", per*o.dirs, len(names))
	}
	for i, name := range names {
		def, ok := rnnActs[strings.ToLower(name)]
		if !ok {
			return unsupportedf(n, "attribute \"activations\": function %q", name)
		}
		act := rnnAct{kind: def.kind, alpha: def.alpha, beta: def.beta}
		if def.usesAlpha && len(alphas) > 0 {
			act.alpha, alphas = alphas[0], alphas[1:]
		}
		if def.usesBeta && len(betas) > 0 {
			act.beta, betas = betas[0], betas[1:]
		}
		o.acts[i/per][i%per] = act
	}
	if len(alphas) > 0 || len(betas) > 0 {
		return errorf(n, "attributes \"activation_alpha\" and \"activation_beta\": %d and %d values more than the activations take", len(alphas), len(betas))
	}
	return nil
}

// apply sets x[i] = f(x[i]).
func (f rnnAct) apply(x []float32) {
	switch f.kind {
	case actSigmoid:
		// 1/(1+e^-x) = (1 + tanh(x/2))/2, in the vectorized kernels:
		// within about 1e-7 of the exact value.
		kernel.Scale(0.5, x)
		kernel.Tanh(x, x)
		kernel.Scale(0.5, x)
		kernel.AddConst(0.5, x)
	case actTanh:
		kernel.Tanh(x, x)
	case actRelu:
		kernel.Relu(x, x)
	case actAffine:
		for i, v := range x {
			x[i] = f.alpha*v + f.beta
		}
	case actLeakyRelu:
		for i, v := range x {
			if v < 0 {
				x[i] = f.alpha * v
			}
		}
	case actThresholdedRelu:
		for i, v := range x {
			if v < f.alpha {
				x[i] = 0
			}
		}
	case actScaledTanh:
		for i, v := range x {
			x[i] = f.beta * v
		}
		kernel.Tanh(x, x)
		kernel.Scale(f.alpha, x)
	case actHardSigmoid:
		for i, v := range x {
			x[i] = min(max(f.alpha*v+f.beta, 0), 1)
		}
	case actElu:
		for i, v := range x {
			if v < 0 {
				x[i] = f.alpha * float32(math.Expm1(float64(v)))
			}
		}
	case actSoftsign:
		for i, v := range x {
			x[i] = v / (1 + float32(math.Abs(float64(v))))
		}
	case actSoftplus:
		for i, v := range x {
			d := float64(v)
			if d > 0 {
				x[i] = float32(d + math.Log1p(math.Exp(-d)))
			} else {
				x[i] = float32(math.Log1p(math.Exp(d)))
			}
		}
	}
}

// activate clips x to [-clip, clip] when clip is set, then applies f.
func (o *rnnOp) activate(f rnnAct, x []float32) {
	if c := o.clip; c > 0 {
		for i, v := range x {
			x[i] = min(max(v, -c), c)
		}
	}
	f.apply(x)
}

// rnnShapes are the sizes of one run.
type rnnShapes struct {
	seq, batch, input, hidden int
	gh                        int // gates * hidden: the rows of W and R per direction
}

func (o *rnnOp) run(s *scratch, in, out []*tensor.Tensor) error {
	opt := func(i int) *tensor.Tensor {
		if i < len(in) {
			return in[i]
		}
		return nil
	}
	x, w, r, b, lens, h0 := in[0], in[1], in[2], opt(3), opt(4), opt(5)
	var c0, p *tensor.Tensor
	if o.cell == cellLSTM {
		c0, p = opt(6), opt(7)
	}
	sh, err := o.check(x, w, r, b, lens, h0, c0, p)
	if err != nil {
		return err
	}
	var outs [3]*tensor.Tensor
	for i, t := range out {
		if i < len(outs) && o.want[i] {
			outs[i] = t
		} else {
			resize(t, tensor.Float32, 0) // an absent output before a present one
		}
	}
	seq, batch, hid, dirs := sh.seq, sh.batch, sh.hidden, o.dirs
	if outs[0] != nil {
		if o.batchMajor {
			resize(outs[0], tensor.Float32, batch, seq, dirs, hid)
		} else {
			resize(outs[0], tensor.Float32, seq, dirs, batch, hid)
		}
	}
	for _, t := range outs[1:] {
		if t == nil {
			continue
		}
		if o.batchMajor {
			resize(t, tensor.Float32, batch, dirs, hid)
		} else {
			resize(t, tensor.Float32, dirs, batch, hid)
		}
	}
	if batch == 0 || hid == 0 {
		return nil // every output is empty (and seq may be huge)
	}

	// Scratch, per direction run at once: the projected sequence, one
	// step's recurrent products, the state h and c, GRU's r (.) h, and R
	// transposed. The two directions of a bidirectional node run in
	// parallel when the work is worth it.
	gh := sh.gh
	nxw, ng, nst, nrt := seq*batch*gh, batch*gh, batch*hid, hid*gh
	if o.packed[0] != nil {
		nrt = 0
	}
	workers := batchWorkers(dirs, seq*batch*gh*(sh.input+hid))
	per := nxw + ng + 3*nst + nrt
	t := taskOf[rnnTask](s)
	*t = rnnTask{o: o, sh: sh, buf: s.floats(per * workers), per: per,
		x: x, w: w, r: r, b: b, lens: lens, h0: h0, c0: c0, p: p, outs: outs}
	err = parallelFor(s, dirs, workers, t)
	*t = rnnTask{}
	return err
}

// rnnTask runs directions [lo, hi) of a node, worker w in the w-th part
// of buf.
type rnnTask struct {
	o                           *rnnOp
	sh                          rnnShapes
	buf                         []float32
	per                         int // floats of buf per worker
	x, w, r, b, lens, h0, c0, p *tensor.Tensor
	outs                        [3]*tensor.Tensor
}

func (t *rnnTask) run(lo, hi, worker int) error {
	sh := t.sh
	nxw, ng, nst := sh.seq*sh.batch*sh.gh, sh.batch*sh.gh, sh.batch*sh.hidden
	buf := t.buf[worker*t.per : (worker+1)*t.per]
	sc := rnnScratch{
		xw: buf[:nxw], g: buf[nxw : nxw+ng],
		h: buf[nxw+ng : nxw+ng+nst], c: buf[nxw+ng+nst : nxw+ng+2*nst],
		rh: buf[nxw+ng+2*nst : nxw+ng+3*nst], rt: buf[nxw+ng+3*nst:],
	}
	for d := lo; d < hi; d++ {
		t.o.direction(d, t, &sc)
	}
	return nil
}

// rnnScratch is the working memory of one direction.
type rnnScratch struct {
	xw, g, h, c, rh, rt []float32
}

// check validates the inputs' types and shapes against each other and the
// attributes, before anything is allocated.
func (o *rnnOp) check(x, w, r, b, lens, h0, c0, p *tensor.Tensor) (rnnShapes, error) {
	var sh rnnShapes
	for _, t := range []struct {
		name string
		t    *tensor.Tensor
	}{{"X", x}, {"W", w}, {"R", r}, {"B", b}, {"initial_h", h0}, {"initial_c", c0}, {"P", p}} {
		if t.t != nil && t.t.DType != tensor.Float32 {
			return sh, fmt.Errorf("input %s: want float32, got %v", t.name, t.t)
		}
	}
	if x.Rank() != 3 {
		return sh, fmt.Errorf("input X: want rank 3, got %v", x)
	}
	sh.seq, sh.batch, sh.input = x.Shape[0], x.Shape[1], x.Shape[2]
	if o.batchMajor {
		sh.seq, sh.batch = sh.batch, sh.seq
	}
	gates := cells[o.cell].gates
	if r.Rank() != 3 || r.Shape[0] != o.dirs || r.Shape[1] != gates*r.Shape[2] {
		return sh, fmt.Errorf("input R: want [%d, %d*hidden_size, hidden_size], got %v", o.dirs, gates, r)
	}
	sh.hidden, sh.gh = r.Shape[2], r.Shape[1]
	if o.hidden != 0 && sh.hidden != o.hidden {
		return sh, fmt.Errorf("input R: %v does not match hidden_size %d", r, o.hidden)
	}
	if w.Rank() != 3 || w.Shape[0] != o.dirs || w.Shape[1] != sh.gh || w.Shape[2] != sh.input {
		return sh, fmt.Errorf("input W: want [%d, %d, %d], got %v", o.dirs, sh.gh, sh.input, w)
	}
	if b != nil && (b.Rank() != 2 || b.Shape[0] != o.dirs || b.Shape[1] != 2*sh.gh) {
		return sh, fmt.Errorf("input B: want [%d, %d], got %v", o.dirs, 2*sh.gh, b)
	}
	if p != nil && (p.Rank() != 2 || p.Shape[0] != o.dirs || p.Shape[1] != 3*sh.hidden) {
		return sh, fmt.Errorf("input P: want [%d, %d], got %v", o.dirs, 3*sh.hidden, p)
	}
	state := [3]int{o.dirs, sh.batch, sh.hidden}
	if o.batchMajor {
		state[0], state[1] = sh.batch, o.dirs
	}
	for _, t := range []struct {
		name string
		t    *tensor.Tensor
	}{{"initial_h", h0}, {"initial_c", c0}} {
		if t.t != nil && !slices.Equal(t.t.Shape, state[:]) {
			return sh, fmt.Errorf("input %s: want [%d %d %d], got %v", t.name, state[0], state[1], state[2], t.t)
		}
	}
	if lens != nil {
		if lens.DType != tensor.Int32 && lens.DType != tensor.Int64 {
			return sh, fmt.Errorf("input sequence_lens: want int32, got %v", lens)
		}
		if lens.Rank() != 1 || lens.Shape[0] != sh.batch {
			return sh, fmt.Errorf("input sequence_lens: want [%d], got %v", sh.batch, lens)
		}
		for i := range sh.batch {
			if v := lens.Float64At(i); v < 0 || v > float64(sh.seq) {
				return sh, fmt.Errorf("input sequence_lens: entry %d is %v, want 0 to %d", i, v, sh.seq)
			}
		}
	}
	if err := checkAlloc(sh.seq, o.dirs, sh.batch, sh.hidden); err != nil {
		return sh, err
	}
	if err := checkAlloc(sh.seq*sh.batch+4*sh.batch+sh.hidden, sh.gh); err != nil {
		return sh, fmt.Errorf("working memory: %v", err)
	}
	return sh, nil
}

// direction runs direction d over the whole sequence.
func (o *rnnOp) direction(d int, task *rnnTask, sc *rnnScratch) {
	sh, x, w, r, b, lens, h0, c0, p := task.sh, task.x, task.w, task.r, task.b, task.lens, task.h0, task.c0, task.p
	seq, batch, hid, gh := sh.seq, sh.batch, sh.hidden, sh.gh
	rev := o.reverse || d == 1
	acts := o.acts[d]

	// The input projection of every step at once, plus the biases that
	// are added outside any gate product.
	pk := o.packed[d]
	if pk != nil {
		pk.w.Sgemm(false, seq*batch, 1, x.F32, sh.input, 0, sc.xw, gh)
	} else {
		wd := w.F32[d*gh*sh.input : (d+1)*gh*sh.input]
		kernel.Sgemm(false, true, seq*batch, gh, sh.input, 1, x.F32, sh.input, wd, sh.input, 0, sc.xw, gh)
	}
	var rbh []float32 // GRU's Rbh with linear_before_reset: inside rt (.) (...)
	if b != nil {
		bd := b.F32[d*2*gh : (d+1)*2*gh]
		bias := sc.g[:gh] // free until the first step
		for j := range bias {
			bias[j] = bd[j] + bd[gh+j]
		}
		if o.linearBeforeReset {
			rbh = bd[gh+2*hid : 2*gh]
			copy(bias[2*hid:], bd[2*hid:gh])
		}
		if len(sc.xw) > 0 {
			kernel.AddBias(sc.xw, bias, 1)
		}
	}
	var pi, po, pf []float32
	if p != nil {
		pd := p.F32[d*3*hid : (d+1)*3*hid]
		pi, po, pf = pd[:hid], pd[hid:2*hid], pd[2*hid:]
	}

	// Initial state.
	stateAt := func(bi int) int { // offset of (d, bi) in initial_h, Y_h
		if o.batchMajor {
			return (bi*o.dirs + d) * hid
		}
		return (d*batch + bi) * hid
	}
	for bi := range batch {
		h, c := sc.h[bi*hid:(bi+1)*hid], sc.c[bi*hid:(bi+1)*hid]
		if h0 != nil {
			copy(h, h0.F32[stateAt(bi):])
		} else {
			clear(h)
		}
		if c0 != nil {
			copy(c, c0.F32[stateAt(bi):])
		} else {
			clear(c)
		}
	}

	// R transposed, hid x gh, so that each step's product reads B by rows.
	if pk == nil {
		rd := r.F32[d*gh*hid : (d+1)*gh*hid]
		for k := range hid {
			row := sc.rt[k*gh : (k+1)*gh]
			for j := range row {
				row[j] = rd[j*hid+k]
			}
		}
	}
	// GRU without linear_before_reset multiplies Rh by rt (.) Ht-1: the
	// step's first product covers z and r only.
	nrec := gh
	if o.cell == cellGRU && !o.linearBeforeReset {
		nrec = 2 * hid
	}

	y := task.outs[0]
	yAt := func(t, bi int) []float32 {
		var off int
		if o.batchMajor {
			off = ((bi*seq+t)*o.dirs + d) * hid
		} else {
			off = ((t*o.dirs+d)*batch + bi) * hid
		}
		return y.F32[off : off+hid]
	}
	xwAt := func(t, bi int) []float32 {
		row := t*batch + bi
		if o.batchMajor {
			row = bi*seq + t
		}
		return sc.xw[row*gh : (row+1)*gh]
	}
	active := func(t, bi int) bool { return lens == nil || float64(t) < lens.Float64At(bi) }

	for step := range seq {
		t := step
		if rev {
			t = seq - 1 - step
		}
		if pk != nil {
			pk.r.Sgemm(false, batch, 1, sc.h, hid, 0, sc.g, gh)
		} else {
			kernel.Sgemm(false, false, batch, nrec, hid, 1, sc.h, hid, sc.rt, gh, 0, sc.g, gh)
		}
		if o.cell == cellGRU && !o.linearBeforeReset {
			// zt and rt, then rt (.) Ht-1 times Rh.
			for bi := range batch {
				rh := sc.rh[bi*hid : (bi+1)*hid]
				if !active(t, bi) {
					clear(rh)
					continue
				}
				g, xw, h := sc.g[bi*gh:(bi+1)*gh], xwAt(t, bi), sc.h[bi*hid:(bi+1)*hid]
				kernel.Axpy(1, xw[:2*hid], g) // 1*x + y rounds once: exactly x + y
				o.activate(acts[0], g[:2*hid])
				for j, r := range g[hid : 2*hid] {
					rh[j] = r * h[j]
				}
			}
			if pk != nil {
				pk.rh.Sgemm(false, batch, 1, sc.rh, hid, 0, sc.g[2*hid:], gh)
			} else {
				kernel.Sgemm(false, false, batch, hid, hid, 1, sc.rh, hid, sc.rt[2*hid:], gh, 0, sc.g[2*hid:], gh)
			}
		}
		for bi := range batch {
			if !active(t, bi) {
				if y != nil {
					clear(yAt(t, bi))
				}
				continue
			}
			g, xw := sc.g[bi*gh:(bi+1)*gh], xwAt(t, bi)
			h, c := sc.h[bi*hid:(bi+1)*hid], sc.c[bi*hid:(bi+1)*hid]
			switch o.cell {
			case cellRNN:
				kernel.Axpy(1, xw, g)
				o.activate(acts[0], g)
				copy(h, g)
			case cellGRU:
				z, hh := g[:hid], g[2*hid:]
				if o.linearBeforeReset {
					kernel.Axpy(1, xw[:2*hid], g)
					o.activate(acts[0], g[:2*hid])
					r := g[hid : 2*hid]
					for j := range hh {
						v := hh[j]
						if rbh != nil {
							v += rbh[j]
						}
						hh[j] = xw[2*hid+j] + r[j]*v
					}
				} else {
					kernel.Axpy(1, xw[2*hid:], hh)
				}
				o.activate(acts[1], hh)
				for j, zj := range z {
					h[j] = (1-zj)*hh[j] + zj*h[j]
				}
			case cellLSTM:
				kernel.Axpy(1, xw, g)
				gi, gO, gf, gc := g[:hid], g[hid:2*hid], g[2*hid:3*hid], g[3*hid:]
				if pi != nil {
					for j, cj := range c {
						gi[j] += pi[j] * cj
						gf[j] += pf[j] * cj
					}
				}
				o.activate(acts[0], gi)
				if o.inputForget {
					for j, ij := range gi {
						gf[j] = 1 - ij
					}
				} else {
					o.activate(acts[0], gf)
				}
				o.activate(acts[1], gc)
				for j := range c {
					c[j] = gf[j]*c[j] + gi[j]*gc[j]
				}
				if po != nil {
					for j, cj := range c {
						gO[j] += po[j] * cj
					}
				}
				o.activate(acts[0], gO)
				copy(gc, c)
				acts[2].apply(gc)
				for j := range h {
					h[j] = gO[j] * gc[j]
				}
			}
			if y != nil {
				copy(yAt(t, bi), h)
			}
		}
	}

	for bi := range batch {
		empty := lens != nil && lens.Float64At(bi) == 0
		for k, out := range task.outs[1:] {
			if out == nil {
				continue
			}
			dst := out.F32[stateAt(bi) : stateAt(bi)+hid]
			switch {
			case empty:
				clear(dst)
			case k == 0:
				copy(dst, sc.h[bi*hid:])
			default:
				copy(dst, sc.c[bi*hid:])
			}
		}
	}
}

// packRecurrentWeights packs the constant W and R of every LSTM, GRU and
// RNN for the matrix kernel, transposed, so that runs neither transpose R
// nor pack either in each product. A node whose weights have shapes its
// run will refuse is left as it is.
func (p *plan) packRecurrentWeights() {
	for i := range p.nodes {
		pn := &p.nodes[i]
		o, ok := pn.op.(*rnnOp)
		if !ok {
			continue
		}
		w, r := p.constant(pn.in[1]), p.constant(pn.in[2])
		if w == nil || r == nil || w.DType != tensor.Float32 || r.DType != tensor.Float32 || !w.Valid() || !r.Valid() ||
			w.Rank() != 3 || r.Rank() != 3 || w.Len() == 0 || r.Len() == 0 {
			continue
		}
		hid, gh, in := r.Shape[2], r.Shape[1], w.Shape[2]
		if r.Shape[0] != o.dirs || gh != cells[o.cell].gates*hid || (o.hidden != 0 && hid != o.hidden) ||
			w.Shape[0] != o.dirs || w.Shape[1] != gh {
			continue
		}
		packed := *o
		for d := range o.dirs {
			wt := transpose(w.F32[d*gh*in:(d+1)*gh*in], gh, in)    // in x gh
			rt := transpose(r.F32[d*gh*hid:(d+1)*gh*hid], gh, hid) // hid x gh
			pk := &rnnPacked{w: kernel.PackB(in, gh, wt, gh)}
			if o.cell == cellGRU && !o.linearBeforeReset {
				pk.r = kernel.PackB(hid, 2*hid, rt, gh)
				pk.rh = kernel.PackB(hid, hid, rt[2*hid:], gh)
			} else {
				pk.r = kernel.PackB(hid, gh, rt, gh)
			}
			packed.packed[d] = pk
		}
		pn.op = &packed
	}
}
