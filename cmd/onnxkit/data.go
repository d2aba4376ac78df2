package main

import (
	"github.com/onnxkit/onnxkit/imagefolder"
	"github.com/onnxkit/onnxkit/mnist"
	"github.com/onnxkit/onnxkit/train"
)

// dataHelp is the -data flag's text.
const dataHelp = "data `folder`: an image folder (DIR/train/CLASS/*.png|jpg and DIR/test/CLASS/*.png|jpg) or the MNIST-format IDX files (MNIST, Fashion-MNIST, KMNIST; default: $MNIST_DIR, ./data/mnist, then the GoMNIST module)"

// loadData reads the -data folder: an image folder when dir holds train
// and test folders, with images made as opt says (zero fields: from the
// images), else the four MNIST-format files (mnist.Find).
func loadData(dir string, opt imagefolder.Options) (trainSet, testSet train.Dataset, err error) {
	if dir != "" && imagefolder.IsFolder(dir) {
		tr, te, err := imagefolder.Load(dir, opt)
		if err != nil {
			return nil, nil, err
		}
		return tr, te, nil
	}
	tr, te, err := mnist.Load(dir)
	if err != nil {
		return nil, nil, err
	}
	return tr, te, nil
}

// firstN is the first n samples of a Dataset (train -limit).
type firstN struct {
	train.Dataset
	n int
}

func (f firstN) Len() int { return f.n }
