package chart_test

import (
	"fmt"

	"github.com/onnxkit/onnxkit/chart"
)

func ExampleConfusion() {
	c := chart.NewConfusion(3)
	for _, s := range []struct{ truth, pred int }{{0, 0}, {0, 0}, {1, 1}, {1, 2}, {2, 2}, {2, 2}} {
		c.Add(s.truth, s.pred)
	}
	fmt.Printf("%d of %d right\n", c.Correct(), c.Total())
	fmt.Print(c)
	img, err := c.Plot("3 classes") // a heat map, for chart.WritePNG
	fmt.Println(img.Bounds().Dx() > 0, err)
	// Output:
	// 5 of 6 right
	// true \ predicted    0    1    2   correct
	//                0    2    0    0   100.00%
	//                1    0    1    1    50.00%
	//                2    0    0    2   100.00%
	// true <nil>
}

// The curves of a two-epoch run, as "onnxkit train -plot" draws them.
func ExampleCurves() {
	img, err := chart.Curves([]chart.Epoch{
		{Epoch: 1, Loss: 0.29, TestLoss: 0.09, TestAccuracy: 0.971},
		{Epoch: 2, Loss: 0.08, TestLoss: 0.06, TestAccuracy: 0.980},
	}, "LeNet5")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(img.Bounds()) // then chart.WritePNG("curves.png", img)
	// Output: (0,0)-(672,614)
}
