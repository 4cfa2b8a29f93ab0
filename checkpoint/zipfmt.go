package checkpoint

import (
	"archive/zip"
	"encoding/binary"
	"fmt"
	"io"
	"path"
	"strings"
)

// readZip reads the torch >= 1.6 format: a zip archive whose single top folder (its name
// varies) holds data.pkl, the pickled object, and data/<key> for each storage.
func readZip(r io.ReaderAt, size int64) (*File, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("corrupt or truncated zip: %v", err)
	}
	pkl, prefix, records, err := zipRecords(zr)
	if err != nil {
		return nil, err
	}
	order, err := zipByteOrder(records)
	if err != nil {
		return nil, err
	}
	// The pickle streams from the archive; its declared size bounds every read.
	if pkl.UncompressedSize64 > uint64(16*size) {
		return nil, fmt.Errorf("%s claims %d bytes, implausible for a %d-byte file", clean(pkl.Name), pkl.UncompressedSize64, size)
	}
	rc, err := pkl.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", clean(pkl.Name), err)
	}
	e := newEnv(size)
	obj, err := unpickle(newSource(rc, int64(pkl.UncompressedSize64)), e)
	rc.Close()
	if err != nil {
		return nil, err
	}
	for _, root := range e.order {
		key := root.key
		name := "data/" + key
		f := records[name]
		if f == nil {
			return nil, fmt.Errorf("storage %q: archive has no %s%s", clean(key), clean(prefix), clean(name))
		}
		if f.UncompressedSize64 < uint64(root.nbytes) {
			return nil, fmt.Errorf("truncated: storage %q needs %d bytes, %s has %d", clean(key), root.nbytes, clean(f.Name), f.UncompressedSize64)
		}
		if root.read, err = entryReader(r, size, f, root.nbytes); err != nil {
			return nil, fmt.Errorf("storage %q: %w", clean(key), err)
		}
	}
	entries, meta, err := collect(obj, size)
	if err != nil {
		return nil, err
	}
	out := &File{Format: "zip"}
	if err := finish(out, entries, meta, order, &budget{left: 2 * size}); err != nil {
		return nil, err
	}
	return out, nil
}

// zipRecords finds the archive's <folder>/data.pkl and the records beside it, by their names
// inside that folder.
func zipRecords(zr *zip.Reader) (pkl *zip.File, prefix string, records map[string]*zip.File, err error) {
	for _, f := range zr.File {
		if path.Base(f.Name) == "data.pkl" && strings.Count(f.Name, "/") == 1 {
			pkl = f
			break
		}
	}
	if pkl == nil {
		return nil, "", nil, fmt.Errorf("zip archive has no <folder>/data.pkl: not a torch.save file")
	}
	prefix = path.Dir(pkl.Name) + "/"
	records = map[string]*zip.File{}
	for _, f := range zr.File {
		if strings.HasPrefix(f.Name, prefix) {
			records[f.Name[len(prefix):]] = f
		}
	}
	return pkl, prefix, records, nil
}

// zipByteOrder reads the optional byteorder record; without it storages are little-endian.
func zipByteOrder(records map[string]*zip.File) (binary.ByteOrder, error) {
	f := records["byteorder"]
	if f == nil {
		return binary.LittleEndian, nil
	}
	b, err := readEntry(f, 16)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", clean(f.Name), err)
	}
	switch string(b) {
	case "little":
		return binary.LittleEndian, nil
	case "big":
		return binary.BigEndian, nil
	}
	return nil, fmt.Errorf("%s: unknown byte order %q", clean(f.Name), clean(string(b)))
}

// entryReader returns a reader for the first n bytes of a zip entry. Stored entries (torch writes
// no others) are read in place; compressed ones are inflated once, on first use.
func entryReader(r io.ReaderAt, size int64, f *zip.File, n int64) (storageReader, error) {
	if f.Method == zip.Store {
		start, err := f.DataOffset()
		if err != nil {
			return nil, err
		}
		if start < 0 || start > size || n > size-start {
			return nil, fmt.Errorf("truncated: needs %d bytes at offset %d, file has %d", n, start, size)
		}
		return sectionReader(r, start, n), nil
	}
	var data []byte
	return func(_ []byte, off, m int64) ([]byte, error) {
		if data == nil {
			b, err := readEntry(f, n)
			if err != nil {
				return nil, err
			}
			if int64(len(b)) < n {
				return nil, fmt.Errorf("truncated: %s inflates to %d bytes, needs %d", clean(f.Name), len(b), n)
			}
			data = b
		}
		if off < 0 || m < 0 || off > n || m > n-off {
			return nil, fmt.Errorf("read of %d bytes at %d outside a %d-byte storage", m, off, n)
		}
		return data[off : off+m], nil
	}, nil
}

// readEntry reads at most limit bytes of a zip entry, checking its CRC when it reads it whole.
func readEntry(f *zip.File, limit int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	want := int64(f.UncompressedSize64)
	if f.UncompressedSize64 > uint64(limit) {
		want = limit
	}
	b := make([]byte, want)
	n, err := io.ReadFull(rc, b)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", clean(f.Name), err)
	}
	if want == int64(f.UncompressedSize64) {
		// Reading on to EOF makes archive/zip verify the checksum.
		if _, err := rc.Read(make([]byte, 1)); err != nil && err != io.EOF {
			return nil, fmt.Errorf("%s: %v", clean(f.Name), err)
		}
	}
	return b[:n], nil
}
