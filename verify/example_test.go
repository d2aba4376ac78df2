package verify_test

import (
	"fmt"

	"github.com/onnxkit/onnxkit/tensor"
	"github.com/onnxkit/onnxkit/verify"
)

// Run a test folder in the ONNX layout (model.onnx, test_data_set_N/
// input_0.pb and output_0.pb): PyTorch's LeNet5 export and its logits.
func ExampleCase() {
	r := verify.Case("../testdata/pytorch/lenet5", verify.Tolerance{Rtol: 1e-4, Atol: 1e-5})
	fmt.Println(r.Dir, r.Sets, "data sets, passed:", r.Passed())
	fmt.Println("worst absolute difference below 1e-4:", r.MaxAbs < 1e-4)

	r = verify.Case("../testdata/nothing-here", verify.Default)
	fmt.Println(r.Passed(), r.Err != nil)
	// Output:
	// ../testdata/pytorch/lenet5 2 data sets, passed: true
	// worst absolute difference below 1e-4: true
	// false true
}

// Compare two tensors: element 1 is within tolerance (|2.001-2| <=
// 1e-5 + 1e-3*2), element 2 is not.
func ExampleCompare() {
	want := tensor.FromFloat32([]float32{1, 2, 3}, 3)
	got := tensor.FromFloat32([]float32{1, 2.001, 3.25}, 3)
	d, err := verify.Compare(got, want, verify.Default)
	fmt.Printf("max abs %.3f, max rel %.4f\n", d.MaxAbs, d.MaxRel)
	fmt.Println(err)

	_, err = verify.Compare(got, tensor.FromFloat32([]float32{1, 2}, 2), verify.Default)
	fmt.Println(err)
	// Output:
	// max abs 0.250, max rel 0.0833
	// element 2 is 3.25, want 3 (atol 1e-05, rtol 0.001)
	// shape 3, want 2
}
