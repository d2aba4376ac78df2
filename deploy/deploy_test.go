package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// servingRuntime and inferenceService are the parts of KServe's resources
// the test reads.
type servingRuntime struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct{ Name string }
	Spec       struct {
		SupportedModelFormats []struct{ Name string } `yaml:"supportedModelFormats"`
		ProtocolVersions      []string                `yaml:"protocolVersions"`
		Containers            []container
	}
}

type container struct {
	Name  string
	Image string
	Args  []string
	Ports []struct {
		ContainerPort int `yaml:"containerPort"`
	}
	LivenessProbe  probe `yaml:"livenessProbe"`
	ReadinessProbe probe `yaml:"readinessProbe"`
}

type probe struct {
	HTTPGet struct {
		Path string
		Port int
	} `yaml:"httpGet"`
}

type inferenceService struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct{ Name string }
	Spec       struct {
		Predictor struct {
			MinReplicas int `yaml:"minReplicas"`
			MaxReplicas int `yaml:"maxReplicas"`
			Model       struct {
				ModelFormat     struct{ Name string } `yaml:"modelFormat"`
				Runtime         string
				ProtocolVersion string `yaml:"protocolVersion"`
				StorageURI      string `yaml:"storageUri"`
			}
		}
	}
}

// decodeOne parses one YAML document into v, refusing unknown fields at
// the levels v describes.
func decodeOne(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := yaml.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var extra any
	if err := d.Decode(&extra); !errors.Is(err, io.EOF) {
		t.Fatalf("%s: want one YAML document", path)
	}
}

// serveFlags builds onnxkit and returns the flags of `onnxkit serve -h`.
func serveFlags(t *testing.T) (bin string, flags map[string]bool) {
	t.Helper()
	bin = filepath.Join(t.TempDir(), "onnxkit")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/onnxkit").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, _ := exec.Command(bin, "serve", "-h").CombinedOutput()
	flags = make(map[string]bool)
	sc := bufio.NewScanner(bytes.NewReader(out))
	re := regexp.MustCompile(`^  -([a-z-]+)`)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			flags[m[1]] = true
		}
	}
	if !flags["addr"] || !flags["model"] {
		t.Fatalf("onnxkit serve -h lists no -addr or -model:\n%s", out)
	}
	return bin, flags
}

// flagName is the name of a "-name=value" argument.
func flagName(t *testing.T, arg string) string {
	t.Helper()
	name, _, ok := strings.Cut(strings.TrimPrefix(arg, "-"), "=")
	if !strings.HasPrefix(arg, "-") || !ok {
		t.Fatalf("argument %q: want -name=value (one argument each, so that no value is read as a flag)", arg)
	}
	return name
}

// checkArgs checks that onnxkit serve accepts args as flags: run with
// them, it must get past the command line (exit 2 is a usage error) and
// fail only at loading the model, which is not there.
func checkArgs(t *testing.T, bin, where string, args []string, model string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), model) {
		t.Errorf("%s: onnxkit serve %q: %v\n%s\nwant exit 1 for the missing model %s", where, args, err, out, model)
	}
}

// port is the port of an -addr value.
func port(t *testing.T, addr string) int {
	t.Helper()
	i := strings.LastIndexByte(addr, ':')
	p, err := strconv.Atoi(addr[i+1:])
	if i < 0 || err != nil {
		t.Fatalf("-addr=%s: no port", addr)
	}
	return p
}

func TestKServe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin, flags := serveFlags(t)

	var rt servingRuntime
	decodeOne(t, "kserve/servingruntime.yaml", &rt)
	if rt.APIVersion != "serving.kserve.io/v1alpha1" || rt.Kind != "ServingRuntime" || rt.Metadata.Name == "" {
		t.Errorf("servingruntime.yaml: %s %s %q, want a named serving.kserve.io/v1alpha1 ServingRuntime", rt.APIVersion, rt.Kind, rt.Metadata.Name)
	}
	if !slices.Equal(rt.Spec.ProtocolVersions, []string{"v2"}) {
		t.Errorf("protocolVersions %v, want [v2]", rt.Spec.ProtocolVersions)
	}
	if len(rt.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(rt.Spec.Containers))
	}
	c := rt.Spec.Containers[0]
	addr := ""
	var model string
	for _, a := range c.Args {
		name := flagName(t, a)
		if !flags[name] {
			t.Errorf("servingruntime.yaml: argument %q: onnxkit serve has no flag -%s", a, name)
		}
		_, v, _ := strings.Cut(a, "=")
		switch name {
		case "addr":
			addr = v
		case "model":
			_, model, _ = strings.Cut(v, "=")
		}
	}
	if addr == "" || model == "" {
		t.Fatalf("servingruntime.yaml: args %q lack -addr or -model", c.Args)
	}
	if !strings.HasPrefix(model, "/mnt/models/") {
		t.Errorf("model file %s: want it under /mnt/models, where KServe puts the model", model)
	}
	checkArgs(t, bin, "servingruntime.yaml", slices.Concat(
		[]string{"-addr=127.0.0.1:0"}, slices.DeleteFunc(slices.Clone(c.Args), func(a string) bool { return strings.HasPrefix(a, "-addr=") })), model)
	p := port(t, addr)
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != p {
		t.Errorf("ports %v, want the one containerPort %d of -addr=%s", c.Ports, p, addr)
	}
	for _, pr := range []struct {
		name string
		p    probe
		path string
	}{{"livenessProbe", c.LivenessProbe, "/v2/health/live"}, {"readinessProbe", c.ReadinessProbe, "/v2/health/ready"}} {
		if pr.p.HTTPGet.Path != pr.path || pr.p.HTTPGet.Port != p {
			t.Errorf("%s: GET %s on port %d, want %s on %d", pr.name, pr.p.HTTPGet.Path, pr.p.HTTPGet.Port, pr.path, p)
		}
	}

	var is inferenceService
	decodeOne(t, "kserve/inferenceservice.yaml", &is)
	pred := is.Spec.Predictor
	switch {
	case is.APIVersion != "serving.kserve.io/v1beta1" || is.Kind != "InferenceService":
		t.Errorf("inferenceservice.yaml: %s %s, want a serving.kserve.io/v1beta1 InferenceService", is.APIVersion, is.Kind)
	case pred.MinReplicas < 2 || pred.MaxReplicas < pred.MinReplicas:
		t.Errorf("replicas %d to %d, want at least 2", pred.MinReplicas, pred.MaxReplicas)
	case pred.Model.Runtime != rt.Metadata.Name:
		t.Errorf("runtime %q, want %q", pred.Model.Runtime, rt.Metadata.Name)
	case pred.Model.ProtocolVersion != "v2":
		t.Errorf("protocolVersion %q, want v2", pred.Model.ProtocolVersion)
	case len(rt.Spec.SupportedModelFormats) == 0 || pred.Model.ModelFormat.Name != rt.Spec.SupportedModelFormats[0].Name:
		t.Errorf("modelFormat %q, want the runtime's %v", pred.Model.ModelFormat.Name, rt.Spec.SupportedModelFormats)
	case pred.Model.StorageURI == "":
		t.Error("no storageUri")
	}
	if !regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`).MatchString(is.Metadata.Name) {
		t.Errorf("name %q: not a DNS label (KServe's requirement), or not a valid model name", is.Metadata.Name)
	}

	// The Dockerfile's entrypoint is onnxkit serve and its default
	// arguments are flags it has, listening on the exposed port.
	df, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var entry, cmdArgs []string
	var expose, user string
	var static bool
	for _, line := range strings.Split(string(df), "\n") {
		kw, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch kw {
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(rest), &entry); err != nil {
				t.Errorf("Dockerfile: ENTRYPOINT %s: %v (want the JSON form)", rest, err)
			}
		case "CMD":
			if err := json.Unmarshal([]byte(rest), &cmdArgs); err != nil {
				t.Errorf("Dockerfile: CMD %s: %v (want the JSON form)", rest, err)
			}
		case "EXPOSE":
			expose = rest
		case "USER":
			user = rest
		case "RUN":
			static = static || strings.Contains(rest, "CGO_ENABLED=0 go build")
		}
	}
	if !slices.Equal(entry, []string{"/onnxkit", "serve"}) {
		t.Errorf("Dockerfile: ENTRYPOINT %q, want [/onnxkit serve]", entry)
	}
	if u, _, _ := strings.Cut(user, ":"); u == "" || u == "0" || u == "root" {
		t.Errorf("Dockerfile: USER %q, want a non-root user", user)
	}
	if !static {
		t.Error("Dockerfile: no CGO_ENABLED=0 go build (a static binary)")
	}
	addr, model = "", ""
	for _, a := range cmdArgs {
		name := flagName(t, a)
		if !flags[name] {
			t.Errorf("Dockerfile: CMD argument %q: onnxkit serve has no flag -%s", a, name)
		}
		_, v, _ := strings.Cut(a, "=")
		switch name {
		case "addr":
			addr = v
		case "model":
			_, model, _ = strings.Cut(v, "=")
		}
	}
	if addr == "" || strconv.Itoa(port(t, addr)) != expose {
		t.Errorf("Dockerfile: -addr=%s and EXPOSE %s, want the same port", addr, expose)
	}
	checkArgs(t, bin, "Dockerfile", slices.Concat(
		[]string{"-addr=127.0.0.1:0"}, slices.DeleteFunc(slices.Clone(cmdArgs), func(a string) bool { return strings.HasPrefix(a, "-addr=") })), model)
}
