package scorefile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/odin-ood/odin/internal/durable"
)

// ErrBusy is wrapped by the errors of Create, Append and LockDir when another writer, in this
// process or another, holds the file or folder.
var ErrBusy = errors.New("in use by another run")

// DirLock is an exclusive lock on a score folder, held from LockDir until Close. Runs that share
// a folder take it before reading or writing anything there (the run's identity, its score
// files), so that a second run is refused at once instead of interleaving with the first.
type DirLock struct {
	f *os.File
}

// lockName is the file in a score folder that LockDir locks. It is never removed: removing a lock
// file lets a third run lock a new file while the second still holds the old one.
const lockName = ".lock"

// LockDir takes the exclusive lock of the score folder dir, which must exist. If another
// DirLock holds it, the error wraps ErrBusy.
func LockDir(dir string) (*DirLock, error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("scores %s: %w", dir, durable.UnwrapPath(err))
	}
	if err := lock(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("scores %s: %w", dir, err)
	}
	return &DirLock{f: f}, nil
}

// Close releases the lock.
func (l *DirLock) Close() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the descriptor releases its lock
	l.f = nil
	return err
}

// CreateExclusive writes a file that must not exist yet, such as a score folder's run.json,
// whole or not at all: the data goes to a temporary file that is then linked into place, which
// fails if path exists. Of two runs creating path at once, one succeeds and the other gets an
// error wrapping fs.ErrExist, after which it can read path complete.
func CreateExclusive(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("scores %s: %w", path, durable.UnwrapPath(err))
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if serr := tmp.Sync(); err == nil {
		err = serr
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("scores %s: %w", path, durable.UnwrapPath(err))
	}
	return nil
}
