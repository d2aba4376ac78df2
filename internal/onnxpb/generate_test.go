package onnxpb

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// wantGenVersion is the protoc-gen-go that wrote the committed onnx.pb.go.
// Another version writes different code, so the staleness check only runs
// with this one.
const wantGenVersion = "protoc-gen-go v1.36.12"

// findTool looks for a code generator on PATH, then in $GOBIN and
// $HOME/go/bin, where go install puts it.
func findTool(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	var dirs []string
	if d := os.Getenv("GOBIN"); d != "" {
		dirs = append(dirs, d)
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	return ""
}

// TestGenerated regenerates onnx.pb.go from onnx.proto into a temporary
// folder and fails when the committed file differs.
func TestGenerated(t *testing.T) {
	protoc := findTool("protoc")
	gen := findTool("protoc-gen-go")
	if protoc == "" || gen == "" {
		t.Skip("protoc or protoc-gen-go not installed")
	}
	out, err := exec.Command(gen, "--version").CombinedOutput()
	if err != nil {
		t.Skipf("%s --version: %v", gen, err)
	}
	if v := strings.TrimSpace(string(out)); v != wantGenVersion {
		t.Skipf("found %s, the committed file comes from %s", v, wantGenVersion)
	}
	dir := t.TempDir()
	cmd := exec.Command(protoc, "--plugin=protoc-gen-go="+gen, "--go_out="+dir,
		"--go_opt=paths=source_relative", "onnx.proto")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("protoc: %v\n%s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(dir, "onnx.pb.go"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("onnx.pb.go")
	if err != nil {
		t.Fatal(err)
	}
	// The protoc version line differs between installs without changing
	// the code; leave it out of the comparison.
	if !bytes.Equal(dropProtocVersion(got), dropProtocVersion(want)) {
		t.Errorf("onnx.pb.go is stale: run go generate in internal/onnxpb")
	}
}

func dropProtocVersion(b []byte) []byte {
	lines := bytes.SplitAfter(b, []byte("\n"))
	var out []byte
	for _, l := range lines {
		if bytes.HasPrefix(l, []byte("// \tprotoc ")) {
			continue
		}
		out = append(out, l...)
	}
	return out
}

// TestPackageName checks the registered protobuf names live in our own
// package, so that linking next to another copy of the ONNX messages (say
// package onnx) does not panic at start-up.
func TestPackageName(t *testing.T) {
	got := string(proto.MessageName(&ModelProto{}))
	if want := "onnxkit.onnx.ModelProto"; got != want {
		t.Errorf("MessageName(ModelProto) = %q, want %q", got, want)
	}
}

// TestFieldNumbers pins a few field numbers to the ONNX spec, so that an
// edit of onnx.proto cannot silently break compatibility with real files.
func TestFieldNumbers(t *testing.T) {
	tests := []struct {
		msg   proto.Message
		field string
		num   int32
	}{
		// From onnx.proto3 of ONNX 1.22.
		{&ModelProto{}, "opset_import", 8},
		{&ModelProto{}, "graph", 7},
		{&ModelProto{}, "functions", 25},
		{&GraphProto{}, "initializer", 5},
		{&GraphProto{}, "input", 11},
		{&NodeProto{}, "domain", 7},
		{&AttributeProto{}, "type", 20},
		{&AttributeProto{}, "ref_attr_name", 21},
		{&TensorProto{}, "raw_data", 9},
		{&TensorProto{}, "data_location", 14},
		{&TensorProto{}, "double_data", 10},
		{&TypeProto{}, "optional_type", 9},
		{&TypeProto{}, "sparse_tensor_type", 8},
	}
	for _, tt := range tests {
		md := tt.msg.ProtoReflect().Descriptor()
		fd := md.Fields().ByName(protoreflectName(tt.field))
		if fd == nil {
			t.Errorf("%s has no field %s", md.FullName(), tt.field)
			continue
		}
		if got := int32(fd.Number()); got != tt.num {
			t.Errorf("%s.%s number = %d, want %d", md.FullName(), tt.field, got, tt.num)
		}
	}
}

func protoreflectName(s string) protoreflect.Name { return protoreflect.Name(s) }
