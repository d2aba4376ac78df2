package infer

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// Session is a model loaded for inference: checked, with every op built and
// the execution order planned once. A Session is safe for concurrent use by
// multiple goroutines.
type Session struct {
	plan  *plan
	model *onnx.Model
	opt   Options
	view  []bool    // by slot: the slot's tensor shares another's elements
	pool  sync.Pool // of *runState
}

// Options are limits on the memory a Session's runs take. The zero value
// gives the defaults.
type Options struct {
	// MaxTensorBytes caps any one tensor a node makes. Zero means
	// DefaultMaxTensorBytes.
	MaxTensorBytes int64
	// MaxSessionBytes caps the memory one run of the session holds at once
	// in the tensors and working buffers its nodes make (the inputs, the
	// initializers and the tensors a node shares with its input are not
	// counted; concurrent runs each have their own). Zero means no cap.
	MaxSessionBytes int64
}

// DefaultMaxTensorBytes is the largest tensor a node may make when
// Options.MaxTensorBytes is zero.
const DefaultMaxTensorBytes = 4 << 30

// runState is the memory of one run in progress: the tensor of every slot and
// each node's scratch and argument slices. States are reused across runs.
type runState struct {
	vals      []*tensor.Tensor // by slot: the value seen by the nodes
	owned     []*tensor.Tensor // by slot: the state's own tensor for node outputs
	scratch   []scratch        // by node
	ins       [][]*tensor.Tensor
	outs      [][]*tensor.Tensor
	arena     []float32     // the scratch floats of every node (they run one at a time)
	mid       tensor.Tensor // every node's value between two fused ops
	held      []int64       // by node: bytes held by its scratch beyond arena and mid
	bufHeld   []int64       // by buffer (plan.buf): bytes its storage holds
	arenaHeld int64         // bytes of arena and mid
	total     int64         // the sum of held, bufHeld and arenaHeld
}

// NewSession checks m and prepares it for running. It fails with an
// *UnsupportedOpsError listing every node whose op type, domain or opset
// version is not implemented, and with an error naming the node for a
// malformed node. The session keeps m and its initializer tensors; the
// caller must not modify them afterwards.
func NewSession(m *onnx.Model) (*Session, error) {
	return Options{}.NewSession(m)
}

// Load reads an ONNX model file with onnx.ReadFile and prepares it with
// NewSession.
func Load(path string) (*Session, error) {
	return Options{}.Load(path)
}

// NewSession is like the package function NewSession, with o's limits.
func (o Options) NewSession(m *onnx.Model) (*Session, error) {
	if o.MaxTensorBytes < 0 || o.MaxSessionBytes < 0 {
		return nil, fmt.Errorf("infer: options: negative limit")
	}
	if o.MaxTensorBytes == 0 {
		o.MaxTensorBytes = DefaultMaxTensorBytes
	}
	p, err := buildPlan(m)
	if err != nil {
		return nil, err
	}
	s := &Session{plan: p, model: m, opt: o, view: make([]bool, p.nslots)}
	for _, v := range p.views {
		s.view[v] = true
	}
	s.pool.New = func() any { return s.newState() }
	return s, nil
}

// Load is like the package function Load, with o's limits.
func (o Options) Load(path string) (*Session, error) {
	m, err := onnx.ReadFile(path)
	if err != nil {
		return nil, err
	}
	// The decoded protobuf message (a copy of the file's tensor bytes) is
	// garbage now that the tensors are made: collecting it before the
	// weights are packed lets the packing reuse its memory instead of
	// growing the heap by a model's size (ResNet-50, batch 8, peak RSS in
	// the bench's child: 498 MB without this and onnx.ReadFile's
	// collection, 453 MB with this one only, 370 MB with both).
	runtime.GC()
	return o.NewSession(m)
}

func (s *Session) newState() *runState {
	p := s.plan
	st := &runState{
		vals:    make([]*tensor.Tensor, p.nslots),
		owned:   make([]*tensor.Tensor, p.nslots),
		scratch: make([]scratch, len(p.nodes)),
		ins:     make([][]*tensor.Tensor, len(p.nodes)),
		outs:    make([][]*tensor.Tensor, len(p.nodes)),
		held:    make([]int64, len(p.nodes)),
		bufHeld: make([]int64, p.nbufs),
	}
	copy(st.vals, p.consts)
	bufs := make([]*tensor.Tensor, p.nbufs)
	for b := range bufs {
		bufs[b] = &tensor.Tensor{}
	}
	for i, pn := range p.nodes {
		st.ins[i] = make([]*tensor.Tensor, len(pn.in))
		st.outs[i] = make([]*tensor.Tensor, len(pn.out))
		st.scratch[i].shared, st.scratch[i].sharedMid = &st.arena, &st.mid
		for j, slot := range pn.out {
			t := &tensor.Tensor{}
			if slot >= 0 && p.buf[slot] >= 0 {
				t = bufs[p.buf[slot]]
			}
			if slot >= 0 {
				st.owned[slot] = t
				st.vals[slot] = t
			}
			// An absent output in the middle gets a throwaway tensor.
			st.outs[i][j] = t
		}
	}
	return st
}

// Inputs describes the inputs a caller must feed, in graph order. Graph
// inputs backed by an initializer (optional overrides) are not listed.
func (s *Session) Inputs() []*onnx.ValueInfo {
	var vis []*onnx.ValueInfo
	for _, in := range s.plan.inputs {
		if !in.optional {
			vis = append(vis, in.info)
		}
	}
	return vis
}

// Outputs describes the graph outputs, in graph order.
func (s *Session) Outputs() []*onnx.ValueInfo {
	vis := make([]*onnx.ValueInfo, len(s.plan.outputs))
	for i, o := range s.plan.outputs {
		vis[i] = o.info
	}
	return vis
}

// Opset is the version of the default ONNX operator set the model imports.
func (s *Session) Opset() int64 { return s.plan.opset }

// Run computes every graph output from inputs (by graph input name) and
// returns them in freshly allocated tensors. Run does not modify or keep the
// input tensors.
func (s *Session) Run(inputs map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	return s.RunContext(context.Background(), inputs)
}

// RunContext is Run that stops between nodes once ctx is done, returning
// ctx's error.
func (s *Session) RunContext(ctx context.Context, inputs map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	st, err := s.run(ctx, inputs)
	if err != nil {
		return nil, err
	}
	defer s.release(st)
	res := make(map[string]*tensor.Tensor, len(s.plan.outputs))
	for _, o := range s.plan.outputs {
		res[o.info.Name] = st.vals[o.slot].Clone()
	}
	return res, nil
}

// RunInto is Run writing into caller-owned tensors: for each entry of
// outputs (keyed by graph output name) it resizes the tensor and copies the
// result into it, reusing its storage. Outputs missing from the map are
// computed but not returned. Once the tensors have grown to size, RunInto
// makes no heap allocations when called with the same shapes.
func (s *Session) RunInto(inputs, outputs map[string]*tensor.Tensor) error {
	for name, t := range outputs {
		if !s.isOutput(name) {
			return fmt.Errorf("infer: %q is not a graph output", name)
		}
		if t == nil {
			return fmt.Errorf("infer: output %q: nil tensor", name)
		}
	}
	st, err := s.run(context.Background(), inputs)
	if err != nil {
		return err
	}
	defer s.release(st)
	for _, o := range s.plan.outputs {
		if t := outputs[o.info.Name]; t != nil {
			t.CopyFrom(st.vals[o.slot])
		}
	}
	return nil
}

func (s *Session) isOutput(name string) bool {
	for _, o := range s.plan.outputs {
		if o.info.Name == name {
			return true
		}
	}
	return false
}

// run checks and binds the inputs and runs every node. On success the
// caller must release the state.
func (s *Session) run(ctx context.Context, inputs map[string]*tensor.Tensor) (*runState, error) {
	p := s.plan
	for name := range inputs {
		if _, ok := p.inIndex[name]; !ok {
			return nil, fmt.Errorf("infer: unknown input %q (inputs: %s)", name, s.inputNames())
		}
	}
	for _, in := range p.inputs {
		t, ok := inputs[in.info.Name]
		if !ok {
			if in.optional {
				continue
			}
			return nil, fmt.Errorf("infer: missing input %q: want %s", in.info.Name, describe(in.info))
		}
		if err := checkInput(in.info, t); err != nil {
			return nil, err
		}
	}

	st := s.pool.Get().(*runState)
	for _, in := range p.inputs {
		if t, ok := inputs[in.info.Name]; ok {
			st.vals[in.slot] = t
		}
	}
	for i := range p.nodes {
		if err := ctx.Err(); err != nil {
			s.release(st)
			return nil, err
		}
		pn := &p.nodes[i]
		ins, outs := st.ins[i], st.outs[i]
		for j, slot := range pn.in {
			if slot < 0 {
				ins[j] = nil
			} else {
				ins[j] = st.vals[slot]
			}
		}
		if err := runNode(pn, &st.scratch[i], ins, outs); err != nil {
			clear(ins)
			s.release(st)
			return nil, err
		}
		clear(ins)
		if err := s.account(st, i); err != nil {
			s.discard(st)
			return nil, err
		}
	}
	return st, nil
}

// account updates the bytes st holds after node i ran and checks them
// against the session's limits.
func (s *Session) account(st *runState, i int) error {
	pn := &s.plan.nodes[i]
	sc := &st.scratch[i]
	held := int64(cap(sc.f32))*4 + capBytes(&sc.mid) + sc.narrow.bytes()
	for j, t := range st.outs[i] {
		if n := int64(t.Len()) * int64(t.DType.Size()); n > s.opt.MaxTensorBytes {
			return errorf(pn.node, "output %d is %v, %d bytes, more than the session's limit of %d per tensor", j, t, n, s.opt.MaxTensorBytes)
		}
		slot := pn.out[j]
		switch {
		case slot >= 0 && s.plan.buf[slot] >= 0:
			b := s.plan.buf[slot]
			n := capBytes(t)
			st.total += n - st.bufHeld[b]
			st.bufHeld[b] = n
		case slot < 0 || !s.view[slot]:
			held += capBytes(t)
		}
	}
	arena := int64(cap(st.arena))*4 + capBytes(&st.mid)
	st.total += held - st.held[i] + arena - st.arenaHeld
	st.held[i], st.arenaHeld = held, arena
	if max := s.opt.MaxSessionBytes; max > 0 && st.total > max {
		return errorf(pn.node, "the run holds %d bytes after this node, more than the session's limit of %d", st.total, max)
	}
	return nil
}

// capBytes is the memory t's storage holds, in bytes.
func capBytes(t *tensor.Tensor) int64 { return t.CapBytes() }

// discard drops st after a run went over a limit: it is not returned to
// the pool, so that the memory it grew is freed.
func (s *Session) discard(st *runState) {
	for _, in := range s.plan.inputs {
		st.vals[in.slot] = nil
	}
}

// release drops the references to caller tensors and returns st to the pool.
func (s *Session) release(st *runState) {
	for _, in := range s.plan.inputs {
		st.vals[in.slot] = s.plan.consts[in.slot]
	}
	for _, v := range s.plan.views { // a view may share a caller's input
		st.vals[v].ClearData()
	}
	s.pool.Put(st)
}

// runNode runs one op, wrapping its error with the node and converting a
// panic into an error.
func runNode(pn *planNode, sc *scratch, ins, outs []*tensor.Tensor) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errorf(pn.node, "internal error: %v", r)
			if debugPanics {
				panic(r)
			}
		}
	}()
	if needsNarrow(pn, ins) {
		err = runNarrow(pn, sc, ins, outs)
	} else {
		err = pn.op.run(sc, ins, outs)
	}
	if err != nil {
		if ne, ok := err.(*nodeError); ok && ne.Name == pn.node.Name && ne.OpType == pn.node.OpType {
			return err
		}
		return &nodeError{Name: pn.node.Name, OpType: pn.node.OpType, Err: err}
	}
	for j, t := range outs {
		if !t.Valid() {
			return errorf(pn.node, "internal error: output %d is %v with %d elements", j, t, t.Len())
		}
	}
	return nil
}

func (s *Session) inputNames() string {
	var names []string
	for _, in := range s.plan.inputs {
		names = append(names, fmt.Sprintf("%q", in.info.Name))
	}
	return strings.Join(names, ", ")
}

// checkInput checks a fed tensor against the declared type and shape.
func checkInput(vi *onnx.ValueInfo, t *tensor.Tensor) error {
	if t == nil {
		return fmt.Errorf("infer: input %q: nil tensor", vi.Name)
	}
	if !t.Valid() {
		return fmt.Errorf("infer: input %q: tensor %v does not hold %d elements", vi.Name, t, t.Len())
	}
	ok := true
	switch {
	case vi.DType != tensor.Invalid:
		ok = t.DType == vi.DType
	case vi.ElemType != 0:
		ok = false // declared with an element type this package cannot hold
	}
	if ok && vi.HasShape {
		if len(t.Shape) != len(vi.Shape) {
			ok = false
		} else {
			for i, d := range vi.Shape {
				if d.Param == "" && d.Value >= 0 && int64(t.Shape[i]) != d.Value {
					ok = false
				}
			}
		}
	}
	if !ok {
		return fmt.Errorf("infer: input %q: want %s, got %v", vi.Name, describe(vi), t)
	}
	return nil
}

// describe formats a declared type and shape: float32[N x 1 x 28 x 28].
func describe(vi *onnx.ValueInfo) string {
	var b strings.Builder
	switch {
	case vi.DType != tensor.Invalid:
		b.WriteString(vi.DType.String())
	case vi.ElemType != 0:
		fmt.Fprintf(&b, "unsupported element type %d", vi.ElemType)
	default:
		b.WriteString("any type")
	}
	if !vi.HasShape {
		b.WriteString(" (any shape)")
		return b.String()
	}
	b.WriteByte('[')
	for i, d := range vi.Shape {
		if i > 0 {
			b.WriteString(" x ")
		}
		switch {
		case d.Param != "":
			b.WriteString(d.Param)
		case d.Value >= 0:
			fmt.Fprint(&b, d.Value)
		default:
			b.WriteByte('?')
		}
	}
	b.WriteByte(']')
	return b.String()
}

// debugPanics re-raises op panics instead of converting them, to get a stack.
var debugPanics = false
