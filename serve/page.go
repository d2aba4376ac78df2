package serve

import (
	"bytes"
	"embed"
	"encoding/json"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"

	"github.com/onnxkit/onnxkit/tensor"
)

// static holds the drawing page: its template, script and style sheet.
//
//go:embed static
var static embed.FS

var pageTemplate = template.Must(template.ParseFS(static, "static/index.html"))

// pageModel is what the drawing page needs to know of a model it can feed.
type pageModel struct {
	Name   string  `json:"name"`
	Input  string  `json:"input"`
	Shape  []int   `json:"shape"` // of one image: [1, 1, 28, 28] or [1, 784]
	Output string  `json:"output"`
	Mean   float32 `json:"mean"`
	Std    float32 `json:"std"`
	// Classes names the scores when the model records names.
	Classes []string `json:"classes,omitempty"`
}

// drawable describes m for the page when it looks like an MNIST
// classifier: one float32 input of [N x 1 x 28 x 28] or [N x 784] images
// (N symbolic or 1) and a first output of [N x 10] scores.
func drawable(m *model) (pageModel, bool) {
	if len(m.inputs) != 1 || len(m.Session.Outputs()) == 0 {
		return pageModel{}, false
	}
	in, out := m.inputs[0], m.Session.Outputs()[0]
	if in.DType != tensor.Float32 || !in.HasShape || len(in.Shape) == 0 {
		return pageModel{}, false
	}
	dims := describeValue(in).Shape
	if dims[0] != -1 && dims[0] != 1 {
		return pageModel{}, false
	}
	var shape []int
	switch {
	case len(dims) == 4 && dims[1] == 1 && dims[2] == 28 && dims[3] == 28:
		shape = []int{1, 1, 28, 28}
	case len(dims) == 2 && dims[1] == 784:
		shape = []int{1, 784}
	default:
		return pageModel{}, false
	}
	if od := describeValue(out).Shape; out.HasShape && (len(od) != 2 || (od[1] != 10 && od[1] != -1)) {
		return pageModel{}, false
	}
	return pageModel{Name: m.Name, Input: in.Name, Shape: shape, Output: out.Name, Mean: m.Mean, Std: m.Std, Classes: m.Classes}, true
}

// renderPage renders the drawing page for the server's models.
func renderPage(s *Server) ([]byte, error) {
	models := []pageModel{}
	for _, name := range s.names {
		if pm, ok := drawable(s.models[name]); ok {
			models = append(models, pm)
		}
	}
	cfg, err := json.Marshal(models)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	err = pageTemplate.Execute(&b, struct {
		Name   string
		Models []pageModel
		Config string
	}{s.opt.Name, models, string(cfg)})
	return b.Bytes(), err
}

// serveStatic serves the page's script and style sheet.
func serveStatic(w http.ResponseWriter, r *http.Request, name string) {
	if path.Ext(name) == ".html" {
		writeError(w, http.StatusNotFound, "no such path: %s", r.URL.Path)
		return
	}
	b, err := fs.ReadFile(static, "static/"+name)
	if err != nil {
		writeError(w, http.StatusNotFound, "no such path: %s", r.URL.Path)
		return
	}
	w.Header().Set("Content-Type", mime.TypeByExtension(path.Ext(name)))
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}
