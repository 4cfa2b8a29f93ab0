package checkpoint

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Tensor is a dense tensor of float32 values in row-major (C) order.
type Tensor struct {
	Shape []int
	Data  []float32
}

// File is a checkpoint's tensors, named as the model's state_dict() names them.
type File struct {
	Path   string
	Format string // "legacy", "zip" or "safetensors"
	// Tensors maps each name to its tensor; names have every leading "module." removed.
	Tensors map[string]*Tensor
	// Names lists the tensor names in file order: state-dict order for dicts, state_dict()
	// order for pickled modules, data-offset order for safetensors.
	Names []string
	// Meta holds scalar entries found beside the state dict, formatted as Go formats them
	// (strconv 'g' for floats), the safetensors __metadata__, and for a pickled module its class
	// as "module" (e.g. "densenet.DenseNet3").
	Meta map[string]string
}

// Open reads the checkpoint at path. The format is detected from the content, not the name.
func Open(path string) (*File, error) {
	name := filepath.Base(path)
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", name, err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", name, err)
	}
	f, err := Read(fh, st.Size(), name)
	if err != nil {
		return nil, err
	}
	f.Path = path
	return f, nil
}

// Read reads a checkpoint of size bytes from r; name is used in error messages and as Path.
func Read(r io.ReaderAt, size int64, name string) (*File, error) {
	f, err := read(r, size)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", name, err)
	}
	f.Path = name
	return f, nil
}

var (
	zipMagic   = []byte("PK\x03\x04")
	emptyZip   = []byte("PK\x05\x06")
	tarMagic   = []byte("ustar")
	tarMagicAt = 257
)

func read(r io.ReaderAt, size int64) (*File, error) {
	if size <= 0 {
		return nil, fmt.Errorf("empty file")
	}
	head := make([]byte, min(size, 512))
	if err := readAt(r, head, 0); err != nil {
		return nil, err
	}
	switch {
	case bytes.HasPrefix(head, zipMagic) || bytes.HasPrefix(head, emptyZip):
		return readZip(r, size)
	case isSafetensors(head):
		return readSafetensors(r, size)
	case head[0] == 0x80 || head[0] == 'L':
		// Legacy files open with the pickled magic number: PROTO 2 then LONG1, or a protocol 0/1
		// text LONG.
		return readLegacy(r, size)
	case len(head) >= tarMagicAt+len(tarMagic) && bytes.Equal(head[tarMagicAt:tarMagicAt+len(tarMagic)], tarMagic):
		return nil, fmt.Errorf("tar-based torch.save format (torch before 0.1.10) is not supported")
	}
	return nil, fmt.Errorf("unrecognised format (starts % x): not a zip (torch >= 1.6), legacy torch.save or safetensors file", head[:min(len(head), 8)])
}
