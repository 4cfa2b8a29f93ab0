package dataset

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// CIFAR is a CIFAR-10 or CIFAR-100 binary file held in memory.
type CIFAR struct {
	name    string
	data    []byte // whole file
	labels  int    // label bytes per record: 1 (CIFAR-10) or 2 (CIFAR-100: coarse, fine)
	n       int
	classes []string // fine names for CIFAR-100
	coarse  []string // CIFAR-100 only
}

// OpenCIFAR10 reads a CIFAR-10 binary batch (records of 1 label byte and 3072 pixel bytes: 1024 R,
// 1024 G, 1024 B). Class names come from batches.meta.txt in the same folder when it is present.
func OpenCIFAR10(path string) (*CIFAR, error) {
	c, err := readCIFAR(path, 1)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	if c.classes, err = readNames(filepath.Join(dir, "batches.meta.txt"), 10); err != nil {
		return nil, err
	}
	c.name = cifarName("CIFAR-10", path, "test_batch.bin")
	return c, nil
}

// OpenCIFAR100 reads a CIFAR-100 binary file (records of a coarse and a fine label byte and 3072
// pixel bytes). Image returns the fine label; CoarseLabel gives the other. Class names come from
// fine_label_names.txt and coarse_label_names.txt in the same folder when they are present.
func OpenCIFAR100(path string) (*CIFAR, error) {
	c, err := readCIFAR(path, 2)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	if c.classes, err = readNames(filepath.Join(dir, "fine_label_names.txt"), 100); err != nil {
		return nil, err
	}
	if c.coarse, err = readNames(filepath.Join(dir, "coarse_label_names.txt"), 20); err != nil {
		return nil, err
	}
	c.name = cifarName("CIFAR-100", path, "test.bin")
	return c, nil
}

// openCIFAR opens a CIFAR-10 (labels 10) or CIFAR-100 file.
func openCIFAR(path string, labels int) (*CIFAR, error) {
	if labels == 100 {
		return OpenCIFAR100(path)
	}
	return OpenCIFAR10(path)
}

// cifarName names the official test file by its role and any other file by its name.
func cifarName(set, path, test string) string {
	base := filepath.Base(path)
	if base == test {
		return set + " test"
	}
	return set + " " + base
}

func readCIFAR(path string, labels int) (*CIFAR, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cifar %s: %w", path, err)
	}
	return parseCIFAR(filepath.Base(path), data, labels)
}

// parseCIFAR validates data as records with the given number of label bytes. name is used in
// errors only.
func parseCIFAR(name string, data []byte, labels int) (*CIFAR, error) {
	rec := labels + Pixels
	if len(data) == 0 {
		return nil, fmt.Errorf("cifar %s: empty file", name)
	}
	if r := len(data) % rec; r != 0 {
		return nil, fmt.Errorf("cifar %s: truncated: record %d has %d of %d bytes", name, len(data)/rec, r, rec)
	}
	n := len(data) / rec
	fine, coarse := 10, 0
	if labels == 2 {
		fine, coarse = 100, 20
	}
	for i := range n {
		r := data[i*rec : i*rec+labels]
		if labels == 2 && int(r[0]) >= coarse {
			return nil, fmt.Errorf("cifar %s: record %d has coarse label %d, want 0..%d", name, i, r[0], coarse-1)
		}
		if l := r[labels-1]; int(l) >= fine {
			return nil, fmt.Errorf("cifar %s: record %d has label %d, want 0..%d", name, i, l, fine-1)
		}
	}
	return &CIFAR{name: "CIFAR " + name, data: data, labels: labels, n: n}, nil
}

// readNames reads one class name per line; a missing file gives nil names, not an error.
func readNames(path string, want int) ([]string, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cifar %s: %w", path, err)
	}
	var names []string
	for line := range strings.Lines(string(b)) {
		if s := strings.TrimSpace(line); s != "" {
			names = append(names, s)
		}
	}
	if len(names) != want {
		return nil, fmt.Errorf("cifar %s: %d class names, want %d", path, len(names), want)
	}
	return names, nil
}

// Name returns e.g. "CIFAR-10 test".
func (c *CIFAR) Name() string { return c.name }

// Len returns the number of images.
func (c *CIFAR) Len() int { return c.n }

// Classes returns the (fine) class names, nil when the meta file was absent.
func (c *CIFAR) Classes() []string { return c.classes }

// CoarseClasses returns CIFAR-100's 20 superclass names, nil for CIFAR-10 or when absent.
func (c *CIFAR) CoarseClasses() []string { return c.coarse }

// Image writes image i and returns its (fine) label.
func (c *CIFAR) Image(i int, dst []float32) (int, error) {
	if err := checkArgs(c.name, c.n, i, dst); err != nil {
		return 0, err
	}
	r := c.record(i)
	toFloat(dst, r[c.labels:])
	return int(r[c.labels-1]), nil
}

// Label returns the (fine) label of image i, or -1 if i is out of range.
func (c *CIFAR) Label(i int) int {
	if i < 0 || i >= c.n {
		return -1
	}
	return int(c.record(i)[c.labels-1])
}

// CoarseLabel returns the CIFAR-100 superclass of image i, or -1 for CIFAR-10 or i out of range.
func (c *CIFAR) CoarseLabel(i int) int {
	if c.labels < 2 || i < 0 || i >= c.n {
		return -1
	}
	return int(c.record(i)[0])
}

func (c *CIFAR) record(i int) []byte {
	rec := c.labels + Pixels
	return c.data[i*rec : (i+1)*rec]
}
