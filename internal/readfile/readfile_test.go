package readfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRegular(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	os.WriteFile(small, []byte("12345"), 0o644)
	if got, err := Regular(small, 5); err != nil || string(got) != "12345" {
		t.Errorf("Regular(small, 5) = %q, %v, want 12345, nil", got, err)
	}
	for _, tc := range []struct {
		path string
		max  int64
		want string
	}{
		{small, 4, "5 bytes, more than the limit of 4"},
		{dir, 1 << 20, "not a regular file"},
		{"/dev/zero", 1 << 20, "not a regular file"}, // before: read until memory ran out
	} {
		_, err := Regular(tc.path, tc.max)
		var e *Error
		if !errors.As(err, &e) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Regular(%s, %d) = %v, want an *Error containing %q", tc.path, tc.max, err, tc.want)
		}
	}
	if _, err := Regular(filepath.Join(dir, "missing"), 1); !os.IsNotExist(err) {
		t.Errorf("Regular(missing) = %v, want a not-exist error", err)
	}
}
