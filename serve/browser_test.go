package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

var screenshots = flag.String("screenshots", "", "TestBrowser writes its screenshots to this `folder` (default: a temporary one)")

// browserTools finds node, Chromium and playwright-core (in the repository's
// .tools/node_modules, where .ci/run installs it, or on NODE_PATH). It
// returns a reason when one is missing.
func browserTools() (node, chromium, nodePath, missing string) {
	node, err := exec.LookPath("node")
	if err != nil {
		return "", "", "", "node is not installed"
	}
	chromium = os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		return "", "", "", "Chromium is not installed (apt-get install chromium, or set CHROMIUM)"
	}
	tools, _ := filepath.Abs("../.tools/node_modules")
	for _, dir := range append([]string{tools}, filepath.SplitList(os.Getenv("NODE_PATH"))...) {
		if _, err := os.Stat(filepath.Join(dir, "playwright-core", "package.json")); err == nil {
			return node, chromium, dir, ""
		}
	}
	return "", "", "", "playwright-core is not installed (npm install --prefix .tools playwright-core)"
}

// TestBrowser draws digits with the mouse on the page in headless Chromium
// (driven by playwright-core from serve/testdata/draw.cjs) and checks the
// prediction the page shows for each, with LeNet5 behind it. It skips when
// the tools are missing, except under CI=true, where it fails.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: skipped in -short mode")
	}
	node, chromium, nodePath, missing := browserTools()
	if missing != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and %s", missing)
		}
		t.Skip(missing)
	}
	_, ts := newTestServer(t, Options{})
	dir := *screenshots
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	dir, _ = filepath.Abs(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "testdata/draw.cjs", ts.URL+"/", dir)
	cmd.Env = append(os.Environ(), "NODE_PATH="+nodePath, "CHROMIUM="+chromium)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("draw.cjs: %v\n%s", err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Logf("draw.cjs stderr:\n%s", stderr.String())
	}
	var results []struct {
		Digit, Input, State, Status, Shown, Class, Confidence, Screenshot string
		Top, AfterStroke                                                  []string
	}
	if err := json.Unmarshal(stdout.Bytes(), &results); err != nil {
		t.Fatalf("draw.cjs output %q: %v", stdout.String(), err)
	}
	if len(results) == 0 {
		t.Fatal("draw.cjs drew nothing")
	}
	for _, r := range results {
		t.Logf("drew %s (%s, %d strokes, prediction after each %q): page shows %q (%s), top %q, status %q; screenshot %s",
			r.Digit, r.Input, len(r.AfterStroke), r.AfterStroke, r.Shown, r.Confidence, r.Top, r.Status, r.Screenshot)
		for i, c := range r.AfterStroke {
			if c == "" {
				t.Errorf("drew %s: no prediction shown after stroke %d", r.Digit, i+1)
			}
		}
		if r.State != "done" || r.Class != r.Digit || r.Shown != r.Digit || len(r.Top) != 3 {
			t.Errorf("drew %s: page state %q shows %q (class %q, top %q), want %s with 3 classes listed", r.Digit, r.State, r.Shown, r.Class, r.Top, r.Digit)
		}
	}
}
