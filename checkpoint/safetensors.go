package checkpoint

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
)

// maxSafetensorsHeader is the header size the reference implementation accepts.
const maxSafetensorsHeader = 100_000_000

func isSafetensors(head []byte) bool {
	return len(head) > 8 && head[8] == '{' && binary.LittleEndian.Uint64(head) >= 2
}

type safetensorsEntry struct {
	Dtype       string  `json:"dtype"`
	Shape       []int64 `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// readSafetensors reads an 8-byte little-endian header length, a JSON header of
// {name: {dtype, shape, data_offsets}, "__metadata__": {string: string}} and the byte buffer the
// offsets index, which the tensors must cover exactly.
func readSafetensors(r io.ReaderAt, size int64) (*File, error) {
	hdr, err := readSafetensorsHeader(r, size)
	if err != nil {
		return nil, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &raw); err != nil {
		return nil, fmt.Errorf("safetensors header: %v", err)
	}
	bufStart := int64(8 + len(hdr))
	bufLen := size - bufStart
	f := &File{Format: "safetensors", Meta: map[string]string{}}
	var spans []span
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &f.Meta); err != nil {
				return nil, fmt.Errorf("safetensors __metadata__ is not a map of strings: %v", err)
			}
			continue
		}
		s, err := parseSpan(name, msg, bufLen)
		if err != nil {
			return nil, err
		}
		spans = append(spans, s)
	}
	if err := checkTiling(spans, bufLen); err != nil {
		return nil, err
	}
	meta := f.Meta
	if meta == nil { // "__metadata__": null
		meta = map[string]string{}
	}
	if err := finish(f, spanEntries(r, spans, bufStart), meta, binary.LittleEndian, &budget{left: size}); err != nil {
		return nil, err
	}
	return f, nil
}

// readSafetensorsHeader reads the header's 8-byte length and the JSON it announces, checking the
// length against the file and maxSafetensorsHeader before allocating.
func readSafetensorsHeader(r io.ReaderAt, size int64) ([]byte, error) {
	var lenb [8]byte
	if err := readAt(r, lenb[:], 0); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint64(lenb[:])
	if n > uint64(size-8) {
		return nil, fmt.Errorf("truncated: safetensors header of %d bytes, file has %d after the length", n, size-8)
	}
	if n > maxSafetensorsHeader {
		return nil, fmt.Errorf("safetensors header of %d bytes is over the %d limit", n, maxSafetensorsHeader)
	}
	hdr := make([]byte, n)
	if err := readAt(r, hdr, 8); err != nil {
		return nil, err
	}
	return hdr, nil
}

// span is one tensor of a safetensors file: its bytes [begin, end) of the buffer.
type span struct {
	name       string
	begin, end int64
	dtype      dtype
	shape      []int
}

// parseSpan reads one tensor's header entry and checks its offsets against the buffer and its
// shape and dtype.
func parseSpan(name string, msg json.RawMessage, bufLen int64) (span, error) {
	var e safetensorsEntry
	if err := json.Unmarshal(msg, &e); err != nil {
		return span{}, fmt.Errorf("safetensors tensor %q: %v", clean(name), err)
	}
	dt, ok := safetensorsDtypes[e.Dtype]
	if !ok {
		return span{}, fmt.Errorf("safetensors tensor %q: unsupported dtype %q", clean(name), clean(e.Dtype))
	}
	if len(e.DataOffsets) != 2 {
		return span{}, fmt.Errorf("safetensors tensor %q: data_offsets has %d values, want 2", clean(name), len(e.DataOffsets))
	}
	b, end := e.DataOffsets[0], e.DataOffsets[1]
	if b < 0 || end < b || end > bufLen {
		return span{}, fmt.Errorf("safetensors tensor %q: offsets [%d, %d] lie outside the %d-byte buffer", clean(name), b, end, bufLen)
	}
	if len(e.Shape) > maxDims {
		return span{}, fmt.Errorf("safetensors tensor %q: %d dimensions", clean(name), len(e.Shape))
	}
	numel := int64(1)
	shape := make([]int, len(e.Shape))
	for i, s := range e.Shape {
		if s < 0 || (s != 0 && numel > math.MaxInt64/s/int64(dt.size)) {
			return span{}, fmt.Errorf("safetensors tensor %q: bad shape %s", clean(name), dims(e.Shape))
		}
		numel *= s
		shape[i] = int(s)
	}
	if numel*int64(dt.size) != end-b {
		return span{}, fmt.Errorf("safetensors tensor %q: offsets [%d, %d] span %d bytes, shape %s of %s needs %d", clean(name), b, end, end-b, dims(e.Shape), dt.name, numel*int64(dt.size))
	}
	return span{name, b, end, dt, shape}, nil
}

// checkTiling sorts the spans by offset and requires them, like the reference implementation,
// to tile the buffer exactly: an overlap or a gap means the offsets lie.
func checkTiling(spans []span, bufLen int64) error {
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].begin != spans[j].begin {
			return spans[i].begin < spans[j].begin
		}
		return spans[i].name < spans[j].name
	})
	prevEnd, prevName := int64(0), ""
	for _, s := range spans {
		if s.begin < prevEnd && s.end > s.begin {
			return fmt.Errorf("safetensors tensors %q and %q overlap at byte %d of the buffer", clean(prevName), clean(s.name), s.begin)
		}
		if s.begin > prevEnd {
			return fmt.Errorf("safetensors buffer bytes %d to %d belong to no tensor", prevEnd, s.begin)
		}
		if s.end > prevEnd {
			prevEnd, prevName = s.end, s.name
		}
	}
	if prevEnd != bufLen {
		return fmt.Errorf("safetensors buffer bytes %d to %d belong to no tensor", prevEnd, bufLen)
	}
	return nil
}

// spanEntries makes each span a contiguous tensor on its own storage, read from the file when
// materialised.
func spanEntries(r io.ReaderAt, spans []span, bufStart int64) []named {
	entries := make([]named, 0, len(spans))
	for _, s := range spans {
		nbytes := s.end - s.begin
		root := &rootStorage{key: s.name, dtype: s.dtype, nbytes: nbytes, read: sectionReader(r, bufStart+s.begin, nbytes)}
		shape := make(tuple, len(s.shape))
		stride := make(tuple, len(s.shape))
		st := int64(1)
		for i := len(s.shape) - 1; i >= 0; i-- {
			shape[i] = int64(s.shape[i])
			stride[i] = st
			st *= int64(s.shape[i])
		}
		ref := &tensorRef{storage: &storageRef{root: root, dtype: s.dtype, nbytes: nbytes}, dtype: s.dtype, size: shape, strides: stride}
		entries = append(entries, named{s.name, ref})
	}
	return entries
}
