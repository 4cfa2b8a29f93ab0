package ood

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"regexp"
	"testing"
)

// crcField is the header's checksum field, which the fuzz harness recomputes so that mutations
// of the header and payload reach the array checks behind the checksum.
var crcField = regexp.MustCompile(`"payload_crc32":[0-9]+`)

// FuzzReadStats feeds statistics files (a JSON header and a payload, with the checksum made
// right) to the reader: it must refuse or accept them without panicking, allocate no more than
// the payload's size in values, and every array it accepts must read back at its own shape.
func FuzzReadStats(f *testing.F) {
	_, path := sampleStats(f)
	good, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	hl := binary.LittleEndian.Uint32(good[12:])
	f.Add(good[16:16+hl], good[16+hl:])
	f.Add([]byte(`{"nn":"x","features":0,"classes":0,"images":0,"methods":[],"tap":"t","preprocess":"{}","payload_crc32":0,"arrays":[{"name":"z","dtype":"float64","shape":[0,1000000000],"offset":0}]}`), []byte{})
	f.Fuzz(func(t *testing.T, header, payload []byte) {
		header = crcField.ReplaceAll(header, fmt.Appendf(nil, `"payload_crc32":%d`, crc32.ChecksumIEEE(payload)))
		var b bytes.Buffer
		b.WriteString(statsMagic)
		binary.Write(&b, binary.LittleEndian, uint32(StatsVersion))
		binary.Write(&b, binary.LittleEndian, uint32(len(header)))
		b.Write(header)
		b.Write(payload)
		s, err := parseStats(b.Bytes())
		if err != nil {
			return
		}
		values := 0
		for _, name := range s.Names() {
			a := s.arrays[name]
			values += 4*len(a.f32) + 8*len(a.f64)
			var err error
			if a.dtype == "float32" {
				_, _, err = s.Get32(name, a.shape...)
			} else {
				_, _, err = s.Get64(name, a.shape...)
			}
			if err != nil {
				t.Errorf("array %s accepted but not readable at its shape %v: %v", name, a.shape, err)
			}
		}
		if values > len(payload) {
			t.Errorf("%d bytes of values from a payload of %d", values, len(payload))
		}
		_ = s.CheckFeatures(s.Tap)
		_ = s.CheckPreprocess(s.Preprocess)
	})
}
