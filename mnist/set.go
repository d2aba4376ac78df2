package mnist

import "fmt"

// NumClasses is the number of digit classes, and ImageSize the side of
// MNIST's square images.
const (
	NumClasses = 10
	ImageSize  = 28
)

// classNames are the names of the ten classes, the digits.
var classNames = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// Set is one split of the data set: N grayscale images of Rows x Cols pixels
// (0 is background, 255 full ink) with their labels.
type Set struct {
	N, Rows, Cols int
	Images        []uint8 // N*Rows*Cols pixels, image after image, row-major
	Labels        []uint8 // N labels in 0..9
}

// Image returns the pixels of image i (shared, not copied).
func (s *Set) Image(i int) []uint8 {
	sz := s.Rows * s.Cols
	return s.Images[i*sz : (i+1)*sz : (i+1)*sz]
}

// Len returns the number of images, N.
func (s *Set) Len() int { return s.N }

// Shape returns the shape of one image: 1 channel of Rows x Cols.
func (s *Set) Shape() (channels, height, width int) { return 1, s.Rows, s.Cols }

// Classes returns the class names "0" to "9" (shared; do not modify).
func (s *Set) Classes() []string { return classNames }

// Fill writes images idx as pixels scaled to [0, 1] (p/255, as
// torchvision's ToTensor) into x, image after image, and their labels into
// labels. x must hold len(idx)*Rows*Cols values and labels len(idx).
// Together with Len, Shape and Classes it makes a Set a train.Dataset.
func (s *Set) Fill(x []float32, labels []int, idx []int) error {
	sz := s.Rows * s.Cols
	if len(x) != len(idx)*sz || len(labels) != len(idx) {
		return fmt.Errorf("mnist: Fill: %d values and %d labels for %d images of %dx%d", len(x), len(labels), len(idx), s.Rows, s.Cols)
	}
	for i, j := range idx {
		if j < 0 || j >= s.N {
			return fmt.Errorf("mnist: Fill: image %d of %d", j, s.N)
		}
		dst := x[i*sz : (i+1)*sz]
		for k, p := range s.Images[j*sz : (j+1)*sz] {
			dst[k] = float32(p) / 255
		}
		labels[i] = int(s.Labels[j])
	}
	return nil
}

// Slice returns images lo..hi-1 as a Set sharing s's storage. It panics if
// the range is out of bounds.
func (s *Set) Slice(lo, hi int) *Set {
	if lo < 0 || hi < lo || hi > s.N {
		panic(fmt.Sprintf("mnist: Slice(%d, %d) of %d images", lo, hi, s.N))
	}
	sz := s.Rows * s.Cols
	return &Set{
		N: hi - lo, Rows: s.Rows, Cols: s.Cols,
		Images: s.Images[lo*sz : hi*sz : hi*sz],
		Labels: s.Labels[lo:hi:hi],
	}
}

// Check reports whether the Set is consistent: positive sizes, slice lengths
// matching them and labels in 0..9.
func (s *Set) Check() error {
	if s.N < 0 || s.Rows <= 0 || s.Cols <= 0 {
		return fmt.Errorf("mnist: set of %d images of %dx%d", s.N, s.Rows, s.Cols)
	}
	if len(s.Images) != s.N*s.Rows*s.Cols {
		return fmt.Errorf("mnist: set has %d pixels, want %d images of %dx%d", len(s.Images), s.N, s.Rows, s.Cols)
	}
	if len(s.Labels) != s.N {
		return fmt.Errorf("mnist: set has %d labels for %d images", len(s.Labels), s.N)
	}
	for i, l := range s.Labels {
		if l >= NumClasses {
			return fmt.Errorf("mnist: label %d of image %d is not a digit", l, i)
		}
	}
	return nil
}

// LoadFiles reads an images file (IDX, 3 dimensions) and a labels file (IDX,
// 1 dimension), gzip-compressed or raw, and checks that they agree.
func LoadFiles(images, labels string) (*Set, error) {
	img, err := ReadIDXFile(images)
	if err != nil {
		return nil, err
	}
	if len(img.Dims) != 3 {
		return nil, &FormatError{images, fmt.Sprintf("images file has %d dimensions %v, want 3 (count, rows, columns)", len(img.Dims), img.Dims)}
	}
	if img.Dims[1] == 0 || img.Dims[2] == 0 {
		return nil, &FormatError{images, fmt.Sprintf("images of %dx%d pixels", img.Dims[1], img.Dims[2])}
	}
	lab, err := ReadIDXFile(labels)
	if err != nil {
		return nil, err
	}
	if len(lab.Dims) != 1 {
		return nil, &FormatError{labels, fmt.Sprintf("labels file has %d dimensions %v, want 1", len(lab.Dims), lab.Dims)}
	}
	if lab.Dims[0] != img.Dims[0] {
		return nil, &FormatError{labels, fmt.Sprintf("%d labels for the %d images of %s", lab.Dims[0], img.Dims[0], images)}
	}
	for i, l := range lab.Data {
		if l >= NumClasses {
			return nil, &FormatError{labels, fmt.Sprintf("label %d of image %d is not a digit", l, i)}
		}
	}
	return &Set{N: img.Dims[0], Rows: img.Dims[1], Cols: img.Dims[2], Images: img.Data, Labels: lab.Data}, nil
}
