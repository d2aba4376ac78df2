package train

import (
	"fmt"
	"math"

	"github.com/onnxkit/onnxkit/tensor"
)

// CrossEntropyLoss is the mean over the batch of -log softmax(logits)[label],
// like torch.nn.CrossEntropyLoss() with its defaults, computed from logits
// with a max-shifted log-sum-exp in float64. With LabelSmoothing e in
// [0, 1] the target is (1-e)*onehot(label) + e/K, as with
// torch.nn.CrossEntropyLoss(label_smoothing=e): the loss of a row is
// (1-e)*(-log p[label]) + e/K * sum_k(-log p[k]).
type CrossEntropyLoss struct {
	LabelSmoothing float64

	grad tensor.Tensor // [N, K]
	done bool
}

// Forward returns the mean loss of logits [N, K] (N >= 1) for labels [N]
// in 0..K-1, and keeps dL/dlogits for Backward. A label out of range is an
// error; non-finite logits give a NaN or infinite loss, not an error.
func (l *CrossEntropyLoss) Forward(logits *tensor.Tensor, labels []int) (float64, error) {
	if logits.DType != tensor.Float32 || len(logits.Shape) != 2 || !logits.Valid() || logits.Shape[0] == 0 || logits.Shape[1] == 0 {
		return 0, fmt.Errorf("train: cross-entropy loss: logits are %v, want float32 [N, K] with N, K >= 1", logits)
	}
	n, k := logits.Shape[0], logits.Shape[1]
	if len(labels) != n {
		return 0, fmt.Errorf("train: cross-entropy loss: %d labels for %d rows of logits", len(labels), n)
	}
	e := l.LabelSmoothing
	if !(e >= 0 && e <= 1) {
		return 0, fmt.Errorf("train: cross-entropy loss: label smoothing %v not in [0, 1]", e)
	}
	l.grad.Resize(tensor.Float32, n, k)
	l.done = false
	var total float64
	invN := 1 / float64(n)
	for i, lab := range labels {
		if lab < 0 || lab >= k {
			return 0, fmt.Errorf("train: cross-entropy loss: label %d of row %d not in 0..%d", lab, i, k-1)
		}
		row := logits.F32[i*k : (i+1)*k]
		g := l.grad.F32[i*k : (i+1)*k]
		m := float64(row[0])
		for _, v := range row[1:] {
			if float64(v) > m {
				m = float64(v)
			}
		}
		var s float64
		for _, v := range row {
			s += math.Exp(float64(v) - m)
		}
		lse := m + math.Log(s)
		if e == 0 {
			total += lse - float64(row[lab])
		} else {
			var sum float64 // sum_k -log p[k]
			for _, v := range row {
				sum += lse - float64(v)
			}
			total += (1-e)*(lse-float64(row[lab])) + e/float64(k)*sum
		}
		for j, v := range row {
			p := math.Exp(float64(v) - lse)
			p -= e / float64(k)
			if j == lab {
				p -= 1 - e
			}
			g[j] = float32(p * invN)
		}
	}
	l.done = true
	return total * invN, nil
}

// Backward returns dL/dlogits [N, K] = (softmax(logits) - target)/N
// for the last Forward (owned by the loss).
func (l *CrossEntropyLoss) Backward() *tensor.Tensor {
	if !l.done {
		panic("train: cross-entropy loss: Backward without a successful Forward")
	}
	return &l.grad
}
