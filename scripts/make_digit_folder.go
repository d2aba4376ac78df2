//go:build ignore

// make_digit_folder writes an image folder of coloured MNIST digits
// (internal/digitfolder) for onnxkit train -data:
//
//	go run scripts/make_digit_folder.go -out digits32 [-train 60000] [-test 10000] [-size 32]
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/onnxkit/onnxkit/internal/digitfolder"
	"github.com/onnxkit/onnxkit/mnist"
)

func main() {
	out := flag.String("out", "", "the folder to write")
	o := digitfolder.Options{}
	flag.IntVar(&o.Train, "train", 60000, "training images (the first of MNIST's training split)")
	flag.IntVar(&o.Test, "test", 10000, "test images (the first of MNIST's test split)")
	flag.IntVar(&o.Size, "size", 32, "side of the RGB images")
	flag.Uint64Var(&o.Seed, "seed", 1, "seed of the colours")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "make_digit_folder: -out is required")
		os.Exit(2)
	}
	train, test, err := mnist.Load("")
	if err == nil {
		err = digitfolder.Write(*out, train, test, o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "make_digit_folder:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s: %d training and %d test images of 3x%dx%d in 10 class folders\n", *out, o.Train, o.Test, o.Size, o.Size)
}
