package train_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/onnxkit/onnxkit/train"
)

// stripes is a Dataset of its own: 3x16x16 images of horizontal,
// vertical or diagonal stripes in a random colour, phase and noise.
type stripes struct{ n, seed int }

func (s stripes) Len() int                    { return s.n }
func (s stripes) Shape() (channels, h, w int) { return 3, 16, 16 }
func (s stripes) Classes() []string           { return []string{"horizontal", "vertical", "diagonal"} }
func (s stripes) Fill(x []float32, labels []int, idx []int) error {
	for k, i := range idx {
		rng := rand.New(rand.NewPCG(uint64(s.seed), uint64(i)))
		label, phase := i%3, rng.IntN(4)
		img := x[k*3*16*16 : (k+1)*3*16*16]
		for c := range 3 {
			colour := 0.5 + 0.5*rng.Float32()
			for y := range 16 {
				for x := range 16 {
					t := [3]int{y, x, x + y}[label] + phase
					v := 0.1 * rng.Float32()
					if t%4 < 2 {
						v += colour
					}
					img[(c*16+y)*16+x] = min(v, 1)
				}
			}
		}
		labels[k] = label
	}
	return nil
}

// A small residual CNN with BatchNorm, defined as a graph: a stem, one
// ResNet basic block (conv-bn-relu-conv-bn plus a strided 1x1 downsample,
// Add, ReLU), global average pooling and a Linear head. It trains on a
// Dataset of its own and exports to ONNX.
func ExampleNewGraph() {
	conv := func(name string, in, out, k, stride int) train.Layer {
		return train.NewConv2dOpts(name, in, out, train.ConvOptions{Kernel: k, Stride: stride, Pad: k / 2, NoBias: true})
	}
	m, err := train.NewGraph("tiny-resnet", []int{3, 16, 16},
		train.Apply(conv("stem", 3, 8, 3, 1)), // [8,16,16]
		train.Apply(train.NewBatchNorm2d("stem_bn", 8)),
		train.Apply(train.NewReLU("stem_relu")),
		train.Apply(conv("conv1", 8, 16, 3, 2)), // [16,8,8]
		train.Apply(train.NewBatchNorm2d("bn1", 16)),
		train.Apply(train.NewReLU("relu1")),
		train.Apply(conv("conv2", 16, 16, 3, 1)),
		train.Apply(train.NewBatchNorm2d("bn2", 16)),
		train.Apply(conv("down", 8, 16, 1, 2), "stem_relu"), // the shortcut, [16,8,8]
		train.Apply(train.NewBatchNorm2d("down_bn", 16)),
		train.Combine(train.NewAdd("add"), "bn2", "down_bn"),
		train.Apply(train.NewReLU("relu2")),
		train.Apply(train.NewGlobalAvgPool("pool")), // [16,1,1]
		train.Apply(train.NewFlatten("flatten")),
		train.Apply(train.NewLinear("fc", 16, 3)),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	m.InitDefault(1) // PyTorch's default initialization, from seed 1
	t, err := train.NewTrainerFor(m, train.Recipe{Optimizer: "adam", LR: 1e-2, BatchSize: 20, Epochs: 3}, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	var last train.EpochStats
	t.OnEpoch = func(st train.EpochStats) error { last = st; return nil }
	if err := t.Fit(context.Background(), stripes{n: 300, seed: 1}, stripes{n: 60, seed: 2}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("test accuracy above 90%:", last.TestAccuracy > 0.9)

	m.Classes = stripes{}.Classes()
	om, err := m.Export(train.ExportOptions{Opset: 13})
	if err != nil {
		fmt.Println(err)
		return
	}
	var ops []string
	for _, n := range om.Graph.Nodes {
		ops = append(ops, n.OpType)
	}
	fmt.Println(strings.Join(ops, " "))
	// Output:
	// test accuracy above 90%: true
	// Conv BatchNormalization Relu Conv BatchNormalization Relu Conv BatchNormalization Conv BatchNormalization Add Relu GlobalAveragePool Flatten Gemm
}
