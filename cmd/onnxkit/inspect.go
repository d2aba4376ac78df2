package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/onnxkit/onnxkit/infer"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

var inspectCmd = &command{
	name:  "inspect",
	args:  "FILE.onnx",
	short: "describe a model: versions, producer, inputs and outputs, parameters, nodes",
	setup: func(fs *flag.FlagSet) func([]string) error {
		return func(args []string) error {
			if len(args) != 1 {
				return usagef("want one model file, got %d arguments", len(args))
			}
			m, err := onnx.ReadFile(args[0])
			if err != nil {
				return err
			}
			if m.Graph == nil {
				return fmt.Errorf("%s: model has no graph", args[0])
			}
			w := stdout
			fmt.Fprintf(w, "file:      %s\n", args[0])
			fmt.Fprintf(w, "ir:        %d\n", m.IRVersion)
			fmt.Fprintf(w, "producer:  %s %s\n", m.ProducerName, m.ProducerVersion)
			var opsets []string
			for _, o := range m.OpsetImports {
				d := o.Domain
				if d == "" {
					d = "ai.onnx"
				}
				opsets = append(opsets, fmt.Sprintf("%s %d", d, o.Version))
			}
			fmt.Fprintf(w, "opsets:    %s\n", strings.Join(opsets, ", "))
			for _, p := range m.Metadata {
				fmt.Fprintf(w, "metadata:  %s = %s\n", p.Key, p.Value)
			}
			inits := map[string]bool{}
			params := 0
			for _, in := range m.Graph.Initializers {
				inits[in.Name] = true
				params += in.Tensor.Len()
			}
			for _, vi := range m.Graph.Inputs {
				if !inits[vi.Name] {
					fmt.Fprintf(w, "input:     %s %s\n", vi.Name, valueType(vi))
				}
			}
			for _, vi := range m.Graph.Outputs {
				fmt.Fprintf(w, "output:    %s %s\n", vi.Name, valueType(vi))
			}
			fmt.Fprintf(w, "params:    %d in %d initializers\n", params, len(m.Graph.Initializers))
			fmt.Fprintf(w, "nodes:     %d\n", len(m.Graph.Nodes))
			for i, n := range m.Graph.Nodes {
				name := n.Name
				if name == "" {
					name = "-"
				}
				fmt.Fprintf(w, "  %3d  %-18s %-28s %s -> %s\n", i, n.OpType, name,
					strings.Join(n.Inputs, ", "), strings.Join(n.Outputs, ", "))
			}
			if _, err := infer.NewSession(m); err != nil {
				fmt.Fprintf(w, "runnable:  no: %v\n", err)
			} else {
				fmt.Fprintf(w, "runnable:  yes\n")
			}
			return nil
		}
	},
}

// valueType formats a declared type like float32[N x 1 x 28 x 28].
func valueType(vi *onnx.ValueInfo) string {
	dt := vi.DType.String()
	if vi.DType == tensor.Invalid {
		dt = onnx.ElemTypeName(vi.ElemType)
	}
	if !vi.HasShape {
		return dt + "[?]"
	}
	dims := make([]string, len(vi.Shape))
	for i, d := range vi.Shape {
		switch {
		case d.Param != "":
			dims[i] = d.Param
		case d.Value >= 0:
			dims[i] = fmt.Sprint(d.Value)
		default:
			dims[i] = "?"
		}
	}
	return dt + "[" + strings.Join(dims, " x ") + "]"
}

var runCmd = &command{
	name:  "run",
	args:  "",
	short: "run a model once on inputs from .pb tensor files and write its outputs",
	setup: func(fs *flag.FlagSet) func([]string) error {
		model := fs.String("model", "", "the ONNX model `file`")
		var inputs inputFlags
		fs.Var(&inputs, "input", "an input as `NAME=FILE.pb` (repeatable); NAME may be omitted for a one-input model")
		outDir := fs.String("output", "", "write each output to `DIR`/output_<i>.pb")
		show := fs.Int("n", 16, "print at most `N` values of each output (-1: all)")
		jsonOut := fs.Bool("json", false, "print the outputs, every value, as JSON")
		return func(args []string) error {
			if *model == "" {
				return usagef("-model is required")
			}
			if len(args) > 0 {
				return usagef("unexpected arguments %q", args)
			}
			s, err := sessionOptions().Load(*model)
			if err != nil {
				return err
			}
			feeds := map[string]*tensor.Tensor{}
			for _, in := range inputs {
				name, path, ok := strings.Cut(in, "=")
				if !ok {
					path, name = in, ""
				}
				if name == "" {
					if len(s.Inputs()) != 1 {
						return usagef("-input %s: the model has %d inputs, name the one this file is for", in, len(s.Inputs()))
					}
					name = s.Inputs()[0].Name
				}
				_, t, err := onnx.ReadTensorFile(path)
				if err != nil {
					return fmt.Errorf("-input %s: %w", in, err)
				}
				feeds[name] = t
			}
			outs, err := s.Run(feeds)
			if err != nil {
				return err
			}
			if *outDir != "" {
				if err := os.MkdirAll(*outDir, 0o755); err != nil {
					return err
				}
			}
			type output struct {
				Name  string      `json:"name"`
				DType string      `json:"dtype"`
				Shape []int       `json:"shape"`
				Data  []jsonFloat `json:"data"`
			}
			var all []output
			for i, vi := range s.Outputs() {
				t := outs[vi.Name]
				if *jsonOut {
					o := output{Name: vi.Name, DType: t.DType.String(), Shape: t.Shape, Data: make([]jsonFloat, t.Len())}
					for j := range o.Data {
						o.Data[j] = jsonFloat(t.Float64At(j))
					}
					all = append(all, o)
				} else {
					fmt.Fprintf(stdout, "%s: %v\n%s\n", vi.Name, t, formatValues(t, *show))
				}
				if *outDir != "" {
					path := filepath.Join(*outDir, fmt.Sprintf("output_%d.pb", i))
					if err := onnx.WriteTensorFile(path, vi.Name, t); err != nil {
						return err
					}
				}
			}
			if *jsonOut {
				return printJSON(map[string]any{"outputs": all})
			}
			return nil
		}
	},
}

// formatValues prints the first n values of t (all of them when n < 0) in
// brackets, with a count of the rest.
func formatValues(t *tensor.Tensor, n int) string {
	var b strings.Builder
	b.WriteByte('[')
	total := t.Len()
	if n < 0 || n > total {
		n = total
	}
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatFloat(t.Float64At(i), 'g', 6, 64))
	}
	if n < total {
		fmt.Fprintf(&b, " ... %d more", total-n)
	}
	b.WriteByte(']')
	return b.String()
}

// jsonFloat is a number that JSON can carry even when it is NaN or
// infinite: those are written as the strings "NaN", "+Inf" and "-Inf".
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	x := float64(f)
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return []byte(`"` + strconv.FormatFloat(x, 'g', -1, 64) + `"`), nil
	}
	return strconv.AppendFloat(nil, x, 'g', -1, 64), nil
}

// inputFlags collects repeated -input flags.
type inputFlags []string

func (f *inputFlags) String() string     { return strings.Join(*f, " ") }
func (f *inputFlags) Set(v string) error { *f = append(*f, v); return nil }
