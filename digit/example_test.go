package digit_test

import (
	"fmt"
	"image"
	"image/color"
	"os"

	"github.com/onnxkit/onnxkit/digit"
)

// A "1" drawn as a dark bar on white paper, off-centre in a 100x60
// picture, becomes MNIST's white-on-black 28x28 form: 20 pixels tall,
// centred.
func ExamplePrepare() {
	img := image.NewGray(image.Rect(0, 0, 100, 60))
	for y := range 60 {
		for x := range 100 {
			v := uint8(250) // paper
			if x >= 70 && x < 78 && y >= 10 && y < 50 {
				v = 20 // ink: an 8x40 bar
			}
			img.SetGray(x, y, color.Gray{v})
		}
	}
	g, err := digit.Prepare(img)
	if err != nil {
		fmt.Println(err)
		return
	}
	x, y, _ := digit.CenterOfMass(g)
	fmt.Println(g.Bounds(), "corner", g.GrayAt(0, 0).Y, "ink", g.GrayAt(14, 14).Y)
	fmt.Printf("centre of mass (%.1f, %.1f)\n", x, y)
	// Output:
	// (0,0)-(28,28) corner 0 ink 255
	// centre of mass (14.0, 14.0)
}

func ExampleDecode() {
	f, err := os.Open("../testdata/digits/seven-dark-on-white.png")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	img, err := digit.Decode(f)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(img.Bounds())
	// Output: (0,0)-(40,40)
}
