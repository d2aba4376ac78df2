// Package readfile reads whole files that come from users, with a bound:
// only regular files (never a device, pipe or folder, so /dev/zero cannot
// make a reader run without end) of at most a given size.
package readfile

import (
	"fmt"
	"io"
	"os"
)

// Error says why a file was refused before or while reading it.
type Error struct {
	Path string
	Msg  string
}

func (e *Error) Error() string { return e.Path + ": " + e.Msg }

// Regular reads the regular file at path, of at most max bytes. A path that
// is not a regular file, or a file larger than max, gives an *Error; the
// file is read only once its size has been checked.
func Regular(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &Error{path, fmt.Sprintf("not a regular file (%s)", fi.Mode().Type())}
	}
	if fi.Size() > max {
		return nil, &Error{path, fmt.Sprintf("%d bytes, more than the limit of %d", fi.Size(), max)}
	}
	// The file may grow after Stat: read at most one byte past the limit.
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, &Error{path, fmt.Sprintf("more than the limit of %d bytes", max)}
	}
	return data, nil
}
