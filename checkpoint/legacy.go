package checkpoint

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/big"
)

// legacyMagic is the number torch.save's legacy format pickles first.
var legacyMagic, _ = new(big.Int).SetString("1950a86a20f9469cfc6c", 16)

const legacyProtocol = 1001

// readLegacy reads the pre-1.6 format: pickles of the magic number, the protocol version, a
// sys_info dict, the object, and the list of storage keys; then each storage in key order as an
// 8-byte little-endian element count followed by its elements.
func readLegacy(r io.ReaderAt, size int64) (*File, error) {
	src := newSource(io.NewSectionReader(r, 0, size), size)
	order, err := legacyHeader(src)
	if err != nil {
		return nil, err
	}
	e := newEnv(size)
	obj, err := unpickle(src, e)
	if err != nil {
		return nil, err
	}
	keysVal, err := unpickle(src, plainResolver{})
	if err != nil {
		return nil, fmt.Errorf("storage key list: %w", err)
	}
	keys, err := sequence(keysVal)
	if err != nil {
		return nil, fmt.Errorf("storage key list: %w", err)
	}
	if err := placeStorages(r, size, src.pos, keys, e); err != nil {
		return nil, err
	}
	entries, meta, err := collect(obj, size)
	if err != nil {
		return nil, err
	}
	f := &File{Format: "legacy"}
	if err := finish(f, entries, meta, order, &budget{left: 2 * size}); err != nil {
		return nil, err
	}
	return f, nil
}

// legacyHeader reads the three pickles before the object: the magic number, the protocol
// version and sys_info, whose little_endian gives the storages' byte order.
func legacyHeader(src *source) (binary.ByteOrder, error) {
	magic, err := unpickle(src, plainResolver{})
	if err != nil {
		return nil, fmt.Errorf("legacy format: magic number: %w", err)
	}
	if m, ok := magic.(*big.Int); !ok || m.Cmp(legacyMagic) != 0 {
		return nil, fmt.Errorf("not a torch.save file: first pickle is not the legacy magic number")
	}
	proto, err := unpickle(src, plainResolver{})
	if err != nil {
		return nil, fmt.Errorf("legacy format: protocol version: %w", err)
	}
	if p, ok := proto.(int64); !ok || p != legacyProtocol {
		return nil, fmt.Errorf("legacy format: unsupported protocol version %s", clean(fmt.Sprint(proto)))
	}
	info, err := unpickle(src, plainResolver{})
	if err != nil {
		return nil, fmt.Errorf("legacy format: sys_info: %w", err)
	}
	var order binary.ByteOrder = binary.LittleEndian
	if d, ok := info.(*dict); ok {
		if le, ok := d.get("little_endian"); ok && le == false {
			order = binary.BigEndian
		}
	}
	return order, nil
}

// placeStorages finds, from byte pos on, each listed storage's element count and data, checks
// them against what the pickle said and the file's size, and points the storage at its data.
func placeStorages(r io.ReaderAt, size, pos int64, keys tuple, e *env) error {
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		key, ok := k.(string)
		if !ok {
			return fmt.Errorf("storage key list holds a %s", kind(k))
		}
		root := e.roots[key]
		if root == nil {
			return fmt.Errorf("storage %q is listed but the pickle never names it", clean(key))
		}
		if seen[key] {
			return fmt.Errorf("storage %q is listed twice", clean(key))
		}
		seen[key] = true
		if pos > size-8 {
			return fmt.Errorf("truncated: storage %q header needs 8 bytes at offset %d, file has %d", clean(key), pos, size)
		}
		var hdr [8]byte
		if err := readAt(r, hdr[:], pos); err != nil {
			return fmt.Errorf("storage %q: %w", clean(key), err)
		}
		count := binary.LittleEndian.Uint64(hdr[:])
		es := uint64(root.dtype.size)
		if count > math.MaxInt64/es || int64(count*es) != root.nbytes {
			return fmt.Errorf("storage %q holds %d elements, the pickle says %d", clean(key), count, root.nbytes/int64(es))
		}
		start := pos + 8
		if root.nbytes > size-start {
			return fmt.Errorf("truncated: storage %q needs %d bytes at offset %d, file has %d", clean(key), root.nbytes, start, size)
		}
		root.read = sectionReader(r, start, root.nbytes)
		pos = start + root.nbytes
	}
	return nil
}

// sectionReader returns a storage reader for n bytes at offset start of r.
func sectionReader(r io.ReaderAt, start, n int64) storageReader {
	return func(buf []byte, off, m int64) ([]byte, error) {
		if off < 0 || m < 0 || off > n || m > n-off {
			return nil, fmt.Errorf("read of %d bytes at %d outside a %d-byte storage", m, off, n)
		}
		b := buf[:0]
		if int64(cap(b)) < m {
			b = make([]byte, m)
		}
		b = b[:m]
		if err := readAt(r, b, start+off); err != nil {
			return nil, err
		}
		return b, nil
	}
}

// readAt fills b from offset off, treating a short read as truncation.
func readAt(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || err == io.EOF {
		return fmt.Errorf("truncated: %d bytes at offset %d, got %d", len(b), off, n)
	}
	return err
}
