package onnx

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// addSeeds adds the testdata files with the given suffix to f's corpus.
func addSeeds(f *testing.F, suffix string) {
	files, err := filepath.Glob(filepath.Join("testdata", "*"+suffix))
	if err != nil || len(files) == 0 {
		f.Fatalf("no testdata/*%s seeds: %v", suffix, err)
	}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// smallLimits keeps the fuzzer from spending its time on large
// allocations that the size checks would allow anyway.
var smallLimits = DecodeOptions{MaxTensorBytes: 1 << 20, MaxGraphDepth: 8}

// FuzzDecode decodes arbitrary bytes as a model. Nothing may panic, and a
// model that decodes must encode, decode again, and encode to the same
// bytes; Check must give the same answer on both decodings.
func FuzzDecode(f *testing.F) {
	addSeeds(f, ".onnx")
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := smallLimits.Decode(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "onnx: ") {
				t.Errorf("Decode error %q lacks the onnx: prefix", err)
			}
			return
		}
		check1 := Check(m)
		e1, err := Encode(m)
		if err != nil {
			// Decode keeps only what Encode can write.
			t.Fatalf("Encode(Decode(data)) = %v", err)
		}
		m2, err := smallLimits.Decode(e1)
		if err != nil {
			t.Fatalf("Decode(Encode(Decode(data))) = %v", err)
		}
		e2, err := Encode(m2)
		if err != nil {
			t.Fatalf("Encode(Decode(Encode(Decode(data)))) = %v", err)
		}
		if !bytes.Equal(e1, e2) {
			t.Fatalf("Decode -> Encode is not stable")
		}
		check2 := Check(m2)
		if (check1 == nil) != (check2 == nil) || check1 != nil && check1.Error() != check2.Error() {
			t.Fatalf("Check before and after a round trip: %v, %v", check1, check2)
		}
	})
}

// FuzzDecodeTensor decodes arbitrary bytes as a TensorProto. Nothing may
// panic, and a tensor that decodes must survive EncodeTensor ->
// DecodeTensor unchanged.
func FuzzDecodeTensor(f *testing.F) {
	addSeeds(f, ".pb")
	f.Fuzz(func(t *testing.T, data []byte) {
		name, x, err := smallLimits.DecodeTensor(data)
		if err != nil {
			return
		}
		if !x.Valid() {
			t.Fatalf("DecodeTensor gave an invalid tensor %v", x)
		}
		e, err := EncodeTensor(name, x)
		if err != nil {
			t.Fatalf("EncodeTensor(DecodeTensor(data)) = %v", err)
		}
		name2, y, err := smallLimits.DecodeTensor(e)
		if err != nil {
			t.Fatalf("DecodeTensor(EncodeTensor(DecodeTensor(data))) = %v", err)
		}
		e2, _ := EncodeTensor(name2, y)
		if name2 != name || !bytes.Equal(e, e2) || x.DType != y.DType || !reflect.DeepEqual(x.Shape, y.Shape) {
			t.Fatalf("round trip changed %q %v into %q %v", name, x, name2, y)
		}
	})
}
