package chart

import (
	"bytes"
	"image"
	"image/png"

	"github.com/onnxkit/onnxkit/internal/atomicfile"
)

// WritePNG encodes img as PNG and writes it to path atomically: to a
// temporary file beside path, synced, then renamed over path, so path is
// never left half-written.
func WritePNG(path string, img image.Image) error {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	return WriteFileAtomic(path, buf.Bytes())
}

// WriteFileAtomic writes data to path atomically (see atomicfile.WriteFile).
func WriteFileAtomic(path string, data []byte) error { return atomicfile.WriteFile(path, data) }
