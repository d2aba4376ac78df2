package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMEGoSnippets builds every ```go block of the README as a program,
// so that what a reader pastes compiles (before: a snippet used an
// undefined x and left a variable unused).
func TestREADMEGoSnippets(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := 0
	for rest := string(data); ; {
		_, after, ok := strings.Cut(rest, "```go\n")
		if !ok {
			break
		}
		code, next, ok := strings.Cut(after, "```")
		if !ok {
			t.Fatal("README: a ```go block is not closed")
		}
		rest = next
		blocks++
		if !strings.HasPrefix(code, "package ") {
			t.Errorf("README Go block %d is not a whole program (want it to start with a package clause):\n%s", blocks, code)
			continue
		}
		file := filepath.Join(t.TempDir(), "main.go")
		if err := os.WriteFile(file, []byte(code), 0o644); err != nil {
			t.Fatal(err)
		}
		// Built from the module root, so that its imports resolve to this
		// module and its go.mod.
		cmd := exec.Command("go", "build", "-o", os.DevNull, file)
		cmd.Dir = "../.."
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("README Go block %d does not build: %v\n%s\n%s", blocks, err, out, code)
		}
	}
	if blocks == 0 {
		t.Error("README has no ```go block")
	}
}
