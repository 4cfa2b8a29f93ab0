package fetch

import (
	"encoding/hex"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"strings"
)

// Source describes one downloadable archive and where its contents go.
type Source struct {
	// Name is the data set's name on the command line, e.g. "cifar10".
	Name string
	// URL is where the gzip-compressed tar archive is downloaded from.
	URL string
	// MD5 is the archive's published MD5 in hex; empty when none is published.
	MD5 string
	// Size is the archive's published size in bytes, used for progress when the server does not
	// send a length; 0 when unknown.
	Size int64

	// Into is the folder, relative to the data folder (slash-separated), that receives the
	// archive's members.
	Into string
	// Strip is the number of leading path elements dropped from each member's name before it is
	// placed under Into, as tar's --strip-components; members with no elements left are skipped.
	Strip int
	// Want lists paths, relative to Into, that must exist after unpacking.
	Want []string
}

// Sources returns the built-in data sets. The CIFAR checksums and sizes are those published on
// https://www.cs.toronto.edu/~kriz/cifar.html. The ODIN authors published no checksums for their
// out-of-distribution archives, so those are unverified on first download (see the package
// documentation). Each archive holds one top folder, which Strip drops so that its contents land
// in Into whatever that folder is called.
func Sources() []Source {
	// The Dropbox links are those of the ODIN README; dl=1 asks Dropbox for the file itself
	// instead of its preview page.
	ood := func(name, id, sub string) Source {
		return Source{
			Name:  name,
			URL:   "https://www.dropbox.com/s/" + id + "/" + name + ".tar.gz?dl=1",
			Into:  name,
			Strip: 1,
			Want:  []string{sub},
		}
	}
	return []Source{
		{
			Name:  "cifar10",
			URL:   "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
			MD5:   "c32a1d4ab5d03f1284b67883e8d87530",
			Size:  170052171,
			Into:  "cifar-10-batches-bin",
			Strip: 1,
			Want: []string{"test_batch.bin", "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
				"data_batch_4.bin", "data_batch_5.bin", "batches.meta.txt"},
		},
		{
			Name:  "cifar100",
			URL:   "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
			MD5:   "03b5dce01913d631647c71ecec9e9cb8",
			Size:  168513733,
			Into:  "cifar-100-binary",
			Strip: 1,
			Want:  []string{"test.bin", "train.bin", "fine_label_names.txt", "coarse_label_names.txt"},
		},
		ood("Imagenet", "avgm2u562itwpkl", "test"),
		ood("Imagenet_resize", "kp3my3412u5k9rl", "Imagenet_resize"),
		ood("LSUN", "fhtsw1m3qxlwj6h", "test"),
		ood("LSUN_resize", "moqh2wh8696c3yl", "LSUN_resize"),
		ood("iSUN", "ssz7qxfqae0cca5", "iSUN_patches"),
	}
}

// Lookup returns the built-in source called name.
func Lookup(name string) (Source, bool) {
	for _, s := range Sources() {
		if s.Name == name {
			return s, true
		}
	}
	return Source{}, false
}

// Names returns the names of the built-in sources in table order.
func Names() []string {
	src := Sources()
	names := make([]string, len(src))
	for i, s := range src {
		names[i] = s.Name
	}
	return names
}

// Dir returns the folder the source unpacks into under dataDir.
func (s Source) Dir(dataDir string) string {
	return filepath.Join(dataDir, filepath.FromSlash(s.Into))
}

// Manifest returns the path of the manifest Fetch writes beside the unpacked folder.
func (s Source) Manifest(dataDir string) string {
	return s.Dir(dataDir) + ".fetch.txt"
}

// file is the archive's name in the partial folder: the URL's last path element.
func (s Source) file() string {
	u, err := url.Parse(s.URL)
	if err != nil {
		return s.Name + ".tar.gz"
	}
	base := path.Base(u.Path)
	if base == "." || base == "/" || !filepath.IsLocal(base) {
		return s.Name + ".tar.gz"
	}
	return base
}

// check reports a source that Fetch cannot use safely.
func (s Source) check() error {
	// The name is part of file names under the partial folder.
	if s.Name == "" || strings.Trim(s.Name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != "" ||
		strings.HasPrefix(s.Name, ".") {
		return fmt.Errorf("fetch: source name %q is empty or not made of letters, digits, '_', '-' and '.'", s.Name)
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		return fmt.Errorf("%s: bad URL %q: %v", s.Name, s.URL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%s: URL %q is not http or https", s.Name, s.URL)
	}
	if s.MD5 != "" {
		if b, err := hex.DecodeString(s.MD5); err != nil || len(b) != 16 {
			return fmt.Errorf("%s: MD5 %q is not 32 hex digits", s.Name, s.MD5)
		}
	}
	if s.Into == "" || strings.Contains(s.Into, `\`) || !filepath.IsLocal(filepath.FromSlash(s.Into)) ||
		strings.HasPrefix(s.Into, ".partial") {
		return fmt.Errorf("%s: Into %q is not a folder inside the data folder", s.Name, s.Into)
	}
	if s.Strip < 0 {
		return fmt.Errorf("%s: negative Strip %d", s.Name, s.Strip)
	}
	for _, w := range s.Want {
		if !filepath.IsLocal(filepath.FromSlash(w)) {
			return fmt.Errorf("%s: Want path %q is not inside Into", s.Name, w)
		}
	}
	return nil
}
