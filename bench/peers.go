package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// Where the peers come from. The versions are the ones the targets were set
// against (see /work/shared/ENVIRONMENT.md in the project's notes).
const (
	torchPython   = "/usr/bin/python3" // Debian's interpreter, which python3-torch belongs to
	ortPackage    = "onnxruntime-node@1.30.0"
	peersDir      = ".peers" // gitignored: npm's node_modules and the Gorgonia binary
	gorgoniaBin   = "gorgonia-lenet5"
	aptTorch      = "python3-torch"
	aptOpenBLAS   = "libopenblas0-pthread"
	aptNode       = "nodejs"
	ortModulesEnv = "ORT_NODE_MODULES" // a node_modules folder holding onnxruntime-node
)

// peers is what findPeers found.
type peers struct {
	python       string // torchPython when torch imports
	torchVersion string
	blasNote     string // set when PyTorch runs on a slow BLAS

	node       string
	ortModules string // the node_modules folder holding onnxruntime-node
	ortVersion string

	gorgonia        string // the built LeNet5 trainer
	gorgoniaVersion string
}

// findPeers finds (and, with -install, installs) the peers in need
// ("torch", "ort", "gorgonia"); what stays missing goes to h.missing with
// the command that would install it.
func (h *harness) findPeers(need map[string]bool) {
	if need["torch"] {
		if err := h.findTorch(); err != nil {
			h.missing["torch"] = err.Error()
		}
	}
	if need["ort"] {
		if err := h.findORT(); err != nil {
			h.missing["ort"] = err.Error()
		}
	}
	if need["gorgonia"] {
		if err := h.buildGorgonia(); err != nil {
			h.missing["gorgonia"] = err.Error()
		}
	}
}

// canApt reports whether apt-get can install packages here (root, apt-get
// on PATH).
func canApt() bool {
	_, err := exec.LookPath("apt-get")
	return err == nil && os.Geteuid() == 0
}

// aptInstall installs pkgs with apt-get, running apt-get update first only
// when the plain install fails.
func (h *harness) aptInstall(pkgs ...string) error {
	args := append([]string{"install", "-y", "--no-install-recommends"}, pkgs...)
	h.cfg.logf("installing: apt-get %s", strings.Join(args, " "))
	run := func(a ...string) error {
		cmd := exec.Command("apt-get", a...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("apt-get %s: %v%s", strings.Join(a, " "), err, tail(string(out), 4))
		}
		return nil
	}
	if run(args...) == nil {
		return nil
	}
	if err := run("update"); err != nil {
		return err
	}
	return run(args...)
}

// debInstalled reports whether a Debian package is installed; true when
// dpkg-query is not there to ask.
func debInstalled(pkg string) bool {
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		return true
	}
	out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", pkg).Output()
	return err == nil && strings.Contains(string(out), "install ok installed")
}

func torchProbe() (string, error) {
	out, err := exec.Command(torchPython, "-c", "import torch, numpy; print(torch.__version__)").Output()
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

func (h *harness) findTorch() error {
	v, err := torchProbe()
	var pkgs []string
	if err != nil {
		pkgs = append(pkgs, aptTorch)
	}
	if !debInstalled(aptOpenBLAS) {
		pkgs = append(pkgs, aptOpenBLAS)
	}
	if len(pkgs) > 0 && h.cfg.install && canApt() {
		if ierr := h.aptInstall(pkgs...); ierr != nil {
			h.cfg.logf("%v", ierr)
		}
		v, err = torchProbe()
	}
	if err != nil {
		return fmt.Errorf("PyTorch for %s: install it with: apt-get install -y %s %s", torchPython, aptTorch, aptOpenBLAS)
	}
	if !debInstalled(aptOpenBLAS) {
		h.peers.blasNote = "PyTorch runs on the reference BLAS (slow); apt-get install -y " + aptOpenBLAS
	}
	h.peers.python, h.peers.torchVersion = torchPython, v
	return nil
}

// ortCandidates are the node_modules folders searched for onnxruntime-node,
// in order.
func ortCandidates() []string {
	var c []string
	if d := os.Getenv(ortModulesEnv); d != "" {
		c = append(c, d)
	}
	return append(c, filepath.Join(peersDir, "node_modules"), "/tmp/ort/node_modules")
}

// ortVersionIn returns the version of onnxruntime-node in a node_modules
// folder, or "" when it is not there.
func ortVersionIn(modules string) string {
	b, err := os.ReadFile(filepath.Join(modules, "onnxruntime-node", "package.json"))
	if err != nil {
		return ""
	}
	var p struct{ Version string }
	if json.Unmarshal(b, &p) != nil || p.Version == "" {
		return ""
	}
	return p.Version
}

func (h *harness) findORT() error {
	node, err := exec.LookPath("node")
	if err != nil && h.cfg.install && canApt() {
		if ierr := h.aptInstall(aptNode, "npm"); ierr != nil {
			h.cfg.logf("%v", ierr)
		}
		node, err = exec.LookPath("node")
	}
	if err != nil {
		return fmt.Errorf("Node.js for onnxruntime-node: install it with: apt-get install -y %s npm", aptNode)
	}
	find := func() bool {
		for _, d := range ortCandidates() {
			if v := ortVersionIn(d); v != "" {
				abs, err := filepath.Abs(d)
				if err != nil {
					abs = d
				}
				h.peers.ortModules, h.peers.ortVersion = abs, v
				return true
			}
		}
		return false
	}
	if !find() && h.cfg.install {
		if npm, err := exec.LookPath("npm"); err == nil {
			h.cfg.logf("installing: npm install --prefix %s --ignore-scripts %s", peersDir, ortPackage)
			if err := os.MkdirAll(peersDir, 0o755); err != nil {
				return err
			}
			cmd := exec.Command(npm, "install", "--prefix", peersDir, "--ignore-scripts", "--no-audit", "--no-fund", ortPackage)
			if out, err := cmd.CombinedOutput(); err != nil {
				h.cfg.logf("npm install: %v%s", err, tail(string(out), 4))
			}
		}
	}
	if h.peers.ortModules == "" && !find() {
		return fmt.Errorf("onnxruntime-node: install it with: npm install --prefix bench/%s --ignore-scripts %s (or set %s to a node_modules folder holding it)", peersDir, ortPackage, ortModulesEnv)
	}
	h.peers.node = node
	return nil
}

var gorgoniaRequire = regexp.MustCompile(`(?m)^\s*gorgonia\.org/gorgonia (v\S+)`)

// buildGorgonia builds ./gorgonia into .peers (the go command fetches
// Gorgonia into the module cache when it is not there).
func (h *harness) buildGorgonia() error {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("the go command is not on PATH, needed to build ./gorgonia")
	}
	if err := os.MkdirAll(peersDir, 0o755); err != nil {
		return err
	}
	bin := filepath.Join(peersDir, gorgoniaBin)
	h.cfg.logf("building the Gorgonia peer: go build -o %s ./gorgonia", bin)
	out, err := exec.Command(goCmd, "build", "-o", bin, "./gorgonia").CombinedOutput()
	if err != nil {
		return fmt.Errorf("Gorgonia LeNet5 trainer: go build -o %s ./gorgonia (in bench/): %v%s", bin, err, tail(string(out), 6))
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	h.peers.gorgonia = abs
	h.peers.gorgoniaVersion = "?"
	if b, err := os.ReadFile("go.mod"); err == nil {
		if m := gorgoniaRequire.FindSubmatch(b); m != nil {
			h.peers.gorgoniaVersion = string(m[1])
		}
	}
	return nil
}
