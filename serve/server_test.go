package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/infer"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

const (
	lenet5Path = "../testdata/pytorch/lenet5/model.onnx"
	lenet5Set0 = "../testdata/pytorch/lenet5/test_data_set_0"
)

func loadLeNet5(t testing.TB) *infer.Session {
	t.Helper()
	s, err := infer.Load(lenet5Path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// readPB reads a tensor from an ONNX test-data file.
func readPB(t testing.TB, path string) *tensor.Tensor {
	t.Helper()
	_, x, err := onnx.ReadTensorFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// affineModel is y = Relu(x*w + b) for x float32[N x 3] and z = k + c for
// k int64[N x 2]: elementwise ops only, so its rows do not depend on the
// batch they are run in and it passes the batching probe.
func affineModel(t testing.TB) *infer.Session {
	t.Helper()
	f32 := func(name string, dims ...onnx.Dim) *onnx.ValueInfo {
		return &onnx.ValueInfo{Name: name, DType: tensor.Float32, ElemType: onnx.ElemTypeOf(tensor.Float32), HasShape: true, Shape: dims}
	}
	i64 := func(name string, dims ...onnx.Dim) *onnx.ValueInfo {
		return &onnx.ValueInfo{Name: name, DType: tensor.Int64, ElemType: onnx.ElemTypeOf(tensor.Int64), HasShape: true, Shape: dims}
	}
	n := onnx.Dim{Param: "N"}
	g := &onnx.Graph{
		Name: "affine",
		Nodes: []*onnx.Node{
			{Name: "mul", OpType: "Mul", Inputs: []string{"x", "w"}, Outputs: []string{"xw"}},
			{Name: "add", OpType: "Add", Inputs: []string{"xw", "b"}, Outputs: []string{"xwb"}},
			{Name: "relu", OpType: "Relu", Inputs: []string{"xwb"}, Outputs: []string{"y"}},
			{Name: "addk", OpType: "Add", Inputs: []string{"k", "c"}, Outputs: []string{"z"}},
		},
		Initializers: []*onnx.Initializer{
			{Name: "w", Tensor: tensor.FromFloat32([]float32{0.5, -1.25, 3}, 3)},
			{Name: "b", Tensor: tensor.FromFloat32([]float32{0.1, 0.2, -0.3}, 3)},
			{Name: "c", Tensor: tensor.FromInt64([]int64{10, -20}, 2)},
		},
		Inputs:  []*onnx.ValueInfo{f32("x", n, onnx.Dim{Value: 3}), i64("k", n, onnx.Dim{Value: 2})},
		Outputs: []*onnx.ValueInfo{f32("y", n, onnx.Dim{Value: 3}), i64("z", n, onnx.Dim{Value: 2})},
	}
	s, err := infer.NewSession(&onnx.Model{IRVersion: 8, OpsetImports: []onnx.OpsetImport{{Version: 13}}, Graph: g})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newTestServer serves LeNet5 as "lenet5" and the affine model as
// "affine".
func newTestServer(t testing.TB, opt Options) (*Server, *httptest.Server) {
	t.Helper()
	if opt.Version == "" {
		opt.Version = "test"
	}
	s, err := New([]Model{{Name: "lenet5", Session: loadLeNet5(t)}, {Name: "affine", Session: affineModel(t)}}, opt)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		ts.Close()
		s.Close()
	})
	return s, ts
}

// inferBody is an inference request for one input.
func inferBody(t testing.TB, name, datatype string, shape []int, data any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"inputs": []any{map[string]any{"name": name, "shape": shape, "datatype": datatype, "data": data}}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func do(t testing.TB, method, url, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// inferResponse is the protocol's response with data kept raw, so that
// numbers are parsed at their own precision.
type inferResponse struct {
	ModelName    string `json:"model_name"`
	ModelVersion string `json:"model_version"`
	ID           string `json:"id"`
	Outputs      []struct {
		Name     string            `json:"name"`
		Datatype string            `json:"datatype"`
		Shape    []int             `json:"shape"`
		Data     []json.RawMessage `json:"data"`
	} `json:"outputs"`
}

// float32s parses an FP32 output's data.
func float32s(t testing.TB, raw []json.RawMessage) []float32 {
	t.Helper()
	f := make([]float32, len(raw))
	for i, r := range raw {
		v, err := parseFloat(strings.Trim(string(r), `"`), 32)
		if err != nil {
			t.Fatalf("data[%d] = %s: %v", i, r, err)
		}
		f[i] = float32(v)
	}
	return f
}

// TestEndpoints checks every endpoint's status, headers and JSON body
// against the Open Inference Protocol's forms (kserve.github.io, "Open
// Inference Protocol (V2 Inference Protocol)", REST API).
func TestEndpoints(t *testing.T) {
	_, ts := newTestServer(t, Options{MaxBatch: 1})
	lenetMeta := `{"name":"lenet5","versions":["1"],"platform":"onnx",
		"inputs":[{"name":"input","datatype":"FP32","shape":[-1,1,28,28]}],
		"outputs":[{"name":"logits","datatype":"FP32","shape":[-1,10]}]}`
	tests := []struct {
		name, method, path string
		code               int
		body               string // JSON compared after decoding; "" for an empty body
		allow              string
	}{
		{"live", "GET", "/v2/health/live", 200, "", ""},
		{"live HEAD", "HEAD", "/v2/health/live", 200, "", ""},
		{"ready", "GET", "/v2/health/ready", 200, "", ""},
		{"server metadata", "GET", "/v2", 200, `{"name":"onnxkit","version":"test","extensions":[]}`, ""},
		{"server metadata slash", "GET", "/v2/", 200, `{"name":"onnxkit","version":"test","extensions":[]}`, ""},
		{"model metadata", "GET", "/v2/models/lenet5", 200, lenetMeta, ""},
		{"model metadata version", "GET", "/v2/models/lenet5/versions/1", 200, lenetMeta, ""},
		{"model metadata int64", "GET", "/v2/models/affine", 200, `{"name":"affine","versions":["1"],"platform":"onnx",
			"inputs":[{"name":"x","datatype":"FP32","shape":[-1,3]},{"name":"k","datatype":"INT64","shape":[-1,2]}],
			"outputs":[{"name":"y","datatype":"FP32","shape":[-1,3]},{"name":"z","datatype":"INT64","shape":[-1,2]}]}`, ""},
		{"model ready", "GET", "/v2/models/lenet5/ready", 200, "", ""},
		{"model version ready", "GET", "/v2/models/lenet5/versions/1/ready", 200, "", ""},
		{"unknown version", "GET", "/v2/models/lenet5/versions/2", 404, `{"error":"model \"lenet5\" has no version \"2\" (its only version is 1)"}`, ""},
		{"unknown model", "GET", "/v2/models/nope", 404, `{"error":"unknown model \"nope\""}`, ""},
		{"unknown model ready", "GET", "/v2/models/nope/ready", 404, `{"error":"unknown model \"nope\""}`, ""},
		{"unknown model infer", "POST", "/v2/models/nope/infer", 404, `{"error":"unknown model \"nope\""}`, ""},
		{"unknown path", "GET", "/v3", 404, `{"error":"no such path: /v3"}`, ""},
		{"unknown model path", "GET", "/v2/models/lenet5/explain", 404, `{"error":"no such path: /v2/models/lenet5/explain"}`, ""},
		{"POST live", "POST", "/v2/health/live", 405, `{"error":"method POST not allowed: use GET, HEAD"}`, "GET, HEAD"},
		{"DELETE metadata", "DELETE", "/v2/models/lenet5", 405, `{"error":"method DELETE not allowed: use GET, HEAD"}`, "GET, HEAD"},
		{"GET infer", "GET", "/v2/models/lenet5/infer", 405, `{"error":"method GET not allowed: use POST"}`, "POST"},
		{"PUT infer", "PUT", "/v2/models/lenet5/versions/1/infer", 405, `{"error":"method PUT not allowed: use POST"}`, "POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := do(t, tt.method, ts.URL+tt.path, "")
			if resp.StatusCode != tt.code {
				t.Fatalf("%s %s: status %d, want %d (body %s)", tt.method, tt.path, resp.StatusCode, tt.code, b)
			}
			if got := resp.Header.Get("Allow"); got != tt.allow {
				t.Errorf("%s %s: Allow %q, want %q", tt.method, tt.path, got, tt.allow)
			}
			if tt.body == "" || tt.method == "HEAD" {
				if len(b) != 0 {
					t.Errorf("%s %s: body %q, want none", tt.method, tt.path, b)
				}
				return
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("%s %s: Content-Type %q, want application/json", tt.method, tt.path, ct)
			}
			var got, want any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("%s %s: %v in %s", tt.method, tt.path, err, b)
			}
			if err := json.Unmarshal([]byte(tt.body), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s = %s, want %s", tt.method, tt.path, b, tt.body)
			}
		})
	}
}

// TestInfer runs LeNet5 on MNIST's first test image over HTTP: the answer
// is the session's bit for bit (float32 survives JSON as its shortest
// decimal) and PyTorch's within 1e-4 (output_0.pb).
func TestInfer(t *testing.T) {
	_, ts := newTestServer(t, Options{MaxBatch: 1})
	x := readPB(t, lenet5Set0+"/input_0.pb")
	ref := readPB(t, lenet5Set0+"/output_0.pb")
	want, err := loadLeNet5(t).Run(map[string]*tensor.Tensor{"input": x})
	if err != nil {
		t.Fatal(err)
	}
	// The same pixels nested as [1][1][28][28].
	nested := make([][][][]float32, 1)
	nested[0] = make([][][]float32, 1)
	for r := range 28 {
		nested[0][0] = append(nested[0][0], x.F32[r*28:(r+1)*28])
	}
	for _, tc := range []struct {
		name string
		body string
	}{
		{"flat", inferBody(t, "input", "FP32", x.Shape, x.F32)},
		{"nested", inferBody(t, "input", "FP32", x.Shape, nested)},
		{"id and outputs", `{"id":"req-1","parameters":{"x":1},"inputs":[{"name":"input","shape":[1,1,28,28],"datatype":"FP32","data":` +
			mustJSON(t, x.F32) + `}],"outputs":[{"name":"logits"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := do(t, "POST", ts.URL+"/v2/models/lenet5/infer", tc.body)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			var r inferResponse
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatal(err)
			}
			if r.ModelName != "lenet5" || r.ModelVersion != "1" || len(r.Outputs) != 1 {
				t.Fatalf("response %s: want model_name lenet5, model_version 1 and one output", b)
			}
			if tc.name == "id and outputs" && r.ID != "req-1" {
				t.Errorf("id = %q, want req-1", r.ID)
			}
			o := r.Outputs[0]
			if o.Name != "logits" || o.Datatype != "FP32" || !reflect.DeepEqual(o.Shape, []int{1, 10}) {
				t.Fatalf("output %s %s %v, want logits FP32 [1 10]", o.Name, o.Datatype, o.Shape)
			}
			got := float32s(t, o.Data)
			for i, v := range got {
				if math.Float32bits(v) != math.Float32bits(want["logits"].F32[i]) {
					t.Errorf("logits[%d] = %v, want the session's %v bit for bit", i, v, want["logits"].F32[i])
				}
				if d := math.Abs(float64(v - ref.F32[i])); d > 1e-4 {
					t.Errorf("logits[%d] = %v, PyTorch's %v (off by %g)", i, v, ref.F32[i], d)
				}
			}
		})
	}
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestInferInt64 runs the affine model, whose second input and output are
// INT64, with both inputs, and asks for one output.
func TestInferInt64(t *testing.T) {
	_, ts := newTestServer(t, Options{})
	body := `{"inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[[1,2,3],[-1,0,"Infinity"]]},
		{"name":"k","shape":[2,2],"datatype":"INT64","data":[9007199254740993,-5,0,1]}],"outputs":[{"name":"z"}]}`
	resp, b := do(t, "POST", ts.URL+"/v2/models/affine/infer", body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	// z = k + [10, -20]; 2^53+1 must survive (JSON numbers are not doubles here).
	want := `{"model_name":"affine","model_version":"1","outputs":[{"name":"z","datatype":"INT64","shape":[2,2],"data":[9007199254741003,-25,10,-19]}]}`
	if got := strings.TrimSpace(string(b)); got != want {
		t.Errorf("response\n%s\nwant\n%s", got, want)
	}
	// y = Relu(x*w+b), w = [0.5, -1.25, 3], b = [0.1, 0.2, -0.3]; x*3 at
	// +Inf gives +Inf.
	resp, b = do(t, "POST", ts.URL+"/v2/models/affine/infer", strings.Replace(body, `"z"`, `"y"`, 1))
	want = `{"model_name":"affine","model_version":"1","outputs":[{"name":"y","datatype":"FP32","shape":[2,3],"data":[0.6,0,8.7,0,0.2,"Infinity"]}]}`
	if got := strings.TrimSpace(string(b)); resp.StatusCode != 200 || got != want {
		t.Errorf("response %d\n%s\nwant\n%s", resp.StatusCode, got, want)
	}
}

// TestBadRequests checks the errors for requests the server must refuse.
func TestBadRequests(t *testing.T) {
	_, ts := newTestServer(t, Options{MaxBatch: 1, MaxBody: 64 << 10, MaxElements: 1 << 20})
	zeros := make([]float32, 784)
	good := inferBody(t, "input", "FP32", []int{1, 1, 28, 28}, zeros)
	oversized := good[:len(good)-1] + strings.Repeat(" ", 64<<10) + "}"
	tests := []struct {
		name, model, body string
		code              int
		err               string // the error message
	}{
		{"malformed JSON", "lenet5", `{"inputs":[`, 400, "malformed JSON: unexpected end of JSON input"},
		{"not an object", "lenet5", `[1,2]`, 400, `malformed request: want a JSON object, got JSON array`},
		{"inputs not an array", "lenet5", `{"inputs":{}}`, 400, `malformed request: field "inputs": want []serve.requestInput, got JSON object`},
		{"no inputs", "lenet5", `{"inputs":[]}`, 400, `no inputs: want "input"`},
		{"unknown input", "lenet5", inferBody(t, "image", "FP32", []int{1, 1, 28, 28}, zeros), 400, `unknown input "image": want "input"`},
		{"wrong shape", "lenet5", inferBody(t, "input", "FP32", []int{1, 1, 28, 27}, zeros[:756]), 400, `input "input": shape [1,1,28,27], want [-1,1,28,28]`},
		{"wrong rank", "lenet5", inferBody(t, "input", "FP32", []int{1, 784}, zeros), 400, `input "input": shape [1,784], want [-1,1,28,28]`},
		{"wrong datatype", "lenet5", inferBody(t, "input", "FP64", []int{1, 1, 28, 28}, zeros), 400, `input "input": datatype "FP64", want "FP32"`},
		{"unknown datatype", "lenet5", inferBody(t, "input", "FLOAT", []int{1, 1, 28, 28}, zeros), 400, `input "input": datatype "FLOAT", want "FP32"`},
		{"too few values", "lenet5", inferBody(t, "input", "FP32", []int{1, 1, 28, 28}, zeros[:783]), 400, `input "input": shape [1,1,28,28] holds 784 elements, data has 783`},
		{"too many values", "lenet5", inferBody(t, "input", "FP32", []int{1, 1, 28, 28}, append(zeros, 1)), 400, `input "input": shape [1,1,28,28] holds 784 elements, data has 785`},
		{"negative dimension", "lenet5", inferBody(t, "input", "FP32", []int{-1, 1, 28, 28}, zeros), 400, `input "input": shape [-1,1,28,28]: negative dimension`},
		{"no shape", "lenet5", `{"inputs":[{"name":"input","datatype":"FP32","data":[0]}]}`, 400, `input "input": no shape`},
		{"no data", "lenet5", `{"inputs":[{"name":"input","shape":[1,1,28,28],"datatype":"FP32"}]}`, 400, `input "input": no data`},
		{"string in data", "lenet5", inferBody(t, "input", "FP32", []int{1, 1, 28, 28}, append([]any{"x"}, make([]any, 783)...)), 400, `input "input": data: string "x": want a number (or "NaN", "Infinity", "-Infinity")`},
		{"null in data", "lenet5", inferBody(t, "input", "FP32", []int{1, 1, 28, 28}, make([]any, 784)), 400, `input "input": data: value 0: "null" is not a valid FP32 value`},
		{"data not an array", "lenet5", `{"inputs":[{"name":"input","shape":[1,1,28,28],"datatype":"FP32","data":{"a":1}}]}`, 400, `input "input": data: want an array`},
		{"input twice", "lenet5", `{"inputs":[` + good[len(`{"inputs":[`):len(good)-2] + `,` + good[len(`{"inputs":[`):len(good)-2] + `]}`, 400, `input "input" given twice`},
		{"unknown output", "lenet5", good[:len(good)-1] + `,"outputs":[{"name":"probs"}]}`, 400, `unknown output "probs": want "logits"`},
		{"output twice", "lenet5", good[:len(good)-1] + `,"outputs":[{"name":"logits"},{"name":"logits"}]}`, 400, `output "logits" requested twice`},
		{"missing input", "affine", `{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}`, 400, `missing input "k"`},
		{"batch sizes differ", "affine", `{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,2,3]},{"name":"k","shape":[2,2],"datatype":"INT64","data":[1,2,3,4]}]}`, 400, `input "k": first dimension 2, other inputs have 1`},
		{"INT64 out of range", "affine", `{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,2,3]},{"name":"k","shape":[1,2],"datatype":"INT64","data":[1,9223372036854775808]}]}`, 400, `input "k": data: value 1: 9223372036854775808 is out of range for INT64`},
		{"INT64 fraction", "affine", `{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,2,3]},{"name":"k","shape":[1,2],"datatype":"INT64","data":[1,2.5]}]}`, 400, `input "k": data: value 1: "2.5" is not a valid INT64 value`},
		{"FP32 out of range", "affine", `{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,2,1e39]},{"name":"k","shape":[1,2],"datatype":"INT64","data":[1,2]}]}`, 400, `input "x": data: value 2: 1e39 is out of range for FP32`},
		{"hex float", "affine", `{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,2,"0x1p3"]},{"name":"k","shape":[1,2],"datatype":"INT64","data":[1,2]}]}`, 400, `input "x": data: string "0x1p3": want a number (or "NaN", "Infinity", "-Infinity")`},
		{"too many elements", "lenet5", inferBody(t, "input", "FP32", []int{100000, 1, 28, 28}, zeros), 413, `input "input": shape [100000,1,28,28]: over 1048576 elements: too large`},
		{"overflowing shape", "lenet5", inferBody(t, "input", "FP32", []int{1 << 40, 1, 1 << 40, 1 << 40}, zeros), 400, `input "input": shape [1099511627776,1,1099511627776,1099511627776], want [-1,1,28,28]`},
		{"oversized body", "lenet5", oversized, 413, fmt.Sprintf("request body of %d bytes is over the limit of 65536", len(oversized))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := do(t, "POST", ts.URL+"/v2/models/"+tt.model+"/infer", tt.body)
			var e errorResponse
			if err := json.Unmarshal(b, &e); err != nil {
				t.Fatalf("body %q: %v", b, err)
			}
			if resp.StatusCode != tt.code || e.Error != tt.err {
				t.Errorf("status %d, error %q\nwant %d, %q", resp.StatusCode, e.Error, tt.code, tt.err)
			}
		})
	}

	// A body over the limit without a Content-Length is cut off while read.
	t.Run("oversized chunked body", func(t *testing.T) {
		body := good[:len(good)-1] + strings.Repeat(" ", 64<<10) + "}"
		req, _ := http.NewRequest("POST", ts.URL+"/v2/models/lenet5/infer", io.MultiReader(strings.NewReader(body)))
		req.ContentLength = -1
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := `{"error":"request body is over the limit of 65536 bytes"}`; resp.StatusCode != 413 || string(b) != want {
			t.Errorf("status %d, body %s; want 413, %s", resp.StatusCode, b, want)
		}
	})
}

// TestInFlightLimit fills the in-flight slots and checks that the next
// inference request is refused with 503 and Retry-After.
func TestInFlightLimit(t *testing.T) {
	s, ts := newTestServer(t, Options{MaxBatch: 1, MaxInFlight: 2})
	s.inFlight <- struct{}{}
	s.inFlight <- struct{}{}
	body := inferBody(t, "input", "FP32", []int{1, 1, 28, 28}, make([]float32, 784))
	resp, b := do(t, "POST", ts.URL+"/v2/models/lenet5/infer", body)
	if want := `{"error":"server busy: 2 inference requests in flight"}`; resp.StatusCode != 503 || string(b) != want || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("status %d, Retry-After %q, body %s; want 503, 1, %s", resp.StatusCode, resp.Header.Get("Retry-After"), b, want)
	}
	// Metadata is not an inference request: still served.
	if resp, _ := do(t, "GET", ts.URL+"/v2/models/lenet5", ""); resp.StatusCode != 200 {
		t.Errorf("metadata while full: status %d, want 200", resp.StatusCode)
	}
	<-s.inFlight
	if resp, b := do(t, "POST", ts.URL+"/v2/models/lenet5/infer", body); resp.StatusCode != 200 {
		t.Errorf("with a free slot: status %d (%s), want 200", resp.StatusCode, b)
	}
}

// TestMetrics checks the exposition format after a few requests: counters
// by model and code, cumulative histogram buckets ending in +Inf = _count.
func TestMetrics(t *testing.T) {
	_, ts := newTestServer(t, Options{MaxBatch: 1})
	body := inferBody(t, "input", "FP32", []int{1, 1, 28, 28}, make([]float32, 784))
	for range 3 {
		do(t, "POST", ts.URL+"/v2/models/lenet5/infer", body)
	}
	do(t, "POST", ts.URL+"/v2/models/lenet5/infer", "{")
	do(t, "GET", ts.URL+"/v2/health/live", "")
	resp, b := do(t, "GET", ts.URL+"/metrics", "")
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	text := string(b)
	for _, want := range []string{
		"# TYPE onnxkit_inference_requests_total counter\n",
		`onnxkit_inference_requests_total{model="lenet5",code="200"} 3` + "\n",
		`onnxkit_inference_requests_total{model="lenet5",code="400"} 1` + "\n",
		`onnxkit_http_requests_total{handler="health",code="200"} 1` + "\n",
		"# TYPE onnxkit_inference_duration_seconds histogram\n",
		`onnxkit_inference_duration_seconds_bucket{model="lenet5",le="+Inf"} 4` + "\n",
		`onnxkit_inference_duration_seconds_count{model="lenet5"} 4` + "\n",
		"# TYPE onnxkit_batch_size histogram\n",
		`onnxkit_batch_size_bucket{model="lenet5",le="1"} 3` + "\n",
		`onnxkit_batch_size_bucket{model="lenet5",le="+Inf"} 3` + "\n",
		`onnxkit_batch_size_sum{model="lenet5"} 3` + "\n",
		"onnxkit_inference_requests_in_flight 0\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q:\n%s", want, text)
		}
	}
	// Every line is a comment or "name{labels} value"; buckets never decrease.
	last := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if strings.HasPrefix(line, "# HELP ") || strings.HasPrefix(line, "# TYPE ") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || err != nil {
			t.Fatalf("line %q: no value", line)
		}
		if name, _, ok := strings.Cut(line, "_bucket{"); ok {
			if v < last[name] {
				t.Errorf("line %q: bucket below the previous %v", line, last[name])
			}
			last[name] = v
		}
	}
}

func TestQuoteLabel(t *testing.T) {
	if got, want := quoteLabel("a\\b\"c\nd"), `"a\\b\"c\nd"`; got != want {
		t.Errorf("quoteLabel = %s, want %s", got, want)
	}
}

// TestAccessLog checks one record per request with method, path, status,
// duration and bytes.
func TestAccessLog(t *testing.T) {
	var buf bytes.Buffer
	_, ts := newTestServer(t, Options{MaxBatch: 1, Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	do(t, "GET", ts.URL+"/v2/models/nope", "")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("log %q: %v", buf.String(), err)
	}
	for k, want := range map[string]any{"msg": "request", "method": "GET", "path": "/v2/models/nope", "status": 404.0, "bytes": 34.0} {
		if rec[k] != want {
			t.Errorf("log record %s = %v, want %v", k, rec[k], want)
		}
	}
	if d, ok := rec["duration_ms"].(float64); !ok || d < 0 {
		t.Errorf("log record duration_ms = %v, want a non-negative number", rec["duration_ms"])
	}
}

// TestPage checks the drawing page and its assets.
func TestPage(t *testing.T) {
	_, ts := newTestServer(t, Options{MaxBatch: 1})
	resp, b := do(t, "GET", ts.URL+"/", "")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	page := string(b)
	// LeNet5 is drawable; the affine model is not.
	for _, want := range []string{`<option value="lenet5">lenet5</option>`, `<canvas id="pad"`, `src="/static/page.js"`,
		`data-models="[{&#34;name&#34;:&#34;lenet5&#34;,&#34;input&#34;:&#34;input&#34;,&#34;shape&#34;:[1,1,28,28],&#34;output&#34;:&#34;logits&#34;,&#34;mean&#34;:0,&#34;std&#34;:1}]"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Errorf("page refers to an outside address")
	}
	for path, ct := range map[string]string{"/static/page.js": "text/javascript; charset=utf-8", "/static/page.css": "text/css; charset=utf-8"} {
		resp, _ := do(t, "GET", ts.URL+path, "")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != ct {
			t.Errorf("GET %s: %d %q, want 200 %q", path, resp.StatusCode, resp.Header.Get("Content-Type"), ct)
		}
	}
	for _, path := range []string{"/static/index.html", "/static/nope.js", "/static/../server.go", "/static/"} {
		if resp, _ := do(t, "GET", ts.URL+path, ""); resp.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
	if resp, _ := do(t, "POST", ts.URL+"/", ""); resp.StatusCode != 405 {
		t.Errorf("POST /: %d, want 405", resp.StatusCode)
	}
}

func TestNewErrors(t *testing.T) {
	s := affineModel(t)
	for _, tc := range []struct {
		models []Model
		opt    Options
		err    string
	}{
		{nil, Options{}, "serve: no models"},
		{[]Model{{Name: "a/b", Session: s}}, Options{}, `serve: model name "a/b": want letters, digits, '.', '_' and '-'`},
		{[]Model{{Name: "..", Session: s}}, Options{}, `serve: model name "..": want letters, digits, '.', '_' and '-'`},
		{[]Model{{Name: "a", Session: s}, {Name: "a", Session: s}}, Options{}, `serve: model "a" given twice`},
		{[]Model{{Name: "a"}}, Options{}, `serve: model "a": no session`},
		{[]Model{{Name: "a", Session: s}}, Options{MaxBatch: -1}, `serve: MaxBatch -1: want at least 1`},
	} {
		_, err := New(tc.models, tc.opt)
		if err == nil || err.Error() != tc.err {
			t.Errorf("New(%v) error %v, want %s", tc.models, err, tc.err)
		}
	}
}

func ExampleServer() {
	s, err := infer.Load("../testdata/pytorch/lenet5/model.onnx")
	if err != nil {
		panic(err)
	}
	srv, err := New([]Model{{Name: "lenet5", Session: s}}, Options{MaxBatch: 1})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/v2/models/lenet5")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(b))
	// Output:
	// 200 {"name":"lenet5","versions":["1"],"platform":"onnx","inputs":[{"name":"input","datatype":"FP32","shape":[-1,1,28,28]}],"outputs":[{"name":"logits","datatype":"FP32","shape":[-1,10]}]}
}

// A model's class names (from onnxkit train's metadata) are listed in its
// metadata as parameters.classes, and the drawing page's configuration
// carries them.
func TestClassNames(t *testing.T) {
	names := []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
	s, err := New([]Model{{Name: "lenet5", Session: loadLeNet5(t), Classes: names}}, Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer func() { ts.Close(); s.Close() }()
	res, err := http.Get(ts.URL + "/v2/models/lenet5")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var md struct {
		Parameters struct {
			Classes []string `json:"classes"`
		} `json:"parameters"`
	}
	if err := json.NewDecoder(res.Body).Decode(&md); err != nil || !slices.Equal(md.Parameters.Classes, names) {
		t.Errorf("model metadata parameters.classes = %v, %v; want %v", md.Parameters.Classes, err, names)
	}
	page, err := renderPage(s)
	if err != nil || !bytes.Contains(page, []byte("classes")) || !bytes.Contains(page, []byte("seven")) {
		t.Errorf("drawing page config lacks the class names (err %v)", err)
	}
}
