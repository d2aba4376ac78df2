package infer

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

// opsTable renders Ops as the Markdown table README.md shows.
func opsTable() string {
	var b strings.Builder
	b.WriteString("| op | opsets |\n|---|---|\n")
	for _, o := range Ops() {
		r := fmt.Sprintf("%d+", o.Since)
		if o.Until != 0 {
			r = fmt.Sprintf("%d-%d", o.Since, o.Until)
		}
		fmt.Fprintf(&b, "| %s | %s |\n", o.OpType, r)
	}
	return b.String()
}

const (
	opsBegin = "<!-- ops:begin (generated: go test ./infer -run OpsTable -update-readme) -->\n"
	opsEnd   = "<!-- ops:end -->"
)

var updateReadme = flag.Bool("update-readme", false, "rewrite the ops table in ../README.md")

// The README's table of supported ops is the registry's.
func TestOpsTableInReadme(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Skip(err)
	}
	s := string(data)
	i, j := strings.Index(s, opsBegin), strings.Index(s, opsEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md has no ops table between %q and %q", opsBegin, opsEnd)
	}
	want := opsTable()
	if got := s[i+len(opsBegin) : j]; got != want {
		if *updateReadme {
			s = s[:i+len(opsBegin)] + want + s[j:]
			if err := os.WriteFile("../README.md", []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("README.md's ops table is out of date; run go test ./infer -run OpsTable -update-readme")
	}
}
