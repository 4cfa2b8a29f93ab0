package dataset

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odin-ood/odin/internal/datadir"
)

func TestCIFAR10Real(t *testing.T) {
	path := datadir.ForTest(t, "cifar-10-batches-bin/test_batch.bin")
	c, err := OpenCIFAR10(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() != 10000 || c.Name() != "CIFAR-10 test" {
		t.Fatalf("Len %d, Name %q; want 10000, CIFAR-10 test", c.Len(), c.Name())
	}
	var hist [10]int
	for i := range c.Len() {
		hist[c.Label(i)]++
	}
	for l, n := range hist {
		if n != 1000 {
			t.Errorf("label %d: %d images, want 1000", l, n)
		}
	}
	x := make([]float32, Pixels)
	l, err := c.Image(0, x)
	if err != nil {
		t.Fatal(err)
	}
	if l != 3 || c.Classes()[l] != "cat" {
		t.Errorf("image 0 is label %d (%v), want 3 (cat)", l, c.Classes())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for k, b := range raw[1 : 1+Pixels] {
		if x[k] != float32(b)/255 {
			t.Fatalf("image 0 value %d: %v, want %d/255", k, x[k], b)
		}
	}
	// The first bytes of each channel in the official file (md5 803d5f7f…).
	for k, b := range map[int]int{0: 158, 1: 159, 2: 165, 3: 166, 1024: 112, 1025: 111, 2048: 49, 2049: 47, 3071: 110} {
		if x[k] != float32(b)/255 {
			t.Errorf("image 0 value %d: %v, want %d/255", k, x[k], b)
		}
	}
	if l, err := c.Image(9999, x); err != nil || l != c.Label(9999) {
		t.Errorf("last image: label %d, err %v", l, err)
	}
}

// cifarRecords makes n records with the given label bytes per record; record i has labels
// label(i) and pixel bytes (i+k)%251.
func cifarRecords(n int, label func(i int) []byte) []byte {
	var b bytes.Buffer
	for i := range n {
		b.Write(label(i))
		for k := range Pixels {
			b.WriteByte(byte((i + k) % 251))
		}
	}
	return b.Bytes()
}

func TestCIFAR100Generated(t *testing.T) {
	dir := t.TempDir()
	data := cifarRecords(5, func(i int) []byte { return []byte{byte(i * 4), byte(i * 20)} })
	write(t, filepath.Join(dir, "test.bin"), data)
	var fine, coarse strings.Builder
	for k := range 100 {
		fine.WriteString("fine" + string(rune('A'+k%26)) + string(rune('a'+k/26)) + "\n")
	}
	for k := range 20 {
		coarse.WriteString("coarse" + string(rune('A'+k)) + "\n")
	}
	write(t, filepath.Join(dir, "fine_label_names.txt"), []byte(fine.String()+"\n"))
	write(t, filepath.Join(dir, "coarse_label_names.txt"), []byte(coarse.String()))
	c, err := OpenCIFAR100(filepath.Join(dir, "test.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() != 5 || c.Name() != "CIFAR-100 test" || len(c.Classes()) != 100 || len(c.CoarseClasses()) != 20 {
		t.Fatalf("Len %d, Name %q, %d and %d classes", c.Len(), c.Name(), len(c.Classes()), len(c.CoarseClasses()))
	}
	if c.Classes()[47] != "fineVb" || c.CoarseClasses()[3] != "coarseD" {
		t.Errorf("class names %q, %q", c.Classes()[47], c.CoarseClasses()[3])
	}
	x := make([]float32, Pixels+7)
	for i := range 5 {
		l, err := c.Image(i, x)
		if err != nil {
			t.Fatal(err)
		}
		if l != i*20 || c.Label(i) != i*20 || c.CoarseLabel(i) != i*4 {
			t.Errorf("image %d: fine %d/%d coarse %d, want %d, %d", i, l, c.Label(i), c.CoarseLabel(i), i*20, i*4)
		}
		for _, k := range []int{0, 1, 1023, 1024, 3071} {
			if want := float32((i+k)%251) / 255; x[k] != want {
				t.Errorf("image %d value %d: %v, want %v", i, k, x[k], want)
			}
		}
	}
	if x[Pixels] != 0 {
		t.Error("Image wrote past Pixels values")
	}
	// Read as CIFAR-10, its 3074-byte records do not fit 3073-byte ones.
	if _, err := OpenCIFAR10(filepath.Join(dir, "test.bin")); err == nil {
		t.Error("CIFAR-100 file opened as CIFAR-10")
	}
}

func TestCIFARErrors(t *testing.T) {
	dir := t.TempDir()
	ten := func(n int) []byte { return cifarRecords(n, func(i int) []byte { return []byte{byte(i % 10)} }) }
	cases := []struct {
		name    string
		data    []byte
		hundred bool
		want    string
	}{
		{"empty.bin", nil, false, "cifar empty.bin: empty file"},
		{"trunc.bin", ten(18)[:17*3073+1200], false, "cifar trunc.bin: truncated: record 17 has 1200 of 3073 bytes"},
		{"short.bin", ten(1)[:100], false, "cifar short.bin: truncated: record 0 has 100 of 3073 bytes"},
		{"label.bin", append(ten(17), cifarRecords(1, func(int) []byte { return []byte{12} })...), false,
			"cifar label.bin: record 17 has label 12, want 0..9"},
		{"fine.bin", cifarRecords(3, func(i int) []byte { return []byte{0, byte(98 + i)} }), true,
			"cifar fine.bin: record 2 has label 100, want 0..99"},
		{"coarse.bin", cifarRecords(3, func(i int) []byte { return []byte{byte(19 * i), 0} }), true,
			"cifar coarse.bin: record 2 has coarse label 38, want 0..19"},
		{"trunc100.bin", cifarRecords(2, func(int) []byte { return []byte{0, 0} })[:3074+3073], true,
			"cifar trunc100.bin: truncated: record 1 has 3073 of 3074 bytes"},
	}
	for _, c := range cases {
		p := filepath.Join(dir, c.name)
		write(t, p, c.data)
		open := OpenCIFAR10
		if c.hundred {
			open = OpenCIFAR100
		}
		_, err := open(p)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := OpenCIFAR10(filepath.Join(dir, "absent.bin")); err == nil || !strings.Contains(err.Error(), "absent.bin") {
		t.Errorf("absent file: %v", err)
	}
	// A meta file with the wrong number of names is an error naming it.
	sub := filepath.Join(dir, "meta")
	write(t, filepath.Join(sub, "test_batch.bin"), ten(2))
	write(t, filepath.Join(sub, "batches.meta.txt"), []byte("cat\ndog\n"))
	if _, err := OpenCIFAR10(filepath.Join(sub, "test_batch.bin")); err == nil || !strings.Contains(err.Error(), "batches.meta.txt: 2 class names, want 10") {
		t.Errorf("bad meta: %v", err)
	}
	c, err := parseCIFAR("x.bin", ten(3), 1)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, Pixels)
	if _, err := c.Image(3, x); err == nil {
		t.Error("index 3 of 3 accepted")
	}
	if _, err := c.Image(-1, x); err == nil {
		t.Error("index -1 accepted")
	}
	if _, err := c.Image(0, x[:Pixels-1]); err == nil {
		t.Error("short destination accepted")
	}
	if c.Label(3) != -1 || c.CoarseLabel(0) != -1 || c.Classes() != nil {
		t.Error("Label/CoarseLabel/Classes out of range or CIFAR-10")
	}
}

func FuzzCIFAR(f *testing.F) {
	f.Add(cifarRecords(2, func(i int) []byte { return []byte{byte(i)} }), false)
	f.Add(cifarRecords(2, func(i int) []byte { return []byte{1, byte(50 + i)} }), true)
	f.Add(cifarRecords(1, func(i int) []byte { return []byte{10} }), false)
	f.Add([]byte{}, false)
	f.Add([]byte{3, 4, 5}, true)
	f.Fuzz(func(t *testing.T, data []byte, hundred bool) {
		labels := 1
		if hundred {
			labels = 2
		}
		c, err := parseCIFAR("fuzz.bin", data, labels)
		if err != nil {
			if c != nil {
				t.Fatal("dataset and error")
			}
			return
		}
		if c.Len() == 0 || c.Len()*(labels+Pixels) != len(data) {
			t.Fatalf("%d records from %d bytes", c.Len(), len(data))
		}
		x := make([]float32, Pixels)
		for i := range c.Len() {
			l, err := c.Image(i, x)
			if err != nil {
				t.Fatalf("image %d: %v", i, err)
			}
			if l < 0 || (!hundred && l >= 10) || (hundred && (l >= 100 || c.CoarseLabel(i) >= 20)) {
				t.Fatalf("image %d: label %d out of range", i, l)
			}
			for k, v := range x {
				if v < 0 || v > 1 || v != float32(data[i*(labels+Pixels)+labels+k])/255 {
					t.Fatalf("image %d value %d: %v", i, k, v)
				}
			}
		}
	})
}

func write(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
