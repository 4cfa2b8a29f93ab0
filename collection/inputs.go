package collection

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/odin-ood/odin/internal/durable"
)

// maxListLine bounds one line of a list file, so that a binary file given as a list fails
// instead of being read whole.
const maxListLine = 64 << 10

// List returns the input paths that args name (folders, globs, images, list files; see the
// package doc), in order. Duplicates and arguments that match nothing are errors.
func List(args []string) ([]string, error) {
	if len(args) == 0 {
		return nil, errors.New("no inputs")
	}
	var out []string
	seen := make(map[string]string)
	for _, a := range args {
		paths, err := listOne(a)
		if err != nil {
			return nil, err
		}
		for _, p := range paths {
			if from, dup := seen[p]; dup {
				return nil, fmt.Errorf("input %s is listed twice (by %s and by %s)", p, from, a)
			}
			seen[p] = a
		}
		out = append(out, paths...)
	}
	return out, nil
}

func listOne(arg string) ([]string, error) {
	if IsURL(arg) {
		return []string{arg}, nil
	}
	st, err := os.Stat(arg)
	switch {
	case err == nil && st.IsDir():
		return listFolder(arg)
	case err == nil:
		return listFile(arg)
	case errors.Is(err, fs.ErrNotExist) && strings.ContainsAny(arg, "*?["):
		return listGlob(arg)
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("input %s: no such file or folder", arg)
	}
	return nil, fmt.Errorf("input %s: %w", arg, durable.UnwrapPath(err))
}

// IsURL reports whether p is an http or https URL, which the Fetcher downloads.
func IsURL(p string) bool {
	return strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "https://")
}

func isImageName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return false
}

func listFolder(dir string) ([]string, error) {
	var rel []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !isImageName(d.Name()) {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
				return nil
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		r, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = append(rel, filepath.ToSlash(r))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("input folder %s: %v", dir, err)
	}
	if len(rel) == 0 {
		return nil, fmt.Errorf("input folder %s: no .png, .jpg or .jpeg files", dir)
	}
	slices.Sort(rel)
	out := make([]string, len(rel))
	for i, r := range rel {
		out[i] = filepath.Join(dir, filepath.FromSlash(r))
	}
	return out, nil
}

func listGlob(pattern string) ([]string, error) {
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return nil, fmt.Errorf("input glob %s: %v", pattern, err)
	}
	var out []string
	for _, m := range matches {
		if st, err := os.Stat(m); err == nil && st.Mode().IsRegular() {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("input glob %s: matches no file", pattern)
	}
	slices.Sort(out)
	return out, nil
}

// listFile returns an image file itself, or the entries of a list file.
func listFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", path, durable.UnwrapPath(err))
	}
	defer f.Close()
	br := bufio.NewReader(f)
	head, _ := br.Peek(8)
	if bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")) || bytes.HasPrefix(head, []byte{0xff, 0xd8, 0xff}) {
		return []string{path}, nil
	}
	return ReadList(path, br)
}

// ReadList reads a list of inputs from r: one path or URL per line, blank lines and '#' comments
// skipped. name is used in errors.
func ReadList(name string, r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxListLine)
	var out []string
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.ContainsRune(line, 0) {
			return nil, fmt.Errorf("list %s:%d: not a text line (is this a list of paths?)", name, n)
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("list %s: a line longer than %d bytes (is this a list of paths?)", name, maxListLine)
		}
		return nil, fmt.Errorf("list %s: %v", name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("list %s: no paths", name)
	}
	return out, nil
}
