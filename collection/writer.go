package collection

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Writer appends rows to a score file. It is not safe for concurrent use.
type Writer struct {
	path   string
	format Format
	meta   Meta
	f      *os.File
	w      *bufio.Writer
	done   map[string]bool
	buf    []byte
	err    error
}

// Open opens the score file at path for appending, creating it with meta's header if it does
// not exist. An existing file must have been written with the same format and metadata; a last
// line cut short by a crash is dropped. Done then reports the images it already holds.
func Open(path string, format Format, meta Meta) (*Writer, error) {
	meta.Format = FormatVersion
	if err := meta.check(); err != nil {
		return nil, fmt.Errorf("scores %s: %v", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("scores %s: %w", path, unwrapPath(err))
	}
	w := &Writer{path: path, format: format, meta: meta, f: f, w: bufio.NewWriterSize(f, 64<<10), done: map[string]bool{}}
	if err := w.resume(); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

func (w *Writer) resume() error {
	data, err := io.ReadAll(w.f)
	if err != nil {
		return fmt.Errorf("scores %s: %w", w.path, unwrapPath(err))
	}
	head := header(w.format, &w.meta)
	keep := 0
	if bytes.IndexByte(data, '\n') < 0 {
		// New, or a crash while writing the metadata line: it may only be a prefix of ours.
		if !bytes.HasPrefix(head, data) {
			return fmt.Errorf("scores %s: not a score file of odin score; choose another output file", w.path)
		}
	} else {
		file, size, err := parse(w.path, data)
		if err != nil {
			return err
		}
		if file.Format != w.format {
			return fmt.Errorf("scores %s: is %v, this run writes %v", w.path, file.Format, w.format)
		}
		if err := sameMeta(&file.Meta, &w.meta, true); err != nil {
			return fmt.Errorf("scores %s was made by another run: %v", w.path, err)
		}
		for _, r := range file.Rows {
			w.done[r.Path] = true
		}
		keep = size
		if w.format == CSV && bytes.Count(data[:size], []byte{'\n'}) < 2 {
			keep = 0 // cut within the column line: rewrite the header
		}
	}
	if err := w.f.Truncate(int64(keep)); err != nil {
		return fmt.Errorf("scores %s: %w", w.path, unwrapPath(err))
	}
	if _, err := w.f.Seek(int64(keep), io.SeekStart); err != nil {
		return fmt.Errorf("scores %s: %w", w.path, unwrapPath(err))
	}
	if keep == 0 {
		w.w.Write(head)
		return w.Flush()
	}
	return nil
}

// sameMeta explains the first difference between two runs' metadata; withShard also compares
// the shard and its count.
func sameMeta(a, b *Meta, withShard bool) error {
	x, y := *a, *b
	if !withShard {
		x.Shard, y.Shard, x.Count, y.Count = "", "", 0, 0
	}
	if bytes.Equal(x.json(), y.json()) {
		return nil
	}
	var ma, mb map[string]any
	json.Unmarshal(x.json(), &ma)
	json.Unmarshal(y.json(), &mb)
	for _, k := range []string{"network", "checkpoint", "kernel", "methods", "params", "threshold", "shard", "total", "count", "format"} {
		va, _ := json.Marshal(ma[k])
		vb, _ := json.Marshal(mb[k])
		if !bytes.Equal(va, vb) {
			return fmt.Errorf("%s %s, not %s", k, va, vb)
		}
	}
	return fmt.Errorf("metadata %s, not %s", x.json(), y.json())
}

// Done reports whether the file holds a row for path.
func (w *Writer) Done(path string) bool { return w.done[path] }

// Len is the number of rows in the file, flushed or not.
func (w *Writer) Len() int { return len(w.done) }

// Write adds a row; writing a path twice is an error.
func (w *Writer) Write(r Row) error {
	if w.err != nil {
		return w.err
	}
	if w.done[r.Path] {
		return fmt.Errorf("scores %s: %s written twice", w.path, r.Path)
	}
	var err error
	if w.buf, err = appendRow(w.buf[:0], w.format, &w.meta, &r); err != nil {
		return fmt.Errorf("scores %s: %v", w.path, err)
	}
	if _, err := w.w.Write(w.buf); err != nil {
		return w.fail(err)
	}
	w.done[r.Path] = true
	return nil
}

func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = fmt.Errorf("scores %s: %w", w.path, unwrapPath(err))
	}
	return w.err
}

// Flush writes the buffered rows to the file.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if err := w.w.Flush(); err != nil {
		return w.fail(err)
	}
	return nil
}

// Close flushes, syncs and closes the file.
func (w *Writer) Close() error {
	if w.f == nil {
		return fmt.Errorf("scores %s: %w", w.path, fs.ErrClosed)
	}
	err := w.Flush()
	if serr := w.f.Sync(); err == nil && serr != nil {
		err = fmt.Errorf("scores %s: %w", w.path, unwrapPath(serr))
	}
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("scores %s: %w", w.path, unwrapPath(cerr))
	}
	w.f = nil
	if w.err == nil {
		w.err = fmt.Errorf("scores %s: %w", w.path, fs.ErrClosed)
	}
	return err
}

// Encode writes a whole score file to out.
func Encode(out io.Writer, f *File) error {
	m := f.Meta
	m.Format = FormatVersion
	if err := m.check(); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(out, 64<<10)
	bw.Write(header(f.Format, &m))
	var b []byte
	for i := range f.Rows {
		var err error
		if b, err = appendRow(b[:0], f.Format, &m, &f.Rows[i]); err != nil {
			return err
		}
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// WriteFile writes a whole score file atomically: into a temporary file renamed into place.
func WriteFile(path string, f *File) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("scores %s: %w", path, unwrapPath(err))
	}
	defer os.Remove(tmp.Name())
	err = Encode(tmp, f)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("scores %s: %w", path, unwrapPath(err))
	}
	return nil
}
