package mnist

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// MaxIDXBytes is the largest data section ReadIDX accepts (1 GiB); larger
// declared sizes are rejected before anything is allocated.
const MaxIDXBytes = 1 << 30

// maxFileBytes bounds the size of a compressed file read into memory.
const maxFileBytes = 1 << 30

// FormatError reports a malformed IDX file or a data set that does not
// have MNIST's structure.
type FormatError struct {
	File string // the file at fault (may be empty for a bare reader)
	Msg  string
}

// Error names the file and what is wrong with it.
func (e *FormatError) Error() string {
	if e.File == "" {
		return "mnist: " + e.Msg
	}
	return "mnist: " + e.File + ": " + e.Msg
}

// ChecksumError reports a file whose SHA-256 sum is not the published one.
type ChecksumError struct {
	File      string
	Got, Want string // hex
}

// Error names the file and both checksums.
func (e *ChecksumError) Error() string {
	return fmt.Sprintf("mnist: %s: sha256 %s, want %s (corrupt or different file)", e.File, e.Got, e.Want)
}

// IDX is a decoded IDX file of unsigned bytes (type code 0x08), the only
// element type MNIST uses.
type IDX struct {
	Dims []int  // declared dimensions, e.g. [60000 28 28]
	Data []byte // prod(Dims) values, row-major
}

// Known SHA-256 sums of the standard MNIST .gz files (from yann.lecun.com,
// as shipped in the GoMNIST module).
var knownSHA256 = map[string]string{
	"train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
	"train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
	"t10k-images-idx3-ubyte.gz":  "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
	"t10k-labels-idx1-ubyte.gz":  "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

// idxHeader is the parsed fixed part of an IDX file.
type idxHeader struct {
	dims []int
	size int // prod(dims) in bytes
}

// readHeader reads and checks the magic number and the dimensions.
func readHeader(r io.Reader, name string) (idxHeader, error) {
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return idxHeader{}, &FormatError{name, "truncated header: " + unexpected(err).Error()}
	}
	if magic[0] != 0 || magic[1] != 0 {
		return idxHeader{}, &FormatError{name, fmt.Sprintf("bad magic %#x: not an IDX file", binary.BigEndian.Uint32(magic[:]))}
	}
	if magic[2] != 0x08 {
		return idxHeader{}, &FormatError{name, fmt.Sprintf("element type %#x not supported (want 0x08, unsigned byte)", magic[2])}
	}
	nd := int(magic[3])
	if nd == 0 {
		return idxHeader{}, &FormatError{name, "zero dimensions"}
	}
	buf := make([]byte, 4*nd)
	if _, err := io.ReadFull(r, buf); err != nil {
		return idxHeader{}, &FormatError{name, fmt.Sprintf("truncated header: %d dimensions declared: %v", nd, unexpected(err))}
	}
	h := idxHeader{dims: make([]int, nd), size: 1}
	for i := range h.dims {
		d := binary.BigEndian.Uint32(buf[4*i:])
		if d > MaxIDXBytes {
			return idxHeader{}, &FormatError{name, fmt.Sprintf("dimension %d is %d, larger than the limit %d", i, d, MaxIDXBytes)}
		}
		h.dims[i] = int(d)
		if d != 0 && h.size > MaxIDXBytes/int(d) {
			return idxHeader{}, &FormatError{name, fmt.Sprintf("declared dimensions %v exceed the limit of %d bytes", h.dims[:i+1], MaxIDXBytes)}
		}
		h.size *= int(d)
	}
	return h, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// ReadIDX decodes an uncompressed IDX stream of unsigned bytes. name is used
// in error messages. The data section must end exactly where the declared
// dimensions say. Memory grows with the data actually read, never more than
// the declared size, so a lying header cannot force a large allocation.
func ReadIDX(r io.Reader, name string) (*IDX, error) {
	return readIDX(r, name, 1<<20)
}

// readIDX is ReadIDX with a guess of the data size: the first allocation is
// min(declared size, hint).
func readIDX(r io.Reader, name string, hint int) (*IDX, error) {
	h, err := readHeader(r, name)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(min(h.size, max(hint, 0)) + 1)
	n, err := buf.ReadFrom(io.LimitReader(r, int64(h.size)+1))
	if err != nil {
		return nil, &FormatError{name, fmt.Sprintf("reading data: %v", err)}
	}
	if int(n) < h.size {
		return nil, &FormatError{name, fmt.Sprintf("truncated: %d of %d data bytes for dimensions %v", n, h.size, h.dims)}
	}
	if int(n) > h.size {
		return nil, &FormatError{name, fmt.Sprintf("trailing data after %d data bytes for dimensions %v", h.size, h.dims)}
	}
	return &IDX{Dims: h.dims, Data: buf.Bytes()[:h.size:h.size]}, nil
}

// ReadIDXFile reads an IDX file, gzip-compressed or raw (detected from the
// first bytes, not the name). A file whose base name is one of the four
// standard MNIST .gz names must have the published SHA-256 sum.
func ReadIDXFile(path string) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("mnist: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("mnist: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, &FormatError{path, "not a regular file"}
	}
	var magic [2]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		return nil, &FormatError{path, "truncated header: " + unexpected(err).Error()}
	}
	if magic[0] == 0x1f && magic[1] == 0x8b {
		return readGzipFile(f, path, st.Size())
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("mnist: %w", err)
	}
	h, err := readHeader(f, path)
	if err != nil {
		return nil, err
	}
	// A raw file's size is known: check it before allocating.
	hdr := int64(4 + 4*len(h.dims))
	if want := hdr + int64(h.size); st.Size() != want {
		what := "truncated"
		if st.Size() > want {
			what = "trailing data"
		}
		return nil, &FormatError{path, fmt.Sprintf("%s: file is %d bytes, dimensions %v need %d", what, st.Size(), h.dims, want)}
	}
	data := make([]byte, h.size)
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, &FormatError{path, "reading data: " + unexpected(err).Error()}
	}
	return &IDX{Dims: h.dims, Data: data}, nil
}

func readGzipFile(f *os.File, path string, size int64) (*IDX, error) {
	if size > maxFileBytes {
		return nil, &FormatError{path, fmt.Sprintf("compressed file is %d bytes, larger than the limit %d", size, maxFileBytes)}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("mnist: %w", err)
	}
	raw := make([]byte, size)
	if _, err := io.ReadFull(f, raw); err != nil {
		return nil, fmt.Errorf("mnist: %s: %w", path, unexpected(err))
	}
	// Only the GoMNIST module's copy is known to be MNIST: elsewhere files
	// of the same names may hold another data set in MNIST's format
	// (Fashion-MNIST, KMNIST).
	inModule := strings.Contains(filepath.ToSlash(path), goMNISTCacheDir+"/")
	if want, ok := knownSHA256[filepath.Base(path)]; ok && inModule {
		sum := sha256.Sum256(raw)
		if got := hex.EncodeToString(sum[:]); got != want {
			return nil, &ChecksumError{File: path, Got: got, Want: want}
		}
	}
	if len(raw) < 18 {
		return nil, &FormatError{path, fmt.Sprintf("gzip: truncated: %d bytes", len(raw))}
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, &FormatError{path, "gzip: " + err.Error()}
	}
	// The gzip trailer holds the uncompressed size mod 2^32: a hint for the
	// first allocation, never trusted beyond the declared size.
	hint := int(binary.LittleEndian.Uint32(raw[len(raw)-4:]))
	idx, err := readIDX(zr, path, hint) // format errors, including corrupt compressed data
	if err != nil {
		return nil, err
	}
	if err := zr.Close(); err != nil {
		return nil, &FormatError{path, "gzip: " + err.Error()}
	}
	return idx, nil
}
