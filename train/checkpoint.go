package train

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/onnxkit/onnxkit/internal/atomicfile"
	"github.com/onnxkit/onnxkit/internal/readfile"
	"github.com/onnxkit/onnxkit/tensor"
)

// Checkpoint is the state of a training run between two batches: the
// model's trainable parameters (Params: the frozen part of a model, see
// Model.Freeze, is not recorded; it comes from the model the run started
// from), every BatchNorm2d's running statistics, the optimizer's state
// (Adam's moments and step count, SGD's momentum buffers), the shuffle
// source and sample order, every Dropout's random stream, and the position
// in the run. Restoring it into a
// Trainer built the same way and calling Fit gives bit for bit the weights
// of a run that was never interrupted.
//
// Trainer.Checkpoint makes one and Trainer.Restore puts one back;
// WriteFile and ReadCheckpoint store it in a file (see MarshalBinary for
// the format).
type Checkpoint struct {
	// Recipe is the run's setup: Model is the model's Kind, Epochs the
	// number of epochs the run was asked for.
	Recipe    Recipe
	Seed      uint64
	Normalize *Normalize // nil: none
	Epoch     int        // epochs completed
	Batch     int        // batches of epoch Epoch+1 completed (0 between epochs)
	// Info holds strings the caller records with the run (the command line
	// keeps its -init, -limit, -out and -opset here). Restore ignores it.
	Info map[string]string

	opt      optState
	lossSum  float64 // sum of batch loss times batch size over the Batch batches
	shuffle  []byte  // the PCG's MarshalBinary; nil before the first epoch
	perm     []int   // sample order (see position.perm)
	params   []ckTensor
	buffers  []ckTensor // BatchNorm2d's running statistics, in layer order
	dropouts []ckDropout
}

// buffered is implemented by layers with state besides their parameters
// that training changes (BatchNorm2d's running statistics).
type buffered interface {
	buffers() []*Param
}

// modelBuffers returns the buffers of m's layers in order.
func modelBuffers(m *Model) []*Param {
	var bs []*Param
	for _, l := range m.Layers() {
		if b, ok := l.(buffered); ok {
			bs = append(bs, b.buffers()...)
		}
	}
	return bs
}

// optState is the optimizer's hyperparameters beyond the Recipe's and its
// per-parameter state, in parameter order (nil before the first step).
type optState struct {
	weightDecay        float64
	beta1, beta2, eps  float64 // Adam
	steps              int     // Adam
	first, second      [][]float32
	firstName, secName string // record name prefixes
}

type ckTensor struct {
	name string
	t    *tensor.Tensor
}

type ckDropout struct {
	name        string
	seed, calls uint64
}

// Checkpoint records t's run where it stands: before the first Fit, between
// epochs (call it from OnEpoch), or after a Fit that stopped early. The
// checkpoint holds copies; t can go on training. It fails if the optimizer
// is not an *SGD or an *Adam.
func (t *Trainer) Checkpoint() (*Checkpoint, error) {
	if t.Model == nil || t.Optimizer == nil {
		return nil, errors.New("train: Checkpoint: Trainer needs a Model and an Optimizer")
	}
	c := &Checkpoint{
		Recipe: Recipe{Model: t.Model.Kind, BatchSize: cmp0(t.BatchSize, 100), Epochs: cmp0(t.Epochs, 10)},
		Seed:   t.Seed,
		Epoch:  t.pos.epoch, Batch: t.pos.batch, lossSum: t.pos.lossSum,
	}
	if n := t.Model.Normalize; n != nil {
		c.Normalize = &Normalize{Mean: n.Mean, Std: n.Std}
	}
	params := t.Model.Params()
	switch o := t.Optimizer.(type) {
	case *SGD:
		c.Recipe.Optimizer, c.Recipe.LR, c.Recipe.Momentum = "sgd", o.LR, o.Momentum
		c.opt = optState{weightDecay: o.WeightDecay, first: cloneState(o.buf), firstName: "sgd_momentum."}
	case *Adam:
		c.Recipe.Optimizer, c.Recipe.LR = "adam", o.LR
		c.opt = optState{weightDecay: o.WeightDecay, beta1: o.Beta1, beta2: o.Beta2, eps: o.Eps, steps: o.t,
			first: cloneState(o.m), second: cloneState(o.v), firstName: "adam_m.", secName: "adam_v."}
	default:
		return nil, fmt.Errorf("train: Checkpoint: cannot record the state of optimizer %T (want *SGD or *Adam)", t.Optimizer)
	}
	// Under a schedule the optimizer's rate is the current step's: record
	// the schedule's own, from which a resumed run's schedule is built.
	if b, ok := t.Schedule.(interface{ baseLR() float64 }); ok {
		c.Recipe.LR = b.baseLR()
	}
	for _, st := range [][][]float32{c.opt.first, c.opt.second} {
		if st != nil && len(st) != len(params) {
			return nil, fmt.Errorf("train: Checkpoint: optimizer has state for %d parameters, model has %d", len(st), len(params))
		}
	}
	for _, p := range params {
		c.params = append(c.params, ckTensor{p.Name, p.Value.Clone()})
	}
	for _, b := range modelBuffers(t.Model) {
		c.buffers = append(c.buffers, ckTensor{b.Name, b.Value.Clone()})
	}
	for _, l := range t.Model.Layers() {
		if d, ok := l.(*Dropout); ok {
			c.dropouts = append(c.dropouts, ckDropout{d.Name(), d.Seed, d.calls})
		}
	}
	if t.pos.rng != nil {
		b, err := t.pos.rng.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("train: Checkpoint: shuffle state: %w", err)
		}
		c.shuffle = b
		c.perm = append([]int(nil), t.pos.perm...)
	}
	return c, nil
}

func cloneState(s [][]float32) [][]float32 {
	if s == nil {
		return nil
	}
	out := make([][]float32, len(s))
	for i, v := range s {
		out[i] = append([]float32(nil), v...)
	}
	return out
}

// Restore puts t in the state c records: parameter values, a new optimizer
// of the checkpoint's kind with its hyperparameters and state, Seed,
// BatchSize, Epochs, Model.Normalize, the Dropout streams, and the position
// from which the next Fit continues (Fit then checks that its training set
// has the size the run had). t.Model must have the parameters of the model
// the checkpoint was taken from (names and shapes, in order) and the same
// Dropout layers; on error t is unchanged.
func (t *Trainer) Restore(c *Checkpoint) error {
	if t.Model == nil {
		return errors.New("train: Restore: Trainer needs a Model")
	}
	m := t.Model
	if c.Recipe.Model != m.Kind {
		return fmt.Errorf("train: Restore: checkpoint of a %q model, trainer has a %q model", c.Recipe.Model, m.Kind)
	}
	params := m.Params()
	if len(c.params) != len(params) {
		return fmt.Errorf("train: Restore: checkpoint has %d parameters, model %q has %d", len(c.params), m.Kind, len(params))
	}
	for i, p := range params {
		ct := c.params[i]
		if ct.name != p.Name || !slices.Equal(ct.t.Shape, p.Value.Shape) {
			return fmt.Errorf("train: Restore: checkpoint parameter %d is %q %v, model %q has %q %v", i, ct.name, ct.t, m.Kind, p.Name, p.Value)
		}
		for _, st := range [][][]float32{c.opt.first, c.opt.second} {
			if st != nil && len(st[i]) != len(p.Value.F32) {
				return fmt.Errorf("train: Restore: optimizer state of %q has %d values, want %d", p.Name, len(st[i]), len(p.Value.F32))
			}
		}
	}
	bufs := modelBuffers(m)
	if len(bufs) != len(c.buffers) {
		return fmt.Errorf("train: Restore: checkpoint has %d buffers (running statistics), model %q has %d", len(c.buffers), m.Kind, len(bufs))
	}
	for i, b := range bufs {
		if cb := c.buffers[i]; cb.name != b.Name || !slices.Equal(cb.t.Shape, b.Value.Shape) {
			return fmt.Errorf("train: Restore: checkpoint buffer %d is %q %v, model %q has %q %v", i, cb.name, cb.t, m.Kind, b.Name, b.Value)
		}
	}
	var drops []*Dropout
	for _, l := range m.Layers() {
		if d, ok := l.(*Dropout); ok {
			drops = append(drops, d)
		}
	}
	if len(drops) != len(c.dropouts) {
		return fmt.Errorf("train: Restore: checkpoint has %d dropout layers, model %q has %d", len(c.dropouts), m.Kind, len(drops))
	}
	dropState := make([]ckDropout, len(drops))
	for i, d := range drops {
		found := false
		for _, cd := range c.dropouts {
			if cd.name == d.Name() {
				dropState[i], found = cd, true
			}
		}
		if !found {
			return fmt.Errorf("train: Restore: checkpoint has no state for dropout layer %q", d.Name())
		}
	}
	var rng *rand.PCG
	if c.shuffle != nil {
		rng = new(rand.PCG)
		if err := rng.UnmarshalBinary(c.shuffle); err != nil {
			return fmt.Errorf("train: Restore: shuffle state: %w", err)
		}
	}
	opt, err := c.optimizer()
	if err != nil {
		return err
	}

	for i, p := range params {
		copy(p.Value.F32, c.params[i].t.F32)
	}
	for i, d := range drops {
		d.Seed, d.calls = dropState[i].seed, dropState[i].calls
	}
	for i, b := range bufs {
		copy(b.Value.F32, c.buffers[i].t.F32)
	}
	t.Optimizer = opt
	t.Seed, t.BatchSize, t.Epochs = c.Seed, c.Recipe.BatchSize, c.Recipe.Epochs
	m.Normalize = nil
	if c.Normalize != nil {
		m.Normalize = &Normalize{Mean: c.Normalize.Mean, Std: c.Normalize.Std}
	}
	t.pos = position{resume: rng != nil, epoch: c.Epoch, batch: c.Batch, lossSum: c.lossSum, rng: rng,
		perm: append(t.pos.perm[:0], c.perm...)}
	return nil
}

// optimizer returns a new optimizer with the checkpoint's settings and
// state.
func (c *Checkpoint) optimizer() (Optimizer, error) {
	r, o := c.Recipe, c.opt
	switch r.Optimizer {
	case "sgd":
		return &SGD{LR: r.LR, Momentum: r.Momentum, WeightDecay: o.weightDecay, buf: cloneState(o.first)}, nil
	case "adam":
		return &Adam{LR: r.LR, Beta1: o.beta1, Beta2: o.beta2, Eps: o.eps, WeightDecay: o.weightDecay,
			t: o.steps, m: cloneState(o.first), v: cloneState(o.second)}, nil
	}
	return nil, fmt.Errorf("train: Restore: unknown optimizer %q (want sgd or adam)", r.Optimizer)
}

// The checkpoint file format, version 1. All integers are little-endian.
//
//	magic    "onnxkit checkpoint\n"
//	version  uint32 (1)
//	records  each: kind byte, name (uvarint length, bytes), payload (uvarint length, bytes)
//	end      kind 'e', name "end", payload: the CRC-32 (IEEE) of every byte before this record
//
// Record kinds: 's' a string (settings and counters, in decimal or
// strconv's shortest round-trip form, so the file's head reads as text),
// 'f' a float32 tensor (uvarint rank, uvarint dims, then the elements),
// 'i' a list of uint32, 'b' raw bytes. Every record name is known to the
// reader; a missing, repeated or unknown record is an error. Parameters are
// 'f' records "param.NAME", BatchNorm2d's running statistics "buffer.NAME"
// (absent for models without them, so older files read as before).
const (
	checkpointMagic   = "onnxkit checkpoint\n"
	checkpointVersion = 1
	maxRecordName     = 1 << 10
	maxRank           = 8
	// maxCheckpointBytes bounds the file ReadCheckpoint reads: far above
	// what any model trained here writes (weights, Adam's two moments).
	maxCheckpointBytes = 1 << 30
)

// MarshalBinary encodes the checkpoint in the format described above.
func (c *Checkpoint) MarshalBinary() ([]byte, error) {
	var e ckEncoder
	e.buf = append(e.buf, checkpointMagic...)
	e.buf = binary.LittleEndian.AppendUint32(e.buf, checkpointVersion)
	r := c.Recipe
	e.str("model", r.Model)
	e.str("optimizer", r.Optimizer)
	e.str("lr", fmtFloat(r.LR))
	e.str("momentum", fmtFloat(r.Momentum))
	e.str("batch_size", strconv.Itoa(r.BatchSize))
	e.str("epochs", strconv.Itoa(r.Epochs))
	e.str("seed", strconv.FormatUint(c.Seed, 10))
	if n := c.Normalize; n != nil {
		e.str("normalize", strconv.FormatFloat(float64(n.Mean), 'g', -1, 32)+","+strconv.FormatFloat(float64(n.Std), 'g', -1, 32))
	}
	e.str("epoch", strconv.Itoa(c.Epoch))
	e.str("batch", strconv.Itoa(c.Batch))
	e.str("loss_sum", fmtFloat(c.lossSum))
	keys := make([]string, 0, len(c.Info))
	for k := range c.Info {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		e.str("info."+k, c.Info[k])
	}
	o := c.opt
	e.str("weight_decay", fmtFloat(o.weightDecay))
	if r.Optimizer == "adam" {
		e.str("beta1", fmtFloat(o.beta1))
		e.str("beta2", fmtFloat(o.beta2))
		e.str("eps", fmtFloat(o.eps))
		e.str("adam_steps", strconv.Itoa(o.steps))
	}
	for _, d := range c.dropouts {
		e.str("dropout_seed."+d.name, strconv.FormatUint(d.seed, 10))
		e.str("dropout_calls."+d.name, strconv.FormatUint(d.calls, 10))
	}
	for _, p := range c.params {
		e.tensor("param."+p.name, p.t.Shape, p.t.F32)
	}
	for _, b := range c.buffers {
		e.tensor("buffer."+b.name, b.t.Shape, b.t.F32)
	}
	for _, st := range []struct {
		prefix string
		v      [][]float32
	}{{o.firstName, o.first}, {o.secName, o.second}} {
		for i, v := range st.v {
			e.tensor(st.prefix+c.params[i].name, c.params[i].t.Shape, v)
		}
	}
	if c.shuffle != nil {
		e.record('b', "shuffle_pcg", c.shuffle)
		p := make([]byte, 0, 4*len(c.perm))
		for _, v := range c.perm {
			p = binary.LittleEndian.AppendUint32(p, uint32(v))
		}
		e.record('i', "shuffle_order", p)
	}
	if e.err != nil {
		return nil, e.err
	}
	e.record('e', "end", binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(e.buf)))
	return e.buf, nil
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

type ckEncoder struct {
	buf []byte
	err error
}

func (e *ckEncoder) record(kind byte, name string, payload []byte) {
	if len(name) > maxRecordName && e.err == nil {
		e.err = fmt.Errorf("train: checkpoint record name %.40q... is longer than %d bytes", name, maxRecordName)
	}
	e.buf = append(e.buf, kind)
	e.buf = binary.AppendUvarint(e.buf, uint64(len(name)))
	e.buf = append(e.buf, name...)
	e.buf = binary.AppendUvarint(e.buf, uint64(len(payload)))
	e.buf = append(e.buf, payload...)
}

func (e *ckEncoder) str(name, v string) { e.record('s', name, []byte(v)) }

func (e *ckEncoder) tensor(name string, shape []int, v []float32) {
	p := binary.AppendUvarint(nil, uint64(len(shape)))
	for _, d := range shape {
		p = binary.AppendUvarint(p, uint64(d))
	}
	for _, x := range v {
		p = binary.LittleEndian.AppendUint32(p, math.Float32bits(x))
	}
	e.record('f', name, p)
}

// A CheckpointError reports a checkpoint file that is malformed.
type CheckpointError struct {
	File string // "" when decoding bytes
	Msg  string
}

func (e *CheckpointError) Error() string {
	if e.File == "" {
		return "train: invalid checkpoint: " + e.Msg
	}
	return "train: " + e.File + ": invalid checkpoint: " + e.Msg
}

// UnmarshalBinary decodes a checkpoint written by MarshalBinary. It is safe
// on untrusted input: every declared length is checked against the bytes
// present before anything is allocated, so memory stays proportional to
// len(data); a malformed file gives a *CheckpointError.
func (c *Checkpoint) UnmarshalBinary(data []byte) error {
	d := ckDecoder{data: data}
	nc, err := d.decode()
	if err != nil {
		return &CheckpointError{Msg: err.Error()}
	}
	*c = *nc
	return nil
}

type ckDecoder struct {
	data []byte
	off  int
}

func (d *ckDecoder) uvarint(what string) (uint64, error) {
	v, n := binary.Uvarint(d.data[d.off:])
	if n <= 0 {
		return 0, fmt.Errorf("%s at byte %d: bad or truncated length", what, d.off)
	}
	d.off += n
	return v, nil
}

// bytes returns the next length-prefixed byte string, checking its length
// against what is left.
func (d *ckDecoder) bytes(what string, limit int) ([]byte, error) {
	n, err := d.uvarint(what)
	if err != nil {
		return nil, err
	}
	if n > uint64(len(d.data)-d.off) || n > uint64(limit) {
		return nil, fmt.Errorf("%s at byte %d: length %d, only %d bytes left", what, d.off, n, len(d.data)-d.off)
	}
	b := d.data[d.off : d.off+int(n)]
	d.off += int(n)
	return b, nil
}

func (d *ckDecoder) decode() (*Checkpoint, error) {
	head := len(checkpointMagic) + 4
	if len(d.data) < head || string(d.data[:len(checkpointMagic)]) != checkpointMagic {
		return nil, errors.New("not an onnxkit checkpoint (bad magic)")
	}
	if v := binary.LittleEndian.Uint32(d.data[len(checkpointMagic):]); v != checkpointVersion {
		return nil, fmt.Errorf("format version %d, this onnxkit reads version %d", v, checkpointVersion)
	}
	d.off = head
	strs := map[string]string{}
	tensors := map[string]*tensor.Tensor{}
	var order []string // names of the 'f' records, in file order
	var shuffle, permBytes []byte
	seen := map[string]bool{}
	ended := false
	for !ended {
		if d.off >= len(d.data) {
			return nil, errors.New("truncated: no end record")
		}
		start := d.off
		kind := d.data[d.off]
		d.off++
		nb, err := d.bytes("record name", maxRecordName)
		if err != nil {
			return nil, err
		}
		name := string(nb)
		payload, err := d.bytes(fmt.Sprintf("record %q", name), len(d.data))
		if err != nil {
			return nil, err
		}
		if seen[name] {
			return nil, fmt.Errorf("record %q appears twice", name)
		}
		seen[name] = true
		switch kind {
		case 's':
			strs[name] = string(payload)
		case 'f':
			t, err := decodeTensor(payload)
			if err != nil {
				return nil, fmt.Errorf("record %q: %v", name, err)
			}
			tensors[name] = t
			order = append(order, name)
		case 'b':
			if name != "shuffle_pcg" {
				return nil, fmt.Errorf("unknown record %q", name)
			}
			shuffle = append([]byte(nil), payload...)
		case 'i':
			if name != "shuffle_order" {
				return nil, fmt.Errorf("unknown record %q", name)
			}
			permBytes = payload
		case 'e':
			if name != "end" || len(payload) != 4 {
				return nil, fmt.Errorf("bad end record %q", name)
			}
			if got, want := binary.LittleEndian.Uint32(payload), crc32.ChecksumIEEE(d.data[:start]); got != want {
				return nil, fmt.Errorf("checksum mismatch (file %08x, contents %08x): the file is damaged", got, want)
			}
			if d.off != len(d.data) {
				return nil, fmt.Errorf("%d bytes after the end record", len(d.data)-d.off)
			}
			ended = true
		default:
			return nil, fmt.Errorf("record %q at byte %d: unknown kind %q", name, start, kind)
		}
	}
	return buildCheckpoint(strs, tensors, order, shuffle, permBytes)
}

// decodeTensor reads a float32 tensor record: rank, dims, elements. The
// element count must match the bytes present exactly.
func decodeTensor(p []byte) (*tensor.Tensor, error) {
	d := ckDecoder{data: p}
	rank, err := d.uvarint("rank")
	if err != nil {
		return nil, err
	}
	if rank > maxRank {
		return nil, fmt.Errorf("rank %d, at most %d", rank, maxRank)
	}
	shape := make([]int, rank)
	n := uint64(1)
	for i := range shape {
		v, err := d.uvarint("dimension")
		if err != nil {
			return nil, err
		}
		if v > uint64(len(p)) || (v != 0 && n > uint64(len(p))/v) {
			return nil, fmt.Errorf("dimensions exceed the %d bytes of the record", len(p))
		}
		n *= v
		shape[i] = int(v)
	}
	if left := uint64(len(p) - d.off); left != 4*n {
		return nil, fmt.Errorf("shape %v needs %d bytes of float32, record has %d", shape, 4*n, left)
	}
	t := tensor.New(tensor.Float32, shape...)
	for i := range t.F32 {
		t.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(p[d.off+4*i:]))
	}
	return t, nil
}

// buildCheckpoint checks the decoded records against each other and makes
// the Checkpoint.
func buildCheckpoint(strs map[string]string, tensors map[string]*tensor.Tensor, order []string, shuffle, permBytes []byte) (*Checkpoint, error) {
	var errs []string
	used := map[string]bool{}
	get := func(name string, required bool) (string, bool) {
		v, ok := strs[name]
		if !ok && required {
			errs = append(errs, fmt.Sprintf("no %q record", name))
		}
		used[name] = true
		return v, ok
	}
	num := func(name string, bits int) float64 {
		v, ok := get(name, true)
		if !ok {
			return 0
		}
		f, err := strconv.ParseFloat(v, bits)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			errs = append(errs, fmt.Sprintf("record %q: %q is not a finite number", name, v))
		}
		return f
	}
	count := func(name string, required bool) uint64 {
		v, ok := get(name, required)
		if !ok {
			return 0
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Sprintf("record %q: %q is not a count", name, v))
		}
		return n
	}
	small := func(name string) int {
		n := count(name, true)
		if n > math.MaxInt32 {
			errs = append(errs, fmt.Sprintf("record %q: %d is too large", name, n))
			return 0
		}
		return int(n)
	}

	c := &Checkpoint{Info: map[string]string{}}
	c.Recipe.Model, _ = get("model", true)
	c.Recipe.Optimizer, _ = get("optimizer", true)
	c.Recipe.LR = num("lr", 64)
	c.Recipe.Momentum = num("momentum", 64)
	c.Recipe.BatchSize = small("batch_size")
	c.Recipe.Epochs = small("epochs")
	c.Seed = count("seed", true)
	c.Epoch = small("epoch")
	c.Batch = small("batch")
	c.lossSum = num("loss_sum", 64)
	c.opt.weightDecay = num("weight_decay", 64)
	if s, ok := get("normalize", false); ok {
		ms, ss, _ := strings.Cut(s, ",")
		mean, err1 := strconv.ParseFloat(ms, 32)
		std, err2 := strconv.ParseFloat(ss, 32)
		if err1 != nil || err2 != nil {
			errs = append(errs, fmt.Sprintf("record \"normalize\": %q is not MEAN,STD", s))
		}
		c.Normalize = &Normalize{Mean: float32(mean), Std: float32(std)}
	}
	if c.Recipe.BatchSize == 0 {
		errs = append(errs, "batch size 0")
	}
	switch c.Recipe.Optimizer {
	case "sgd":
		c.opt.firstName = "sgd_momentum."
	case "adam":
		c.opt.firstName, c.opt.secName = "adam_m.", "adam_v."
		c.opt.beta1, c.opt.beta2, c.opt.eps = num("beta1", 64), num("beta2", 64), num("eps", 64)
		c.opt.steps = small("adam_steps")
	default:
		errs = append(errs, fmt.Sprintf("unknown optimizer %q", c.Recipe.Optimizer))
	}

	// Parameters first, in file order; optimizer state names a parameter.
	index := map[string]int{}
	for _, name := range order {
		if p, ok := strings.CutPrefix(name, "param."); ok {
			index[p] = len(c.params)
			c.params = append(c.params, ckTensor{p, tensors[name]})
		} else if b, ok := strings.CutPrefix(name, "buffer."); ok {
			c.buffers = append(c.buffers, ckTensor{b, tensors[name]})
		}
	}
	for _, st := range []struct {
		prefix string
		dst    *[][]float32
	}{{c.opt.firstName, &c.opt.first}, {c.opt.secName, &c.opt.second}} {
		if st.prefix == "" {
			continue
		}
		n := 0
		for _, name := range order {
			if _, ok := strings.CutPrefix(name, st.prefix); ok {
				n++
			}
		}
		if n == 0 {
			continue
		}
		*st.dst = make([][]float32, len(c.params))
		for i, p := range c.params {
			t, ok := tensors[st.prefix+p.name]
			if !ok {
				errs = append(errs, fmt.Sprintf("no %q record", st.prefix+p.name))
				continue
			}
			if !slices.Equal(t.Shape, p.t.Shape) {
				errs = append(errs, fmt.Sprintf("record %q is %v, parameter is %v", st.prefix+p.name, t, p.t))
			}
			(*st.dst)[i] = t.F32
		}
	}
	for _, name := range order {
		ok := strings.HasPrefix(name, "param.") || strings.HasPrefix(name, "buffer.")
		for _, pre := range []string{c.opt.firstName, c.opt.secName} {
			if pre != "" {
				if p, has := strings.CutPrefix(name, pre); has {
					_, ok = index[p]
				}
			}
		}
		if !ok {
			errs = append(errs, fmt.Sprintf("unknown record %q", name))
		}
	}
	if c.opt.steps > 0 && c.opt.first == nil {
		errs = append(errs, fmt.Sprintf("Adam at step %d without its moments", c.opt.steps))
	}
	if len(c.params) == 0 {
		errs = append(errs, "no parameters")
	}

	// Info, Dropout streams and unknown settings.
	var drops []string
	for name := range strs {
		if k, ok := strings.CutPrefix(name, "info."); ok {
			c.Info[k] = strs[name]
			used[name] = true
		} else if k, ok := strings.CutPrefix(name, "dropout_seed."); ok {
			drops = append(drops, k)
		}
	}
	sort.Strings(drops) // Restore matches them to layers by name
	for _, k := range drops {
		c.dropouts = append(c.dropouts, ckDropout{name: k, seed: count("dropout_seed."+k, true), calls: count("dropout_calls."+k, true)})
	}
	for name := range strs {
		if !used[name] {
			errs = append(errs, fmt.Sprintf("unknown record %q", name))
		}
	}

	// Shuffle state: both records or neither, and the order a permutation.
	if (shuffle == nil) != (permBytes == nil) {
		errs = append(errs, "shuffle state and sample order must come together")
	}
	if shuffle == nil && (c.Epoch > 0 || c.Batch > 0) {
		errs = append(errs, fmt.Sprintf("epoch %d, batch %d without a shuffle state", c.Epoch, c.Batch))
	}
	if permBytes != nil {
		if len(permBytes)%4 != 0 || len(permBytes) == 0 {
			errs = append(errs, fmt.Sprintf("sample order of %d bytes, want a non-empty multiple of 4", len(permBytes)))
		} else {
			n := len(permBytes) / 4
			c.perm = make([]int, n)
			seen := make([]bool, n)
			for i := range c.perm {
				v := binary.LittleEndian.Uint32(permBytes[4*i:])
				if v >= uint32(n) || seen[v] {
					errs = append(errs, fmt.Sprintf("sample order is not a permutation of 0..%d (entry %d is %d)", n-1, i, v))
					break
				}
				seen[v] = true
				c.perm[i] = int(v)
			}
			if c.Batch > 0 && c.Recipe.BatchSize > 0 && c.Batch >= (n+c.Recipe.BatchSize-1)/c.Recipe.BatchSize {
				errs = append(errs, fmt.Sprintf("batch %d past the end of an epoch of %d images", c.Batch, n))
			}
		}
		var pcg rand.PCG
		if err := pcg.UnmarshalBinary(shuffle); err != nil {
			errs = append(errs, fmt.Sprintf("shuffle state: %v", err))
		}
		c.shuffle = shuffle
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return nil, errors.New(strings.Join(errs, "; "))
	}
	return c, nil
}

// WriteFile writes the checkpoint to path atomically: to a temporary file in
// the same folder, synced, then renamed over path (and the folder synced),
// so that path holds either the old checkpoint or the new one, whole.
func (c *Checkpoint) WriteFile(path string) error {
	data, err := c.MarshalBinary()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, data); err != nil {
		return fmt.Errorf("train: writing checkpoint: %w", err)
	}
	return nil
}

// ReadCheckpoint reads a checkpoint file written by WriteFile. Like
// UnmarshalBinary it is safe on untrusted input; errors name the file.
func ReadCheckpoint(path string) (*Checkpoint, error) {
	data, err := readfile.Regular(path, maxCheckpointBytes)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	c := new(Checkpoint)
	if err := c.UnmarshalBinary(data); err != nil {
		var ce *CheckpointError
		if errors.As(err, &ce) {
			ce.File = path
		}
		return nil, err
	}
	return c, nil
}

// String summarizes the checkpoint: "lenet5, adam lr 0.001, batch 100,
// after epoch 2 of 10" (or "in epoch 3 after batch 37").
func (c *Checkpoint) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %s lr %v, batch %d, ", c.Recipe.Model, c.Recipe.Optimizer, c.Recipe.LR, c.Recipe.BatchSize)
	if c.Batch > 0 {
		fmt.Fprintf(&b, "in epoch %d of %d after batch %d", c.Epoch+1, c.Recipe.Epochs, c.Batch)
	} else {
		fmt.Fprintf(&b, "after epoch %d of %d", c.Epoch, c.Recipe.Epochs)
	}
	return b.String()
}
