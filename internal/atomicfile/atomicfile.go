// Package atomicfile writes files so that a reader never sees one
// half-written: the data goes to a temporary file in the same folder, is
// synced, and is renamed over the destination.
package atomicfile

import (
	"os"
	"path/filepath"
)

// WriteFile writes data to path atomically with mode 0644 (the mode
// os.WriteFile would give; os.CreateTemp makes files 0600). On failure the
// temporary file is removed and path is left as it was. After the rename
// the folder is synced too where the system allows, so the rename survives
// a crash.
func WriteFile(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
