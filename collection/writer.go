package collection

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/odin-ood/odin/internal/durable"
)

// Writer appends rows to a score file. It is not safe for concurrent use.
type Writer struct {
	out    durable.File
	format Format
	meta   Meta
	done   map[string]bool
	buf    []byte
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
		return nil, fmt.Errorf("scores %s: %w", path, durable.UnwrapPath(err))
	}
	w := &Writer{out: durable.New(path, f), format: format, meta: meta, done: map[string]bool{}}
	if err := w.resume(); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

func (w *Writer) resume() error {
	data, err := io.ReadAll(w.out.F)
	if err != nil {
		return fmt.Errorf("scores %s: %w", w.out.Path, durable.UnwrapPath(err))
	}
	head := header(w.format, &w.meta)
	keep := 0
	if bytes.IndexByte(data, '\n') < 0 {
		// New, or a crash while writing the metadata line: it may only be a prefix of ours.
		if !bytes.HasPrefix(head, data) {
			return fmt.Errorf("scores %s: not a score file of odin score; choose another output file", w.out.Path)
		}
	} else {
		file, size, err := parse(w.out.Path, data)
		if err != nil {
			return err
		}
		if file.Format != w.format {
			return fmt.Errorf("scores %s: is %v, this run writes %v", w.out.Path, file.Format, w.format)
		}
		if err := sameMeta(&file.Meta, &w.meta, true); err != nil {
			return fmt.Errorf("scores %s was made by another run: %v", w.out.Path, err)
		}
		for _, r := range file.Rows {
			w.done[r.Path] = true
		}
		keep = size
		if w.format == CSV && bytes.Count(data[:size], []byte{'\n'}) < 2 {
			keep = 0 // cut within the column line: rewrite the header
		}
	}
	if err := w.out.F.Truncate(int64(keep)); err != nil {
		return fmt.Errorf("scores %s: %w", w.out.Path, durable.UnwrapPath(err))
	}
	if _, err := w.out.F.Seek(int64(keep), io.SeekStart); err != nil {
		return fmt.Errorf("scores %s: %w", w.out.Path, durable.UnwrapPath(err))
	}
	if keep == 0 {
		w.out.W.Write(head)
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

// Flush writes the buffered rows to the file.
func (w *Writer) Flush() error { return w.out.Flush() }

// Close flushes, syncs and closes the file.
func (w *Writer) Close() error { return w.out.Close() }

// Len is the number of rows in the file, flushed or not.
func (w *Writer) Len() int { return len(w.done) }

// Write adds a row; writing a path twice is an error.
func (w *Writer) Write(r Row) error {
	if w.out.Err() != nil {
		return w.out.Err()
	}
	if w.done[r.Path] {
		return fmt.Errorf("scores %s: %s written twice", w.out.Path, r.Path)
	}
	var err error
	if w.buf, err = appendRow(w.buf[:0], w.format, &w.meta, &r); err != nil {
		return fmt.Errorf("scores %s: %v", w.out.Path, err)
	}
	if _, err := w.out.W.Write(w.buf); err != nil {
		return w.out.Fail(err)
	}
	w.done[r.Path] = true
	return nil
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
		return fmt.Errorf("scores %s: %w", path, durable.UnwrapPath(err))
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
		return fmt.Errorf("scores %s: %w", path, durable.UnwrapPath(err))
	}
	return nil
}
