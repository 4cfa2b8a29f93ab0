package fetch

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// badArchive marks an archive whose content is unusable: fetching it again is the only remedy.
type badArchive struct{ msg string }

func (e *badArchive) Error() string { return e.msg }

// unpack extracts the gzip-compressed tar archive into dir, which must exist and be empty,
// dropping strip leading elements from each member's name and skipping members left with none.
// Only regular files and folders are
// accepted; any member that is a link or a device, or whose name is absolute or contains a ".."
// element or a backslash, rejects the archive.
func unpack(ctx context.Context, archive, dir string, strip int) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	name := filepath.Base(archive)
	zr, err := gzip.NewReader(f)
	if err != nil {
		return &badArchive{fmt.Sprintf("%s: not a gzip file: %v", name, err)}
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	buf := make([]byte, 256<<10)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return &badArchive{fmt.Sprintf("%s: %v", name, err)}
		}
		rel, keep, err := memberPath(hdr.Name, strip)
		if err != nil {
			return &badArchive{fmt.Sprintf("%s: member %q: %v", name, hdr.Name, err)}
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if keep {
				if err := os.MkdirAll(filepath.Join(dir, rel), 0o755); err != nil {
					return err
				}
			}
		case tar.TypeReg:
			if !keep {
				continue // as tar --strip-components does; e.g. a "._Imagenet" left by macOS
			}
			if err := writeMember(ctx, filepath.Join(dir, rel), tr, buf); err != nil {
				if errors.Is(err, io.ErrUnexpectedEOF) {
					return &badArchive{fmt.Sprintf("%s: member %q: truncated", name, hdr.Name)}
				}
				return err
			}
		case tar.TypeXGlobalHeader:
			// pax metadata for the whole archive (git archive writes one); no file.
		case tar.TypeSymlink, tar.TypeLink:
			return &badArchive{fmt.Sprintf("%s: member %q is a link to %q; only regular files and folders are unpacked",
				name, hdr.Name, hdr.Linkname)}
		default:
			return &badArchive{fmt.Sprintf("%s: member %q has type %q; only regular files and folders are unpacked",
				name, hdr.Name, hdr.Typeflag)}
		}
	}
	// Reading to the end of the gzip stream checks its CRC and length, which tar's end marker
	// may come before.
	if _, err := io.CopyBuffer(io.Discard, zr, buf); err != nil {
		return &badArchive{fmt.Sprintf("%s: %v", name, err)}
	}
	return nil
}

// memberPath turns an archive member's name into a slash-separated path relative to the unpack
// folder. keep is false for a member that strip removes entirely (the archive's top folder).
func memberPath(name string, strip int) (rel string, keep bool, err error) {
	if strings.ContainsAny(name, "\\\x00") {
		return "", false, errors.New("backslash or NUL in the name")
	}
	if strings.HasPrefix(name, "/") {
		return "", false, errors.New("absolute path")
	}
	var parts []string
	for _, p := range strings.Split(name, "/") {
		switch p {
		case "", ".":
		case "..":
			return "", false, errors.New(`".." in the path`)
		default:
			parts = append(parts, p)
		}
	}
	if len(parts) <= strip {
		return "", false, nil
	}
	rel = strings.Join(parts[strip:], "/")
	if !filepath.IsLocal(filepath.FromSlash(rel)) {
		return "", false, errors.New("not a local path")
	}
	return rel, true, nil
}

func writeMember(ctx context.Context, name string, r io.Reader, buf []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = io.CopyBuffer(f, ctxReader{ctx, r}, buf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ctxReader stops a long member's copy when the context is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// missing returns the paths of want absent under dir.
func missing(dir string, want []string) []string {
	var out []string
	for _, w := range want {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(w))); err != nil {
			out = append(out, w)
		}
	}
	return out
}

// listing names up to a few entries of dir, for error messages about an unexpected layout.
func listing(dir string) string {
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) == 0 {
		return "nothing"
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() {
			n += "/"
		}
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) > 5 {
		names = append(names[:5], fmt.Sprintf("and %d more", len(names)-5))
	}
	return strings.Join(names, ", ")
}
