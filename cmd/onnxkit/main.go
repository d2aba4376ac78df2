// Command onnxkit trains the MNIST tutorial's models in Go, exports them to
// ONNX, runs ONNX models and verifies them against reference outputs.
//
// Usage:
//
//	onnxkit <command> [flags] [args]
//
// Run "onnxkit help" for the list of commands and "onnxkit <command> -h" for
// a command's flags. Exit status is 2 for usage errors and 1 for failures.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/onnxkit/onnxkit/infer"
	"github.com/onnxkit/onnxkit/internal/sysmem"
)

// command is one subcommand: its flags are defined by setup, run does the work.
type command struct {
	name  string
	args  string // synopsis of the arguments after the flags
	short string
	setup func(fs *flag.FlagSet) func(args []string) error
}

// commands is the table of subcommands, in the order help lists them.
var commands = []*command{
	trainCmd,
	evalCmd,
	predictCmd,
	showCmd,
	verifyCmd,
	inspectCmd,
	runCmd,
	benchCmd,
	opsCmd,
	serveCmd,
	convertCmd,
	quantizeCmd,
}

// usageError is a misuse of the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// stdout is where commands print results, stderr where they print
// progress and per-item errors; tests replace them.
var (
	stdout io.Writer = os.Stdout
	stderr io.Writer = os.Stderr
)

func run(args []string, out, errOut io.Writer) int {
	stdout, stderr = out, errOut
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c := lookup(args[1]); c != nil {
				fs := newFlagSet(c, errOut)
				c.setup(fs)
				fs.Usage()
				return 0
			}
		}
		usage(errOut)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c := lookup(args[0])
	if c == nil {
		fmt.Fprintf(errOut, "onnxkit: unknown command %q\nRun 'onnxkit help' for usage.\n", args[0])
		return 2
	}
	fs := newFlagSet(c, errOut)
	do := c.setup(fs)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := do(fs.Args()); err != nil {
		var code exitCode
		if errors.As(err, &code) {
			return int(code)
		}
		fmt.Fprintf(errOut, "onnxkit %s: %v\n", c.name, err)
		if errors.As(err, new(interruptedError)) {
			return 130
		}
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(errOut, "Run 'onnxkit help %s' for usage.\n", c.name)
			return 2
		}
		return 1
	}
	return 0
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func newFlagSet(c *command, errOut io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.Usage = func() {
		fmt.Fprintf(errOut, "usage: onnxkit %s [flags] %s\n\n%s\n\nFlags:\n", c.name, c.args, c.short)
		fs.PrintDefaults()
	}
	return fs
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "onnxkit trains MNIST models in Go, exports and runs ONNX models, and verifies them.\n\nUsage:\n\n\tonnxkit <command> [flags] [args]\n\nCommands:\n\n")
	for _, c := range commands {
		fmt.Fprintf(w, "\t%-8s %s\n", c.name, c.short)
	}
	fmt.Fprintf(w, "\nRun 'onnxkit help <command>' for a command's flags.\n")
}

// sessionOptions are the limits of every Session the commands make: a run
// may hold at most a quarter of the machine's memory (2 GiB when that is
// unknown), so that a hostile model ends with an error naming its node
// instead of the process running out of memory. The limit is checked after
// each node, so a run can overshoot it by one node's outputs.
func sessionOptions() infer.Options {
	budget := sysmem.Total() / 4
	if budget <= 0 {
		budget = 2 << 30
	}
	return infer.Options{MaxSessionBytes: budget}
}

// exitCode ends a command with a status and no further message (the command
// has already printed its results).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// printJSON writes v to stdout as one line of JSON, so that a command
// printing several objects writes JSON Lines.
func printJSON(v any) error {
	return json.NewEncoder(stdout).Encode(v)
}

// interruptedError ends a command stopped by an interrupt: its message is
// printed and the exit status is 130, the shell's status for SIGINT.
type interruptedError struct{ error }

func (e interruptedError) Unwrap() error { return e.error }
