package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/onnxkit/onnxkit/infer"
)

var opsCmd = &command{
	name:  "ops",
	args:  "",
	short: "list the ONNX ops and opset versions that onnxkit runs",
	setup: func(fs *flag.FlagSet) func([]string) error {
		markdown := fs.Bool("markdown", false, "print a Markdown table (README.md's)")
		jsonOut := fs.Bool("json", false, "print the list as JSON")
		return func(args []string) error {
			if len(args) > 0 {
				return usagef("unexpected arguments %q", args)
			}
			ops := infer.Ops()
			switch {
			case *jsonOut:
				type op struct {
					Op    string `json:"op"`
					Since int64  `json:"since"`
					Until int64  `json:"until,omitempty"`
				}
				list := make([]op, len(ops))
				for i, o := range ops {
					list[i] = op{o.OpType, o.Since, o.Until}
				}
				return printJSON(map[string]any{"domain": "ai.onnx", "ops": list})
			case *markdown:
				io.WriteString(stdout, opsMarkdown(ops))
			default:
				for _, o := range ops {
					fmt.Fprintf(stdout, "%-20s %s\n", o.OpType, opsetRange(o))
				}
				fmt.Fprintf(stdout, "%d op versions of the default ONNX domain (ai.onnx)\n", len(ops))
			}
			return nil
		}
	},
}

// opsMarkdown renders ops as README.md's table of supported ops.
func opsMarkdown(ops []infer.OpSupport) string {
	var b strings.Builder
	b.WriteString("| op | opsets |\n|---|---|\n")
	for _, o := range ops {
		fmt.Fprintf(&b, "| %s | %s |\n", o.OpType, opsetRange(o))
	}
	return b.String()
}

// opsetRange is "7+" for versions 7 and later, "7-12" for 7 to 12.
func opsetRange(o infer.OpSupport) string {
	if o.Until == 0 {
		return fmt.Sprintf("%d+", o.Since)
	}
	return fmt.Sprintf("%d-%d", o.Since, o.Until)
}
