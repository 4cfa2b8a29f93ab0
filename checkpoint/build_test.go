package checkpoint

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"testing"
)

// pickler writes pickle opcodes by hand, for inputs PyTorch would never write.
type pickler struct{ bytes.Buffer }

func (p *pickler) op(b ...byte) *pickler { p.Write(b); return p }

func (p *pickler) proto(n byte) *pickler { return p.op(0x80, n) }

func (p *pickler) str(s string) *pickler {
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(s)))
	p.op('X')
	p.Write(n[:])
	p.WriteString(s)
	return p
}

func (p *pickler) int(v int32) *pickler {
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(v))
	p.op('J')
	p.Write(n[:])
	return p
}

func (p *pickler) global(module, name string) *pickler {
	p.op('c')
	p.WriteString(module + "\n" + name + "\n")
	return p
}

// ints pushes a tuple of integers.
func (p *pickler) ints(v ...int32) *pickler {
	p.op('(')
	for _, x := range v {
		p.int(x)
	}
	return p.op('t')
}

// storage pushes the tensor built from a storage persistent id, as torch.save writes it:
// _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()).
func (p *pickler) tensor(storageType, key string, numel int32, view []int32, offset int32, size, stride []int32) *pickler {
	p.global("torch._utils", "_rebuild_tensor_v2").op('(')
	p.op('(').str("storage").global("torch", storageType).str(key).str("cpu").int(numel)
	if view != nil {
		p.op('(').str(key + "-view").int(view[0]).int(view[1]).op('t')
	} else {
		p.op('N')
	}
	p.op('t', 'Q')
	p.int(offset).ints(size...).ints(stride...).op(0x89)
	p.global("collections", "OrderedDict").op(')', 'R')
	return p.op('t', 'R')
}

var legacyHead = func() []byte {
	var p pickler
	p.proto(2).op(0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, '.')
	p.proto(2).op('M', 0xe9, 0x03, '.')
	p.proto(2).op('}').str("little_endian").op(0x88, 's', '.')
	return p.Bytes()
}()

type rawStorage struct {
	key  string
	data []byte
	size int // element size
}

// legacyFile frames an object pickle as torch's legacy format, with the given storages.
func legacyFile(obj []byte, storages ...rawStorage) []byte {
	var p pickler
	p.Write(legacyHead)
	p.Write(obj)
	p.proto(2).op(']', '(')
	for _, s := range storages {
		p.str(s.key)
	}
	p.op('e', '.')
	for _, s := range storages {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(s.data)/s.size))
		p.Write(n[:])
		p.Write(s.data)
	}
	return p.Bytes()
}

func float32s(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// zipFile writes a zip archive of the named entries, stored uncompressed as torch does.
func zipFile(t testing.TB, entries ...[2]string) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, e := range entries {
		f, err := w.CreateHeader(&zip.FileHeader{Name: e[0], Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(e[1]))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// safetensorsFile writes a header (any JSON value) and a buffer.
func safetensorsFile(t testing.TB, header any, buf []byte) []byte {
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 8, 8+len(h)+len(buf))
	binary.LittleEndian.PutUint64(out, uint64(len(h)))
	out = append(out, h...)
	return append(out, buf...)
}
