// Package durable is the buffered, append-only file that score files are written through: the
// first write error sticks and every later call returns it, and Close flushes, commits the file
// to stable storage and closes it, reporting the first failure. Errors name the file once
// ("scores PATH: …"), without the operation and path that os errors repeat.
package durable

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// File buffers writes to F through W. It is not safe for concurrent use.
type File struct {
	Path string
	F    *os.File
	W    *bufio.Writer
	err  error
}

// New returns a File that writes to f, named path in errors, through a 64 KiB buffer.
func New(path string, f *os.File) File {
	return File{Path: path, F: f, W: bufio.NewWriterSize(f, 64<<10)}
}

// Err is the first failure, nil if none.
func (d *File) Err() error { return d.err }

// Fail records err as the file's failure unless one is recorded already, and returns the
// recorded one.
func (d *File) Fail(err error) error {
	if d.err == nil {
		d.err = d.Errorf(err)
	}
	return d.err
}

// Errorf names the file in err, unwrapped of the path os errors repeat.
func (d *File) Errorf(err error) error { return fmt.Errorf("scores %s: %w", d.Path, UnwrapPath(err)) }

// Flush writes the buffered bytes to the file.
func (d *File) Flush() error {
	if d.err != nil {
		return d.err
	}
	if err := d.W.Flush(); err != nil {
		return d.Fail(err)
	}
	return nil
}

// Close flushes the buffered bytes, commits the file to stable storage and closes it. Later
// calls fail with fs.ErrClosed.
func (d *File) Close() error {
	if d.F == nil {
		return fmt.Errorf("scores %s: %w", d.Path, fs.ErrClosed)
	}
	err := d.Flush()
	if serr := d.F.Sync(); err == nil && serr != nil {
		err = d.Errorf(serr)
	}
	if cerr := d.F.Close(); err == nil && cerr != nil {
		err = d.Errorf(cerr)
	}
	d.F = nil
	if d.err == nil {
		d.err = fmt.Errorf("scores %s: %w", d.Path, fs.ErrClosed)
	}
	return err
}

// UnwrapPath drops the operation and path that os errors repeat, since messages already name
// the file.
func UnwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
