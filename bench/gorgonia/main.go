// Command gorgonia trains the tutorial's LeNet5 with Gorgonia v0.9.18 and
// prints how long it took, as one JSON line on stdout. It is the Gorgonia
// peer of the bench harness (../main.go), which builds and runs it as a
// child process with GOMAXPROCS=2.
//
//	go run ./gorgonia [-batches N] [-warmup N] [-images FILE -labels FILE]
//
// The network is the tutorial's LeNet5, the same layers as train.New("lenet5"):
//
//	[N,1,28,28] -conv1(6,5x5,pad 2)+tanh-> [N,6,28,28] -avgpool 2-> [N,6,14,14]
//	-conv2(16,5x5)+tanh-> [N,16,10,10] -avgpool 2-> [N,16,5,5]
//	-conv3(120,5x5)+tanh-> [N,120,1,1] -> [N,120] -fc1+tanh-> [N,84] -fc2-> [N,10]
//
// with biases on every layer, weights and biases drawn from
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) as PyTorch does, the mean cross-entropy
// loss and Adam (lr 1e-3), batches of 100 in float32. Gorgonia has no
// average pooling, so a 2x2, stride 2 average pool is written as a reshape
// of [N,C,H,W] to [N*C*H/2, 2, W/2, 2], a sum over axes 1 and 3, a reshape
// back and a multiplication by 1/4.
//
// Only the training loop is timed (copying each batch in, forward, backward,
// the Adam step); building the graph and loading MNIST are not. With
// -batches N > 0 only the first N batches of the (unshuffled) training set
// are timed; the harness scales the time to an epoch.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/onnxkit/onnxkit/mnist"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

const batchSize = 100

type lenet struct {
	params G.Nodes
	out    *G.Node
}

// param makes a learnable float32 node initialized from U(-bound, bound).
func param(g *G.ExprGraph, name string, fanIn int, shape ...int) *G.Node {
	b := 1 / math.Sqrt(float64(fanIn))
	return G.NewTensor(g, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName(name), G.WithInit(G.Uniform(-b, b)))
}

// conv is a 5x5, stride 1 convolution with bias followed by tanh.
func (m *lenet) conv(g *G.ExprGraph, x *G.Node, name string, in, out, pad int) (*G.Node, error) {
	w := param(g, name+".weight", in*25, out, in, 5, 5)
	b := param(g, name+".bias", in*25, out)
	m.params = append(m.params, w, b)
	y, err := G.Conv2d(x, w, tensor.Shape{5, 5}, []int{pad, pad}, []int{1, 1}, []int{1, 1})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	// bias [C] broadcast over axes 0, 2 and 3 of y [N,C,H,W]
	if y, err = G.BroadcastAdd(y, b, nil, []byte{0, 2, 3}); err != nil {
		return nil, fmt.Errorf("%s bias: %w", name, err)
	}
	return G.Tanh(y)
}

// linear is x [N,in] times W [in,out] plus bias [out].
func (m *lenet) linear(g *G.ExprGraph, x *G.Node, name string, in, out int) (*G.Node, error) {
	w := param(g, name+".weight", in, in, out)
	b := param(g, name+".bias", in, out)
	m.params = append(m.params, w, b)
	y, err := G.Mul(x, w)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if y, err = G.BroadcastAdd(y, b, nil, []byte{0}); err != nil {
		return nil, fmt.Errorf("%s bias: %w", name, err)
	}
	return y, nil
}

// avgPool2 is a 2x2, stride 2 average pool of x [N,C,H,W] (H, W even).
func avgPool2(x *G.Node) (*G.Node, error) {
	s := x.Shape()
	n, c, h, w := s[0], s[1], s[2], s[3]
	r, err := G.Reshape(x, tensor.Shape{n * c * h / 2, 2, w / 2, 2})
	if err != nil {
		return nil, err
	}
	if r, err = G.Sum(r, 1, 3); err != nil {
		return nil, err
	}
	if r, err = G.Reshape(r, tensor.Shape{n, c, h / 2, w / 2}); err != nil {
		return nil, err
	}
	return G.Mul(r, G.NewConstant(float32(0.25)))
}

func build(g *G.ExprGraph, x *G.Node) (*lenet, error) {
	m := new(lenet)
	h, err := m.conv(g, x, "conv1", 1, 6, 2) // [N,6,28,28]
	if err != nil {
		return nil, err
	}
	if h, err = avgPool2(h); err != nil { // [N,6,14,14]
		return nil, err
	}
	if h, err = m.conv(g, h, "conv2", 6, 16, 0); err != nil { // [N,16,10,10]
		return nil, err
	}
	if h, err = avgPool2(h); err != nil { // [N,16,5,5]
		return nil, err
	}
	if h, err = m.conv(g, h, "conv3", 16, 120, 0); err != nil { // [N,120,1,1]
		return nil, err
	}
	if h, err = G.Reshape(h, tensor.Shape{batchSize, 120}); err != nil {
		return nil, err
	}
	if h, err = m.linear(g, h, "fc1", 120, 84); err != nil { // [N,84]
		return nil, err
	}
	if h, err = G.Tanh(h); err != nil {
		return nil, err
	}
	if m.out, err = m.linear(g, h, "fc2", 84, 10); err != nil { // [N,10]
		return nil, err
	}
	return m, nil
}

type result struct {
	Seconds float64 `json:"seconds"`
	Images  int     `json:"images"`
	Batches int     `json:"batches"`
	Loss    float64 `json:"loss"`
}

func main() {
	batches := flag.Int("batches", 0, "time only the first `N` batches (0: the whole epoch)")
	warmup := flag.Int("warmup", 3, "untimed batches run first")
	images := flag.String("images", "", "MNIST training images `file` (default: found as mnist.Find does)")
	labels := flag.String("labels", "", "MNIST training labels `file`")
	flag.Parse()
	if err := run(*batches, *warmup, *images, *labels); err != nil {
		fmt.Fprintln(os.Stderr, "gorgonia:", err)
		os.Exit(1)
	}
}

func run(batches, warmup int, images, labels string) error {
	if images == "" || labels == "" {
		f, err := mnist.Find("")
		if err != nil {
			return err
		}
		images, labels = f.TrainImages, f.TrainLabels
	}
	train, err := mnist.LoadFiles(images, labels)
	if err != nil {
		return err
	}
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(batchSize, 1, 28, 28), G.WithName("x"))
	y := G.NewMatrix(g, tensor.Float32, G.WithShape(batchSize, 10), G.WithName("y"))
	m, err := build(g, x)
	if err != nil {
		return err
	}
	// mean over the batch of -sum_k y_k log softmax(out)_k
	logp, err := G.LogSoftMax(m.out)
	if err != nil {
		return err
	}
	cost := G.Must(G.Neg(G.Must(G.Mean(G.Must(G.Sum(G.Must(G.HadamardProd(logp, y)), 1))))))
	var costVal G.Value
	G.Read(cost, &costVal)
	if _, err := G.Grad(cost, m.params...); err != nil {
		return err
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(m.params...))
	defer vm.Close()
	solver := G.NewAdamSolver(G.WithLearnRate(1e-3))

	xb := make([]float32, batchSize*28*28)
	yb := make([]float32, batchSize*10)
	xt := tensor.New(tensor.WithShape(batchSize, 1, 28, 28), tensor.WithBacking(xb))
	yt := tensor.New(tensor.WithShape(batchSize, 10), tensor.WithBacking(yb))
	step := func(b int) error {
		lo := (b * batchSize) % train.N
		for i, p := range train.Images[lo*784 : (lo+batchSize)*784] {
			xb[i] = float32(p) / 255
		}
		clear(yb)
		for i := range batchSize {
			yb[i*10+int(train.Labels[lo+i])] = 1
		}
		if err := G.Let(x, xt); err != nil {
			return err
		}
		if err := G.Let(y, yt); err != nil {
			return err
		}
		if err := vm.RunAll(); err != nil {
			return fmt.Errorf("batch %d: %w", b, err)
		}
		if err := solver.Step(G.NodesToValueGrads(m.params)); err != nil {
			return fmt.Errorf("batch %d: adam: %w", b, err)
		}
		vm.Reset()
		return nil
	}
	for b := range warmup {
		if err := step(b); err != nil {
			return err
		}
	}
	n := train.N / batchSize
	if batches > 0 && batches < n {
		n = batches
	}
	start := time.Now()
	for b := range n {
		if err := step(b); err != nil {
			return err
		}
	}
	r := result{Seconds: time.Since(start).Seconds(), Images: n * batchSize, Batches: n}
	if v, ok := costVal.Data().(float32); ok {
		r.Loss = float64(v)
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}
