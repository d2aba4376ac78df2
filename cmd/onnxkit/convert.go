package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/onnxkit/onnxkit/convert"
	"github.com/onnxkit/onnxkit/internal/atomicfile"
	"github.com/onnxkit/onnxkit/onnx"
)

var convertCmd = &command{
	name:  "convert",
	args:  "IN.onnx OUT.onnx",
	short: "rewrite a model for another opset or runtime without changing what it computes",
	setup: func(fs *flag.FlagSet) func([]string) error {
		opset := fs.Int64("opset", 0, fmt.Sprintf("target opset of the default domain, %d to %d (0: keep, or the target's newest)", convert.MinOpset, convert.MaxOpset))
		target := fs.String("for", "", "runtime to rewrite for: "+strings.Join(convert.Targets(), ", "))
		batch := fs.Int("batch", 0, "fix the symbolic batch dimension to this size (lets -1 reshapes become static)")
		return func(args []string) error {
			if len(args) != 2 {
				return usagef("want IN.onnx and OUT.onnx")
			}
			if *opset != 0 && (*opset < convert.MinOpset || *opset > convert.MaxOpset) {
				return usagef("-opset %d: want %d to %d", *opset, convert.MinOpset, convert.MaxOpset)
			}
			if *batch < 0 {
				return usagef("-batch must not be negative")
			}
			m, err := onnx.ReadFile(args[0])
			if err != nil {
				return err
			}
			out, err := convert.Convert(m, convert.Options{Opset: *opset, Target: *target, Batch: *batch})
			if err != nil {
				return err
			}
			b, err := onnx.Encode(out)
			if err != nil {
				return err
			}
			if err := atomicfile.WriteFile(args[1], b); err != nil {
				return err
			}
			from, _ := m.Opset("")
			to, _ := out.Opset("")
			fmt.Fprintf(stdout, "wrote %s (opset %d -> %d, %d -> %d nodes)\n", args[1], from, to, len(m.Graph.Nodes), len(out.Graph.Nodes))
			return nil
		}
	},
}
