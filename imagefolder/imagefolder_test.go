package imagefolder

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writePNG writes img to dir/rel, making the folders.
func writePNG(t *testing.T, dir, rel string, img image.Image) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// testImage is 5 wide and 4 high, pixel (x, y) = ((50x+7y)%256,
// (60y+3x)%256, (20xy)%256), as the PIL script in TestResizeMatchesPIL
// builds it.
func testImage() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, 5, 4))
	for y := range 4 {
		for x := range 5 {
			img.SetNRGBA(x, y, color.NRGBA{uint8((x*50 + y*7) % 256), uint8((y*60 + x*3) % 256), uint8((x * y * 20) % 256), 255})
		}
	}
	return img
}

func gray(w, h int, v uint8) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = v + uint8(i)
	}
	return img
}

// The expected pixels are PIL 9.4's (Debian's python3-pil) for
// Image.fromarray(a, "RGB") with a as testImage:
// im.resize((w, h), Image.BILINEAR) and im.convert("L"), as torchvision's
// Resize and Grayscale compute them on PIL images. PIL rounds in fixed
// point, so values may differ by 1.
func TestResizeMatchesPIL(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, dir, "c/x.png", testImage())
	tests := []struct {
		ch, h, w int
		want     []uint8 // channel after channel
	}{
		{3, 2, 3, []uint8{26, 105, 184, 37, 116, 195, 44, 49, 54, 138, 143, 148, 6, 29, 51, 20, 91, 163}},
		{3, 6, 8, slices.Concat(
			[]uint8{0, 22, 53, 84, 116, 147, 178, 200, 4, 26, 57, 88, 120, 151, 182, 204, 8, 30, 61, 92, 124, 155, 186, 208, 13, 35, 66, 97, 129, 160, 191, 213, 18, 40, 71, 102, 134, 165, 196, 218, 21, 43, 74, 105, 137, 168, 199, 221},
			[]uint8{0, 1, 3, 5, 7, 9, 11, 12, 30, 31, 33, 35, 37, 39, 41, 42, 70, 71, 73, 75, 77, 79, 81, 82, 110, 111, 113, 115, 117, 119, 121, 122, 150, 151, 153, 155, 157, 159, 161, 162, 180, 181, 183, 185, 187, 189, 191, 192},
			[]uint8{0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 11, 17, 23, 30, 36, 40, 0, 11, 25, 40, 54, 69, 83, 93, 0, 16, 39, 62, 85, 108, 131, 147, 0, 22, 54, 85, 116, 147, 179, 200, 0, 26, 64, 101, 139, 176, 214, 240})},
		{1, 4, 5, []uint8{0, 17, 33, 50, 67, 37, 56, 75, 94, 113, 75, 96, 117, 138, 160, 112, 135, 159, 183, 206}},
	}
	for _, tt := range tests {
		s, err := Read(dir, nil, Options{Channels: tt.ch, Height: tt.h, Width: tt.w})
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range s.Pixels {
			if d := int(v) - int(tt.want[i]); d < -1 || d > 1 {
				t.Errorf("Read(%dx%dx%d): pixel %d = %d, want %d (PIL)", tt.ch, tt.h, tt.w, i, v, tt.want[i])
			}
		}
		if len(s.Pixels) != len(tt.want) {
			t.Errorf("Read(%dx%dx%d): %d pixels, want %d", tt.ch, tt.h, tt.w, len(s.Pixels), len(tt.want))
		}
	}
}

// Classes are the sorted folder names (as torchvision's ImageFolder);
// channels and size come from the training images unless given; the test
// folder may lack a class and is labelled by name.
func TestLoad(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, dir, "train/cat/1.png", gray(4, 3, 10))
	writePNG(t, dir, "train/cat/2.PNG", gray(8, 6, 20)) // resized to 4x3
	writePNG(t, dir, "train/ant/a.png", gray(4, 3, 30))
	writePNG(t, dir, "test/cat/t.png", gray(4, 3, 40))
	for _, f := range []string{"train/cat/notes.txt", "train/.hidden/x.png"} {
		p := filepath.Join(dir, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("not an image"), 0o644)
	}
	tr, te, err := Load(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c, h, w := tr.Shape(); c != 1 || h != 3 || w != 4 || !slices.Equal(tr.Classes(), []string{"ant", "cat"}) ||
		!slices.Equal(tr.Labels, []int{0, 1, 1}) || tr.Len() != 3 {
		t.Errorf("Load train = %dx%dx%d %v labels %v, want 1x3x4 [ant cat] [0 1 1]", c, h, w, tr.Classes(), tr.Labels)
	}
	if !slices.Equal(te.Labels, []int{1}) || !slices.Equal(te.Image(0), gray(4, 3, 40).Pix) {
		t.Errorf("Load test = labels %v pixels %v, want [1] and the file's pixels", te.Labels, te.Image(0))
	}
	x, labels := make([]float32, 2*12), make([]int, 2)
	if err := tr.Fill(x, labels, []int{2, 0}); err != nil {
		t.Fatal(err)
	}
	// image 0 is ant/a.png: pixel 0 is 30, so 30/255.
	if x[12] != float32(30)/255 || !slices.Equal(labels, []int{1, 0}) {
		t.Errorf("Fill = %v %v, want x[12] = 30/255 and labels [1 0]", x[12], labels)
	}
	// A colour image makes the set RGB.
	writePNG(t, dir, "train/bee/c.png", testImage())
	tr, _, err = Load(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c, h, w := tr.Shape(); c != 3 || h != 3 || w != 4 {
		t.Errorf("Load with a colour image: %dx%dx%d, want 3x3x4 (the first image, ant/a.png, sets the size)", c, h, w)
	}
}

func pngBytes(t *testing.T, img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngHeader is a PNG signature and IHDR declaring w x h 8-bit RGB, with no
// image data.
func pngHeader(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2
	chunk := append([]byte("IHDR"), ihdr...)
	b = binary.BigEndian.AppendUint32(b, 13)
	b = append(b, chunk...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(chunk))
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string][]byte // nil value: a folder
		opt   Options
		want  string
	}{
		{"not an image", map[string][]byte{"train/a/x.png": []byte("hello")}, Options{}, "train/a/x.png: not a PNG or JPEG image"},
		{"truncated", map[string][]byte{"train/a/x.png": pngHeader(4, 4)}, Options{}, "train/a/x.png: "},
		{"huge header", map[string][]byte{"train/a/x.png": pngHeader(100000, 100000)}, Options{}, "train/a/x.png: image is 100000x100000 pixels"},
		{"first image too big", map[string][]byte{"train/a/x.png": pngBytes(t, gray(5000, 2, 0))}, Options{}, "larger than 4096x4096"},
		{"empty class", map[string][]byte{"train/b/": nil}, Options{}, "train/b: no .png, .jpg or .jpeg file"},
		{"no classes", map[string][]byte{"train/x.png": pngBytes(t, gray(2, 2, 0))}, Options{}, "train: no class folders"},
		{"unknown test class", map[string][]byte{"test/zebra/": nil}, Options{}, `class folder "zebra" is not one of the training classes a`},
		{"bad channels", nil, Options{Channels: 2}, "2 channels, want 1 or 3"},
		{"bad size", nil, Options{Height: 5}, "size 5x0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writePNG(t, dir, "test/a/ok.png", gray(2, 2, 0))
			if tt.name != "no classes" && tt.name != "first image too big" {
				writePNG(t, dir, "train/a/ok.png", gray(2, 2, 0))
			}
			for f, b := range tt.files {
				p := filepath.Join(dir, filepath.FromSlash(f))
				if b == nil && strings.HasSuffix(f, "/") {
					os.MkdirAll(p, 0o755)
					continue
				}
				os.MkdirAll(filepath.Dir(p), 0o755)
				if b != nil {
					os.WriteFile(p, b, 0o644)
				}
			}
			_, _, err := Load(dir, tt.opt)
			if err == nil || !strings.Contains(filepath.ToSlash(err.Error()), tt.want) {
				t.Errorf("Load = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// JPEG files (any case of .jpg or .jpeg) are read too; a gray JPEG keeps
// the set 1-channel, and ReadImage makes any picture the asked shape.
func TestJPEG(t *testing.T) {
	dir := t.TempDir()
	for i, name := range []string{"train/a/x.jpg", "train/b/y.JPEG", "test/a/z.jpeg"} {
		var b bytes.Buffer
		if err := jpeg.Encode(&b, gray(8, 8, uint8(40*i)), nil); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tr, te, err := Load(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c, h, w := tr.Shape(); c != 1 || h != 8 || w != 8 || tr.Len() != 2 || te.Len() != 1 {
		t.Errorf("Load(JPEGs) = %dx%dx%d, %d and %d images; want 1x8x8, 2 and 1", c, h, w, tr.Len(), te.Len())
	}
	px, err := ReadImage(filepath.Join(dir, "train/b/y.JPEG"), 3, 4, 2)
	if err != nil || len(px) != 3*4*2 {
		t.Errorf("ReadImage(3x4x2) = %d pixels, %v; want 24", len(px), err)
	}
	if _, err := ReadImage(filepath.Join(dir, "train/b"), 1, 4, 4); err == nil || !strings.Contains(err.Error(), "is a folder") {
		t.Errorf("ReadImage(folder) = %v, want an error saying it is a folder", err)
	}
}
