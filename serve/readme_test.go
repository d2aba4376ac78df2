package serve

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/infer"
)

// TestREADME runs the README's serve example: the model its serve command
// names, the file its curl command sends, and the answer it shows, which
// must be the server's exactly and PyTorch's within 1e-4 (the file is
// MNIST's first test image, test_data_set_0 of the LeNet5 export, whose
// output_0.pb PyTorch wrote).
func TestREADME(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	serveCmd := regexp.MustCompile(`(?m)^    go run \./cmd/onnxkit serve .*-model (\w+)=(\S+)$`).FindStringSubmatch(readme)
	curl := regexp.MustCompile(`(?m)^    curl -s -H 'Content-Type: application/json' -d @(\S+) http://127\.0\.0\.1:8080(/v2/models/(\w+)/infer)$`).FindStringSubmatch(readme)
	answer := regexp.MustCompile(`(?m)^    (\{"model_name":.*)$`).FindStringSubmatch(readme)
	if serveCmd == nil || curl == nil || answer == nil {
		t.Fatalf("README: no serve command (%q), curl command (%q) or answer (%q)", serveCmd, curl, answer)
	}
	if curl[3] != serveCmd[1] {
		t.Fatalf("README: curl asks model %q, serve names %q", curl[3], serveCmd[1])
	}
	sess, err := infer.Load("../" + serveCmd[2])
	if err != nil {
		t.Fatal(err)
	}
	s, err := New([]Model{{Name: serveCmd[1], Session: sess}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer s.Close()
	defer ts.Close()
	body, err := os.ReadFile("../" + curl[1])
	if err != nil {
		t.Fatal(err)
	}
	var req inferRequest
	if err := json.Unmarshal(body, &req); err != nil || len(req.Inputs) != 1 {
		t.Fatalf("%s: %v", curl[1], err)
	}
	x, err := decodeTensor(&req.Inputs[0], 784)
	if want := readPB(t, lenet5Set0+"/input_0.pb"); err != nil || !sameBits(x, want) {
		t.Errorf("%s: %v, want the pixels of %s/input_0.pb (%v)", curl[1], x, lenet5Set0, err)
	}
	var shown inferResponse
	if err := json.Unmarshal([]byte(answer[1]), &shown); err != nil || len(shown.Outputs) != 1 {
		t.Fatalf("README's answer: %v", err)
	}
	ref := readPB(t, lenet5Set0+"/output_0.pb")
	for i, v := range float32s(t, shown.Outputs[0].Data) {
		if d := math.Abs(float64(v - ref.F32[i])); d > 1e-4 {
			t.Errorf("README's logits[%d] = %v, PyTorch's %v", i, v, ref.F32[i])
		}
	}
	resp, got := do(t, http.MethodPost, ts.URL+curl[2], string(body))
	if resp.StatusCode != 200 || strings.TrimSpace(string(got)) != answer[1] {
		t.Errorf("README's request: status %d, answer\n%s\nwant 200 and README's\n%s", resp.StatusCode, got, answer[1])
	}
}
