package mnist_test

import (
	"bytes"
	"fmt"

	"github.com/onnxkit/onnxkit/mnist"
)

func ExampleReadIDX() {
	// An IDX file: magic 0x00000801 (unsigned bytes, 1 dimension), the
	// dimension 3 (big-endian), then the data.
	file := []byte{0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1}
	idx, err := mnist.ReadIDX(bytes.NewReader(file), "labels")
	fmt.Println(idx.Dims, idx.Data, err)

	_, err = mnist.ReadIDX(bytes.NewReader(file[:10]), "labels")
	fmt.Println(err)
	// Output:
	// [3] [7 2 1] <nil>
	// mnist: labels: truncated: 2 of 3 data bytes for dimensions [3]
}
