package imagefolder

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/onnxkit/onnxkit/digit"
	"github.com/onnxkit/onnxkit/onnx"
)

// MaxSide bounds the height and width a Set's images are resized to, and
// MaxBytes the pixels of one Set; larger sizes are refused before they are
// allocated.
const (
	MaxSide  = 4096
	MaxBytes = 2 << 30
)

// Options say what images a Set holds. The zero value takes both from the
// training images.
type Options struct {
	// Channels is 1 (grayscale) or 3 (RGB); 0 means 1 when every image of
	// the folder is gray (PNG or JPEG grayscale, or R = G = B throughout)
	// and 3 otherwise.
	Channels int
	// Height and Width are the size every image is resized to; 0 means the
	// size of the first image (of the first class, in name order).
	Height, Width int
}

// Set is the images of one folder, resized to one shape.
type Set struct {
	Channels, Height, Width int
	Names                   []string // class names, sorted; labels index them
	Pixels                  []uint8  // image after image, channel after channel, row-major
	Labels                  []int
	Files                   []string // the file of each image
}

// Len returns the number of images.
func (s *Set) Len() int { return len(s.Labels) }

// Shape returns the shape of one image.
func (s *Set) Shape() (channels, height, width int) { return s.Channels, s.Height, s.Width }

// Classes returns the class names (shared; do not modify).
func (s *Set) Classes() []string { return s.Names }

// Fill writes images idx as pixels scaled to [0, 1] into x and their
// labels into labels (see train.Dataset).
func (s *Set) Fill(x []float32, labels []int, idx []int) error {
	sz := s.Channels * s.Height * s.Width
	if len(x) != len(idx)*sz || len(labels) != len(idx) {
		return fmt.Errorf("imagefolder: Fill: %d values and %d labels for %d images of %dx%dx%d", len(x), len(labels), len(idx), s.Channels, s.Height, s.Width)
	}
	for i, j := range idx {
		if j < 0 || j >= len(s.Labels) {
			return fmt.Errorf("imagefolder: Fill: image %d of %d", j, len(s.Labels))
		}
		dst := x[i*sz : (i+1)*sz]
		for k, p := range s.Pixels[j*sz : (j+1)*sz] {
			dst[k] = float32(p) / 255
		}
		labels[i] = s.Labels[j]
	}
	return nil
}

// Image returns the pixels of image i (shared, not copied).
func (s *Set) Image(i int) []uint8 {
	sz := s.Channels * s.Height * s.Width
	return s.Pixels[i*sz : (i+1)*sz : (i+1)*sz]
}

// Load reads dir/train and dir/test. The classes are train's sorted class
// folders; test may lack some but have no others. The zero fields of opt
// are taken from train, and test's images are made the same.
func Load(dir string, opt Options) (train, test *Set, err error) {
	train, err = Read(filepath.Join(dir, "train"), nil, opt)
	if err != nil {
		return nil, nil, err
	}
	opt = Options{Channels: train.Channels, Height: train.Height, Width: train.Width}
	test, err = Read(filepath.Join(dir, "test"), train.Names, opt)
	if err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// IsFolder reports whether dir has the layout Load reads: train and test
// folders.
func IsFolder(dir string) bool {
	for _, sub := range []string{"train", "test"} {
		if st, err := os.Stat(filepath.Join(dir, sub)); err != nil || !st.IsDir() {
			return false
		}
	}
	return true
}

// Read reads the images of dir's class folders (each sub-folder is a
// class; files other than .png, .jpg and .jpeg are skipped). classes, when
// not nil, are the class names labels index, and every class folder of dir
// must be one of them; nil means dir's own sorted folder names, each of
// which must hold an image.
func Read(dir string, classes []string, opt Options) (*Set, error) {
	if opt.Channels != 0 && opt.Channels != 1 && opt.Channels != 3 {
		return nil, fmt.Errorf("imagefolder: %d channels, want 1 or 3", opt.Channels)
	}
	if opt.Height < 0 || opt.Width < 0 || opt.Height > MaxSide || opt.Width > MaxSide || (opt.Height == 0) != (opt.Width == 0) {
		return nil, fmt.Errorf("imagefolder: size %dx%d: want both 0, or both 1 to %d", opt.Height, opt.Width, MaxSide)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("imagefolder: %w", err)
	}
	var folders []string // sorted: os.ReadDir sorts by name
	for _, e := range entries {
		if isDir(dir, e) && !strings.HasPrefix(e.Name(), ".") {
			folders = append(folders, e.Name())
		}
	}
	own := classes == nil
	if own {
		classes = folders
	}
	if len(classes) == 0 {
		return nil, fmt.Errorf("imagefolder: %s: no class folders", dir)
	}
	if len(classes) > onnx.MaxClasses {
		return nil, fmt.Errorf("imagefolder: %s: %d classes, more than %d", dir, len(classes), onnx.MaxClasses)
	}
	s := &Set{Channels: opt.Channels, Height: opt.Height, Width: opt.Width, Names: classes}
	r := reader{set: s, gray: true}
	for _, f := range folders {
		label := slices.Index(classes, f)
		if label < 0 {
			return nil, fmt.Errorf("imagefolder: %s: class folder %q is not one of the training classes %s", dir, f, strings.Join(classes, ", "))
		}
		n := len(s.Labels)
		if err := r.readClass(filepath.Join(dir, f), label); err != nil {
			return nil, err
		}
		if own && len(s.Labels) == n {
			return nil, fmt.Errorf("imagefolder: %s: no .png, .jpg or .jpeg file", filepath.Join(dir, f))
		}
	}
	if len(s.Labels) == 0 {
		return nil, fmt.Errorf("imagefolder: %s: no images", dir)
	}
	if s.Channels == 0 {
		s.Channels = 3
		if r.gray {
			s.Channels = 1
		}
	}
	if s.Channels == 1 {
		s.Pixels = toGray(s.Pixels, s.Height*s.Width)
	}
	return s, nil
}

// isDir reports whether e (in dir) is a folder, following a link.
func isDir(dir string, e os.DirEntry) bool {
	if e.Type()&os.ModeSymlink != 0 {
		st, err := os.Stat(filepath.Join(dir, e.Name()))
		return err == nil && st.IsDir()
	}
	return e.IsDir()
}

// reader appends images to a Set, as RGB until the channel count is known.
type reader struct {
	set     *Set
	gray    bool // every image so far is gray
	r, g, b []float32
}

func (r *reader) readClass(dir string, label int) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("imagefolder: %w", err)
	}
	for _, e := range entries {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".png", ".jpg", ".jpeg":
		default:
			continue
		}
		path := filepath.Join(dir, e.Name())
		if isDir(dir, e) {
			return fmt.Errorf("imagefolder: %s: is a folder, want a PNG or JPEG image", path)
		}
		if err := r.add(path, label); err != nil {
			return err
		}
	}
	return nil
}

// add decodes the image at path, resizes it and appends it as RGB.
func (r *reader) add(path string, label int) error {
	img, err := decode(path)
	if err != nil {
		return err
	}
	s := r.set
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if s.Height == 0 {
		if w > MaxSide || h > MaxSide {
			return fmt.Errorf("imagefolder: %s: the first image sets the size, and %dx%d is larger than %dx%d; give a size", path, w, h, MaxSide, MaxSide)
		}
		s.Height, s.Width = h, w
	}
	sz := 3 * s.Height * s.Width
	if len(s.Pixels)+sz > MaxBytes {
		return fmt.Errorf("imagefolder: %s: the images so far take more than %d MB", path, MaxBytes>>20)
	}
	gray := r.planes(img)
	r.gray = r.gray && gray
	for _, plane := range [][]float32{r.r, r.g, r.b} {
		s.Pixels = append(s.Pixels, resize(plane, w, h, s.Width, s.Height)...)
	}
	s.Labels = append(s.Labels, label)
	s.Files = append(s.Files, path)
	return nil
}

// planes puts img's pixels in r.r, r.g and r.b (as PIL's convert("RGB"):
// the colour without alpha) and reports whether the image is gray.
func (r *reader) planes(img image.Image) (gray bool) {
	b := img.Bounds()
	n := b.Dx() * b.Dy()
	r.r, r.g, r.b = grow(r.r, n), grow(r.g, n), grow(r.b, n)
	gray = true
	i := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			r.r[i], r.g[i], r.b[i] = float32(c.R), float32(c.G), float32(c.B)
			gray = gray && c.R == c.G && c.G == c.B
			i++
		}
	}
	return gray
}

// ReadImage reads the PNG or JPEG file at path and makes it an image of
// channels (1 or 3) x height x width uint8 pixels, channel after channel,
// as Read does. Errors name the file.
func ReadImage(path string, channels, height, width int) ([]uint8, error) {
	if channels != 1 && channels != 3 || height < 1 || width < 1 || height > MaxSide || width > MaxSide {
		return nil, fmt.Errorf("imagefolder: image of %dx%dx%d: want 1 or 3 channels and sides of 1 to %d", channels, height, width, MaxSide)
	}
	img, err := decode(path)
	if err != nil {
		return nil, err
	}
	return Resize(img, channels, height, width), nil
}

// Resize makes img an image of channels (1 or 3) x height x width uint8
// pixels, channel after channel, as Read does.
func Resize(img image.Image, channels, height, width int) []uint8 {
	var r reader
	r.planes(img)
	b := img.Bounds()
	var out []uint8
	for _, plane := range [][]float32{r.r, r.g, r.b} {
		out = append(out, resize(plane, b.Dx(), b.Dy(), width, height)...)
	}
	if channels == 1 {
		out = toGray(out, height*width)
	}
	return out
}

func grow(v []float32, n int) []float32 {
	if cap(v) < n {
		return make([]float32, n)
	}
	return v[:n]
}

// decode opens and decodes one image within digit.Decode's bounds; errors
// name the file.
func decode(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("imagefolder: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("imagefolder: %s: is a folder, want a PNG or JPEG image", path)
	}
	img, err := digit.Decode(f)
	switch {
	case errors.Is(err, digit.ErrFormat):
		return nil, fmt.Errorf("imagefolder: %s: not a PNG or JPEG image", path)
	case err != nil:
		return nil, fmt.Errorf("imagefolder: %s: %v", path, strings.TrimPrefix(err.Error(), "digit: "))
	}
	return img, nil
}

// toGray turns images of three planes of n pixels into one plane each,
// with the ITU-R 601 luma weights PIL's convert("L") uses.
func toGray(rgb []uint8, n int) []uint8 {
	out := rgb[:0]
	for i := 0; i < len(rgb); i += 3 * n {
		for k := range n {
			r, g, b := uint32(rgb[i+k]), uint32(rgb[i+n+k]), uint32(rgb[i+2*n+k])
			out = append(out, uint8((19595*r+38470*g+7471*b+1<<15)>>16))
		}
	}
	return out
}

// resize resizes a plane of sw x sh values to dw x dh uint8 values with a
// triangle (bilinear) filter widened by the scale when shrinking, as PIL's
// antialiased bilinear resize does; the same size is copied.
func resize(src []float32, sw, sh, dw, dh int) []uint8 {
	tmp := make([]float32, dw*sh) // resized along x
	for i, t := range taps(sw, dw) {
		for y := range sh {
			var v float32
			for _, tp := range t {
				v += tp.w * src[y*sw+tp.i]
			}
			tmp[y*dw+i] = v
		}
	}
	out := make([]uint8, dw*dh)
	for j, t := range taps(sh, dh) {
		for x := range dw {
			var v float32
			for _, tp := range t {
				v += tp.w * tmp[tp.i*dw+x]
			}
			out[j*dw+x] = uint8(min(max(math.Round(float64(v)), 0), 255))
		}
	}
	return out
}

type tap struct {
	i int
	w float32
}

// taps returns, for each of m outputs, the inputs of n it averages and
// their weights (summing to 1).
func taps(n, m int) [][]tap {
	scale := max(float64(n)/float64(m), 1)
	out := make([][]tap, m)
	for j := range m {
		c := (float64(j) + 0.5) * float64(n) / float64(m)
		lo, hi := max(int(math.Floor(c-scale)), 0), min(int(math.Ceil(c+scale)), n)
		var sum float64
		var t []tap
		for i := lo; i < hi; i++ {
			w := 1 - math.Abs((float64(i)+0.5-c)/scale)
			if w > 0 {
				t = append(t, tap{i, float32(w)})
				sum += w
			}
		}
		for k := range t {
			t[k].w = float32(float64(t[k].w) / sum)
		}
		out[j] = t
	}
	return out
}
