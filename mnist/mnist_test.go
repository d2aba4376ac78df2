package mnist

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// idxBytes builds an IDX file of unsigned bytes with the given dims and data.
func idxBytes(dims []uint32, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, d)
	}
	b.Write(data)
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func TestReadIDXFile(t *testing.T) {
	good := idxBytes([]uint32{3, 2, 2}, seq(12))
	tests := []struct {
		name    string
		file    []byte
		dims    []int
		wantErr string // substring; "" for success
	}{
		{"raw", good, []int{3, 2, 2}, ""},
		{"gzip", gz(good), []int{3, 2, 2}, ""},
		{"labels", idxBytes([]uint32{5}, seq(5)), []int{5}, ""},
		{"empty", nil, nil, "truncated header"},
		{"short magic", []byte{0, 0}, nil, "truncated header"},
		{"bad magic", append([]byte{0x50, 0x4b, 3, 4}, good[4:]...), nil, "bad magic"},
		{"float type", append([]byte{0, 0, 0x0d, 3}, good[4:]...), nil, "element type 0xd not supported"},
		{"zero dims", []byte{0, 0, 8, 0}, nil, "zero dimensions"},
		{"truncated dims", good[:9], nil, "truncated header"},
		{"truncated raw data", good[:len(good)-1], nil, "truncated: file is 27 bytes, dimensions [3 2 2] need 28"},
		{"trailing raw data", append(append([]byte(nil), good...), 0), nil, "trailing data"},
		{"truncated gzip data", gz(good[:len(good)-5]), nil, "truncated: 7 of 12 data bytes"},
		{"trailing gzip data", gz(append(append([]byte(nil), good...), 1, 2)), nil, "trailing data"},
		{"cut gzip stream", gz(good)[:20], nil, "unexpected EOF"},
		{"tiny gzip", gz(good)[:10], nil, "gzip: truncated"},
		// 2^32-1 per dimension: the product overflows the limit long before
		// anything is allocated.
		{"huge dims", idxBytes([]uint32{0xffffffff, 0xffffffff, 0xffffffff}, nil), nil, "larger than the limit"},
		{"huge product", idxBytes([]uint32{1 << 20, 1 << 20}, nil), nil, "exceed the limit"},
		{"huge product gzip", gz(idxBytes([]uint32{1 << 15, 1 << 14}, seq(10))), nil, "truncated: 10 of 536870912 data bytes"},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, dir, "f"+string(rune('a'+i)), tt.file)
			idx, err := ReadIDXFile(p)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ReadIDXFile = dims %v, want error containing %q", idx.Dims, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), p) {
					t.Fatalf("ReadIDXFile error = %q, want it to contain %q and the file name", err, tt.wantErr)
				}
				var fe *FormatError
				if !errors.As(err, &fe) {
					t.Errorf("ReadIDXFile error is %T, want *FormatError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadIDXFile: %v", err)
			}
			if !equalInts(idx.Dims, tt.dims) || !bytes.Equal(idx.Data, seq(len(idx.Data))) || len(idx.Data) != prod(tt.dims) {
				t.Fatalf("ReadIDXFile = dims %v, %d bytes, want dims %v", idx.Dims, len(idx.Data), tt.dims)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func prod(d []int) int {
	n := 1
	for _, v := range d {
		n *= v
	}
	return n
}

func TestChecksum(t *testing.T) {
	// A well-formed file under a standard name in the GoMNIST module's
	// folder but with other contents must fail the sha256 check.
	dir := t.TempDir()
	mod := filepath.Join(dir, filepath.FromSlash(goMNISTCacheDir))
	if err := os.MkdirAll(mod, 0o755); err != nil {
		t.Fatal(err)
	}
	p := writeFile(t, mod, TrainLabelsName+".gz", gz(idxBytes([]uint32{2}, []byte{1, 2})))
	_, err := ReadIDXFile(p)
	var ce *ChecksumError
	if !errors.As(err, &ce) || ce.File != p {
		t.Fatalf("ReadIDXFile(%s) error = %v, want *ChecksumError naming the file", p, err)
	}
	// The same bytes under another name, or under the standard name in
	// another folder (Fashion-MNIST and KMNIST use MNIST's names), are
	// accepted.
	for _, q := range []string{
		writeFile(t, dir, "other.gz", gz(idxBytes([]uint32{2}, []byte{1, 2}))),
		writeFile(t, dir, TrainLabelsName+".gz", gz(idxBytes([]uint32{2}, []byte{1, 2}))),
	} {
		if _, err := ReadIDXFile(q); err != nil {
			t.Fatalf("ReadIDXFile(%s): %v", q, err)
		}
	}
}

func TestLoadFiles(t *testing.T) {
	dir := t.TempDir()
	img := writeFile(t, dir, "img", idxBytes([]uint32{2, 3, 2}, seq(12)))
	lab := writeFile(t, dir, "lab", idxBytes([]uint32{2}, []byte{7, 3}))
	s, err := LoadFiles(img, lab)
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 2 || s.Rows != 3 || s.Cols != 2 || s.Labels[1] != 3 || s.Image(1)[0] != 6 {
		t.Fatalf("LoadFiles = %+v", s)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	if sub := s.Slice(1, 2); sub.N != 1 || sub.Labels[0] != 3 || sub.Images[0] != 6 {
		t.Fatalf("Slice(1, 2) = %+v", sub)
	}

	bad := []struct {
		name, images, labels, want string
	}{
		{"count mismatch", img, writeFile(t, dir, "lab3", idxBytes([]uint32{3}, []byte{1, 2, 3})), "3 labels for the 2 images"},
		{"label not a digit", img, writeFile(t, dir, "lab10", idxBytes([]uint32{2}, []byte{1, 10})), "label 10 of image 1"},
		{"labels 2-d", img, writeFile(t, dir, "lab2d", idxBytes([]uint32{2, 1}, []byte{1, 1})), "want 1"},
		{"images 1-d", lab, lab, "want 3"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadFiles(tt.images, tt.labels)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadFiles(%s, %s) error = %v, want %q", tt.images, tt.labels, err, tt.want)
			}
		})
	}
}

// writeSet writes a tiny data set in dir under the standard raw names (the
// .gz names would have to match the real checksums).
func writeSet(t *testing.T, dir string) {
	names := []string{TrainImagesName, TrainLabelsName, TestImagesName, TestLabelsName}
	files := [][]byte{
		idxBytes([]uint32{2, 2, 2}, seq(8)), idxBytes([]uint32{2}, []byte{0, 1}),
		idxBytes([]uint32{1, 2, 2}, seq(4)), idxBytes([]uint32{1}, []byte{9}),
	}
	for i, n := range names {
		writeFile(t, dir, n, files[i])
	}
}

func TestFind(t *testing.T) {
	t.Setenv("MNIST_DIR", "")
	flat := t.TempDir()
	writeSet(t, flat)
	tv := t.TempDir()
	writeSet(t, filepath.Join(tv, "MNIST", "raw"))
	partial := t.TempDir()
	writeFile(t, partial, TrainImagesName, idxBytes([]uint32{1, 1, 1}, seq(1)))

	for _, tt := range []struct {
		name, dir, wantDir string
	}{
		{"flat", flat, flat},
		{"torchvision", tv, filepath.Join(tv, "MNIST", "raw")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Find(tt.dir)
			if err != nil {
				t.Fatal(err)
			}
			if f.Dir != tt.wantDir || f.Source != "explicit folder" {
				t.Fatalf("Find(%s) = %+v, want Dir %s", tt.dir, f, tt.wantDir)
			}
			test, err := f.Test()
			if err != nil || test.N != 1 || test.Labels[0] != 9 {
				t.Fatalf("Test() = %+v, %v", test, err)
			}
		})
	}

	t.Run("MNIST_DIR", func(t *testing.T) {
		t.Setenv("MNIST_DIR", flat)
		f, err := Find("")
		if err != nil || f.Dir != flat || f.Source != "$MNIST_DIR" {
			t.Fatalf("Find with $MNIST_DIR = %+v, %v", f, err)
		}
	})
	for _, tt := range []struct {
		name, dir, env, want string
	}{
		{"explicit missing", filepath.Join(flat, "nope"), "", "no such folder"},
		{"explicit partial", partial, "", "missing " + TrainLabelsName},
		{"env partial", "", partial, "$MNIST_DIR " + partial + ": missing"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("MNIST_DIR", tt.env)
			_, err := Find(tt.dir)
			var nf *NotFoundError
			if !errors.As(err, &nf) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "go mod download") {
				t.Fatalf("Find(%q) error = %v, want *NotFoundError containing %q and how to get the files", tt.dir, err, tt.want)
			}
		})
	}
}

// TestReal loads the real data set when it can be found.
func TestReal(t *testing.T) {
	f, err := Find("")
	if err != nil {
		t.Skipf("MNIST not found: %v", err)
	}
	if testing.Short() {
		t.Skip("-short: not loading the 60,000 training images")
	}
	train, err := f.Train()
	if err != nil {
		t.Fatal(err)
	}
	test, err := f.Test()
	if err != nil {
		t.Fatal(err)
	}
	// Sizes and first labels from the published data set (yann.lecun.com):
	// the first training digits are 5 0 4 1 9, the first test digits 7 2 1 0 4.
	for _, c := range []struct {
		s      *Set
		n      int
		labels string
	}{{train, 60000, "50419"}, {test, 10000, "72104"}} {
		if c.s.N != c.n || c.s.Rows != 28 || c.s.Cols != 28 {
			t.Errorf("set = %d images of %dx%d, want %d of 28x28", c.s.N, c.s.Rows, c.s.Cols, c.n)
		}
		var got []byte
		for _, l := range c.s.Labels[:5] {
			got = append(got, '0'+l)
		}
		if string(got) != c.labels {
			t.Errorf("first labels = %s, want %s", got, c.labels)
		}
		if err := c.s.Check(); err != nil {
			t.Error(err)
		}
	}
}

func FuzzReadIDX(f *testing.F) {
	f.Add(idxBytes([]uint32{3, 2, 2}, seq(12)))
	f.Add(idxBytes([]uint32{1}, []byte{1}))
	f.Add([]byte{0, 0, 8, 1, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		idx, err := ReadIDX(bytes.NewReader(b), "fuzz")
		if err != nil {
			return
		}
		if len(idx.Data) != prod(idx.Dims) || 4+4*len(idx.Dims)+len(idx.Data) != len(b) {
			t.Fatalf("ReadIDX accepted %d bytes as dims %v with %d data bytes", len(b), idx.Dims, len(idx.Data))
		}
	})
}

// Fill scales pixels as torchvision's ToTensor (p/255) and gives the
// labels; Shape and Classes describe MNIST's images and digits.
func TestSetFill(t *testing.T) {
	s := &Set{N: 2, Rows: 1, Cols: 3, Images: []uint8{0, 51, 255, 1, 2, 3}, Labels: []uint8{7, 2}}
	x, labels := make([]float32, 6), make([]int, 2)
	if err := s.Fill(x, labels, []int{1, 0}); err != nil {
		t.Fatal(err)
	}
	want := []float32{float32(1) / 255, float32(2) / 255, float32(3) / 255, 0, 0.2, 1}
	if fmt.Sprint(x) != fmt.Sprint(want) || fmt.Sprint(labels) != "[2 7]" {
		t.Errorf("Fill = %v %v, want %v [2 7]", x, labels, want)
	}
	if c, h, w := s.Shape(); c != 1 || h != 1 || w != 3 || s.Len() != 2 || len(s.Classes()) != NumClasses || s.Classes()[9] != "9" {
		t.Errorf("Shape, Len, Classes = %d %d %d, %d, %v", c, h, w, s.Len(), s.Classes())
	}
	for _, idx := range [][]int{{2, 0}, {-1, 0}} {
		if err := s.Fill(x, labels, idx); err == nil {
			t.Errorf("Fill(%v) of 2 images: no error", idx)
		}
	}
	if err := s.Fill(x[:5], labels, []int{0, 1}); err == nil {
		t.Errorf("Fill with 5 values for 2 images of 3: no error")
	}
}
