package fetch

import (
	"bufio"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrExists is wrapped by the error Fetch returns when the source's folder is already present and
// Options.Force is not set.
var ErrExists = errors.New("already present")

// Options tunes Fetch. The zero value is ready to use.
type Options struct {
	// Client makes the requests; nil means a client without an overall timeout (downloads are
	// long; stalls are caught by Stall instead).
	Client *http.Client
	// Progress receives a progress line redrawn in place with carriage returns; nil for none.
	Progress io.Writer
	// Log receives one-line notes: retries, restarts, the checksum outcome; nil for none.
	Log io.Writer
	// Force fetches again and replaces the source's folder if it is present.
	Force bool

	// Attempts is how many attempts in a row may fail without adding a byte before the download
	// gives up; 0 means 5.
	Attempts int
	// Backoff is the wait after the first failed attempt, doubled after each further one up to
	// 30 s and reset by progress; 0 means 1 s.
	Backoff time.Duration
	// Stall is how long a request may go without receiving a byte before it is abandoned and
	// retried; 0 means 60 s.
	Stall time.Duration
}

func (o Options) attempts() int {
	if o.Attempts > 0 {
		return o.Attempts
	}
	return 5
}

func (o Options) backoff() time.Duration {
	if o.Backoff > 0 {
		return o.Backoff
	}
	return time.Second
}

func (o Options) stall() time.Duration {
	if o.Stall > 0 {
		return o.Stall
	}
	return 60 * time.Second
}

func (o Options) logf(format string, a ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format+"\n", a...)
	}
}

// partialDir is the folder under the data folder holding downloads and unpacks in progress.
const partialDir = ".partial"

// Fetch downloads src's archive, verifies it and unpacks it into dataDir as the package
// documentation describes.
func Fetch(ctx context.Context, src Source, dataDir string, opt Options) error {
	if err := src.check(); err != nil {
		return err
	}
	target := src.Dir(dataDir)
	if _, err := os.Lstat(target); err == nil && !opt.Force {
		return fmt.Errorf("%s: %s: %w", src.Name, target, ErrExists)
	}
	part := filepath.Join(dataDir, partialDir)
	if err := os.MkdirAll(part, 0o755); err != nil {
		return fmt.Errorf("%s: %v", src.Name, err)
	}
	archive := filepath.Join(part, src.file())
	client := opt.Client
	if client == nil {
		client = &http.Client{}
	}
	d := &downloader{src: src, client: client, file: archive, meta: archive + ".meta", opt: opt}
	if err := d.run(ctx); err != nil {
		if ctx.Err() != nil {
			opt.logf("%s: interrupted; %s kept (%d bytes), run again to resume", src.Name, archive, fileSize(archive))
			return fmt.Errorf("%s: %w", src.Name, ctx.Err())
		}
		if fileSize(archive) == 0 { // nothing worth resuming: leave no trace
			removeArchive(archive)
			os.Remove(part)
		}
		return fmt.Errorf("%s: %w", src.Name, err)
	}

	sums, err := sumFile(ctx, archive)
	if err != nil {
		return fmt.Errorf("%s: %w", src.Name, err)
	}
	manifest := src.Manifest(dataDir)
	checked, err := verify(src, sums, manifest)
	if err != nil {
		removeArchive(archive)
		return fmt.Errorf("%s: %s: %v (download removed)", src.Name, src.file(), err)
	}

	if err := install(ctx, src, archive, part, target); err != nil {
		var bad *badArchive
		if errors.As(err, &bad) {
			removeArchive(archive)
			return fmt.Errorf("%s: %v (download removed)", src.Name, err)
		}
		return fmt.Errorf("%s: unpacking %s: %w", src.Name, archive, err)
	}
	if err := writeManifest(manifest, src, sums, checked); err != nil {
		return fmt.Errorf("%s: %v", src.Name, err)
	}
	opt.logf("%s: %s", src.Name, checked)
	removeArchive(archive)
	os.Remove(part) // only if empty: other downloads may be in progress there
	return nil
}

// install unpacks the archive into a fresh folder beside it and renames that into target, so
// target is either as it was or complete.
func install(ctx context.Context, src Source, archive, part, target string) error {
	stale, _ := filepath.Glob(filepath.Join(part, src.Name+".unpack-*"))
	for _, s := range stale {
		os.RemoveAll(s) // left by an interrupted run
	}
	tmp, err := os.MkdirTemp(part, src.Name+".unpack-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)                      // a no-op once renamed
	if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp makes it private
		return err
	}
	if err := unpack(ctx, archive, tmp, src.Strip); err != nil {
		return err
	}
	if miss := missing(tmp, src.Want); len(miss) > 0 {
		return &badArchive{fmt.Sprintf("%s: unexpected layout: %s missing after unpacking (found %s)",
			filepath.Base(archive), strings.Join(miss, ", "), listing(tmp))}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	old := tmp + ".old"
	if _, err := os.Lstat(target); err == nil {
		if err := os.Rename(target, old); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, target); err != nil {
		os.Rename(old, target) // put the earlier copy back
		return err
	}
	return os.RemoveAll(old)
}

func removeArchive(archive string) {
	os.Remove(archive)
	os.Remove(archive + ".meta")
}

// sums are an archive's size and digests.
type sums struct {
	size        int64
	md5, sha256 string
}

func sumFile(ctx context.Context, name string) (sums, error) {
	f, err := os.Open(name)
	if err != nil {
		return sums{}, err
	}
	defer f.Close()
	m, s := md5.New(), sha256.New()
	n, err := io.CopyBuffer(io.MultiWriter(m, s), ctxReader{ctx, f}, make([]byte, 256<<10))
	if err != nil {
		return sums{}, fmt.Errorf("%s: %w", name, err)
	}
	return sums{size: n, md5: hex.EncodeToString(m.Sum(nil)), sha256: hex.EncodeToString(s.Sum(nil))}, nil
}

// verify checks the archive against the published MD5 or, when there is none, against the
// SHA-256 of an earlier download recorded in the manifest. It returns how it was checked.
func verify(src Source, got sums, manifest string) (string, error) {
	if src.MD5 != "" {
		want := strings.ToLower(src.MD5)
		if got.md5 != want {
			return "", fmt.Errorf("md5 mismatch: expected %s, got %s", want, got.md5)
		}
		return "md5 " + got.md5 + " matches the expected checksum", nil
	}
	if prev, ok := readManifest(manifest)["sha256"]; ok {
		if got.sha256 != prev {
			return "", fmt.Errorf("sha256 %s differs from %s recorded in %s at the first download (delete it to accept this one)",
				got.sha256, prev, manifest)
		}
		return "sha256 " + got.sha256 + " matches the first download recorded in " + manifest, nil
	}
	return fmt.Sprintf("unverified: no checksum is published; recorded size %d and sha256 %s in %s",
		got.size, got.sha256, manifest), nil
}

// writeManifest records what was unpacked and how it was checked, beside the folder.
func writeManifest(name string, src Source, s sums, checked string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# written by odin fetch: the archive unpacked into %s/\n", src.Into)
	fmt.Fprintf(&b, "name: %s\nurl: %s\nfile: %s\nsize: %d\nmd5: %s\nsha256: %s\nchecked: %s\nfetched: %s\n",
		src.Name, src.URL, src.file(), s.size, s.md5, s.sha256, checked, time.Now().UTC().Format(time.RFC3339))
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

// readManifest returns the key: value lines of a manifest; empty if it cannot be read.
func readManifest(name string) map[string]string {
	kv := map[string]string{}
	f, err := os.Open(name)
	if err != nil {
		return kv
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		if k, v, ok := strings.Cut(line, ": "); ok {
			kv[k] = strings.TrimSpace(v)
		}
	}
	return kv
}
