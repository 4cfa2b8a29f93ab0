package fetch

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFetchCIFAR10(t *testing.T) {
	ms := fakeCIFAR10()
	arc := tarGz(t, ms)
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) { content(w, r, arc) })
	src := cifarSource(t, srv.URL+"/cifar-10-binary.tar.gz", md5hex(arc))
	data := t.TempDir()
	var log bytes.Buffer
	opt := quick()
	opt.Log = &log
	if err := Fetch(context.Background(), src, data, opt); err != nil {
		t.Fatal(err)
	}
	checkUnpacked(t, filepath.Join(data, "cifar-10-batches-bin"), ms)
	if _, err := os.Stat(filepath.Join(data, partialDir)); !os.IsNotExist(err) {
		t.Errorf("empty .partial left: %v", err)
	}
	if st, err := os.Stat(src.Dir(data)); err != nil || st.Mode().Perm()&0o055 != 0o055 {
		t.Errorf("unpacked folder not readable by others: %v", st.Mode())
	}
	if n := len(srv.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	if h := srv.requests()[0].Header.Get("Accept-Encoding"); h != "identity" {
		t.Errorf("Accept-Encoding %q, want identity", h)
	}
	m := readManifest(src.Manifest(data))
	sha := sha256.Sum256(arc)
	for k, v := range map[string]string{
		"name": "cifar10", "url": src.URL, "file": "cifar-10-binary.tar.gz", "size": strconv.Itoa(len(arc)),
		"md5": md5hex(arc), "sha256": hex.EncodeToString(sha[:]),
		"checked": "md5 " + md5hex(arc) + " matches the expected checksum",
	} {
		if m[k] != v {
			t.Errorf("manifest %s: %q, want %q", k, m[k], v)
		}
	}
	if !strings.Contains(log.String(), "matches the expected checksum") {
		t.Errorf("log lacks the checksum outcome: %q", log.String())
	}

	// Present: reported, untouched, no request.
	err := Fetch(context.Background(), src, data, opt)
	if !errors.Is(err, ErrExists) {
		t.Fatalf("second fetch: %v, want ErrExists", err)
	}
	if n := len(srv.requests()); n != 1 {
		t.Errorf("second fetch made a request")
	}

	// Force replaces the folder: a stray file in it disappears.
	stray := filepath.Join(data, "cifar-10-batches-bin", "stray")
	if err := os.WriteFile(stray, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	opt.Force = true
	if err := Fetch(context.Background(), src, data, opt); err != nil {
		t.Fatal(err)
	}
	checkUnpacked(t, filepath.Join(data, "cifar-10-batches-bin"), ms)
	if left := partialEntries(t, data); len(left) != 0 {
		t.Errorf(".partial still holds %v", left)
	}
}

func TestFetchCorrupt(t *testing.T) {
	arc := tarGz(t, fakeCIFAR10())
	bad := bytes.Clone(arc)
	bad[len(bad)/2] ^= 0xff
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) { content(w, r, bad) })
	src := cifarSource(t, srv.URL+"/cifar-10-binary.tar.gz", md5hex(arc))
	data := t.TempDir()
	err := Fetch(context.Background(), src, data, quick())
	want := "cifar10: cifar-10-binary.tar.gz: md5 mismatch: expected " + md5hex(arc) + ", got " + md5hex(bad) +
		" (download removed)"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v\nwant %s", err, want)
	}
	if left := partialEntries(t, data); len(left) != 0 {
		t.Errorf(".partial still holds %v", left)
	}
	if _, err := os.Stat(src.Dir(data)); !os.IsNotExist(err) {
		t.Errorf("target created: %v", err)
	}
}

func TestFetchForceKeepsOldOnFailure(t *testing.T) {
	arc := tarGz(t, fakeCIFAR10())
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) { content(w, r, arc) })
	src := cifarSource(t, srv.URL+"/cifar-10-binary.tar.gz", strings.Repeat("0", 32))
	data := t.TempDir()
	keep := filepath.Join(src.Dir(data), "test_batch.bin")
	if err := os.MkdirAll(filepath.Dir(keep), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keep, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	opt := quick()
	opt.Force = true
	if err := Fetch(context.Background(), src, data, opt); err == nil || !strings.Contains(err.Error(), "md5 mismatch") {
		t.Fatalf("error %v, want md5 mismatch", err)
	}
	if b, err := os.ReadFile(keep); err != nil || string(b) != "old" {
		t.Errorf("existing data changed: %q, %v", b, err)
	}
}

// TestDownloadResumeAfterDrop breaks the connection halfway: the retry asks for the rest with
// If-Range and the file ends up identical.
func TestDownloadResumeAfterDrop(t *testing.T) {
	arc := tarGz(t, fakeCIFAR10())
	half := len(arc) / 2
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, i int) {
		if i == 0 {
			dropAfter(w, arc, half)
		}
		content(w, r, arc)
	})
	src := cifarSource(t, srv.URL+"/cifar-10-binary.tar.gz", md5hex(arc))
	file := filepath.Join(t.TempDir(), "cifar-10-binary.tar.gz")
	var log bytes.Buffer
	opt := quick()
	opt.Log = &log
	d := &downloader{src: src, client: http.DefaultClient, file: file, meta: file + ".meta", opt: opt}
	if err := d.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, arc) {
		t.Fatalf("downloaded %d bytes differ from the %d served", len(got), len(arc))
	}
	reqs := srv.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	if g, w := reqs[1].Header.Get("Range"), "bytes="+strconv.Itoa(half)+"-"; g != w {
		t.Errorf("retry Range %q, want %q", g, w)
	}
	if g, w := reqs[1].Header.Get("If-Range"), `"`+md5hex(arc)+`"`; g != w {
		t.Errorf("retry If-Range %q, want %q", g, w)
	}
	if !strings.Contains(log.String(), "retrying") {
		t.Errorf("log lacks the retry: %q", log.String())
	}
}

// TestFetchResumeAfterDrop is the same through Fetch, down to the unpacked files.
func TestFetchResumeAfterDrop(t *testing.T) {
	ms := fakeCIFAR10()
	arc := tarGz(t, ms)
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, i int) {
		if i < 2 {
			dropAfter(w, arc, (i+1)*len(arc)/3) // second drop is mid-range, from a resumed request
		}
		content(w, r, arc)
	})
	src := cifarSource(t, srv.URL+"/cifar-10-binary.tar.gz", md5hex(arc))
	data := t.TempDir()
	if err := Fetch(context.Background(), src, data, quick()); err != nil {
		t.Fatal(err)
	}
	checkUnpacked(t, src.Dir(data), ms)
	if n := len(srv.requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

// TestDownloadRangeIgnored has a server that always sends the whole file: the retry starts over.
func TestDownloadRangeIgnored(t *testing.T) {
	arc := tarGz(t, fakeCIFAR10())
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, i int) {
		if i == 0 {
			dropAfter(w, arc, len(arc)/2)
		}
		w.Header().Set("Content-Type", "application/gzip")
		w.Write(arc) // no ranges
	})
	src := cifarSource(t, srv.URL+"/cifar-10-binary.tar.gz", md5hex(arc))
	file := filepath.Join(t.TempDir(), "cifar-10-binary.tar.gz")
	var log bytes.Buffer
	opt := quick()
	opt.Log = &log
	d := &downloader{src: src, client: http.DefaultClient, file: file, meta: file + ".meta", opt: opt}
	if err := d.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, arc) {
		t.Fatalf("downloaded %d bytes differ from the %d served", len(got), len(arc))
	}
	reqs := srv.requests()
	if len(reqs) != 2 || reqs[1].Header.Get("Range") == "" {
		t.Fatalf("%d requests, second with Range %q; want 2, the second a range request",
			len(reqs), reqs[len(reqs)-1].Header.Get("Range"))
	}
	if !strings.Contains(log.String(), "server sent the whole file instead of bytes "+strconv.Itoa(len(arc)/2)+" on; restarting") {
		t.Errorf("log lacks the restart: %q", log.String())
	}
}

// TestDownloadRangeMisplaced has a server answering 206 from the wrong offset: start over.
func TestDownloadRangeMisplaced(t *testing.T) {
	arc := tarGz(t, fakeCIFAR10())
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, i int) {
		switch i {
		case 0:
			dropAfter(w, arc, len(arc)/2)
		case 1:
			w.Header().Set("Content-Range", "bytes 10-"+strconv.Itoa(len(arc)-1)+"/"+strconv.Itoa(len(arc)))
			w.WriteHeader(http.StatusPartialContent)
			w.Write(arc[10:])
		default:
			content(w, r, arc)
		}
	})
	src := cifarSource(t, srv.URL+"/cifar-10-binary.tar.gz", md5hex(arc))
	file := filepath.Join(t.TempDir(), "cifar-10-binary.tar.gz")
	d := &downloader{src: src, client: http.DefaultClient, file: file, meta: file + ".meta", opt: quick()}
	if err := d.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(file); !bytes.Equal(got, arc) {
		t.Fatalf("downloaded bytes differ from those served")
	}
	reqs := srv.requests()
	if len(reqs) != 3 || reqs[2].Header.Get("Range") != "" {
		t.Errorf("%d requests; want 3, the last one for the whole file", len(reqs))
	}
}

func TestFetchNotFound(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) { http.NotFound(w, r) })
	url := srv.URL + "/missing/cifar-10-binary.tar.gz"
	src := cifarSource(t, url, md5hex(nil))
	data := t.TempDir()
	err := Fetch(context.Background(), src, data, quick())
	want := "cifar10: GET " + url + ": 404 Not Found"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %s", err, want)
	}
	if n := len(srv.requests()); n != 1 {
		t.Errorf("%d requests for a 404, want 1", n)
	}
	if _, err := os.Stat(filepath.Join(data, partialDir)); !os.IsNotExist(err) {
		t.Errorf(".partial left after a failure with nothing downloaded: %v", err)
	}
}

func TestFetchHTML(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<html>sign in to see this file</html>")
	})
	url := srv.URL + "/s/x/Imagenet.tar.gz?dl=1"
	src := Source{Name: "Imagenet", URL: url, Into: "Imagenet", Strip: 1, Want: []string{"test"}}
	err := Fetch(context.Background(), src, t.TempDir(), quick())
	want := "Imagenet: GET " + url + ": server sent an HTML page, not the archive"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %s", err, want)
	}
}

func TestFetchRetriesBounded(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		http.Error(w, "busy", http.StatusServiceUnavailable)
	})
	src := cifarSource(t, srv.URL+"/cifar-10-binary.tar.gz", md5hex(nil))
	err := Fetch(context.Background(), src, t.TempDir(), quick())
	want := "cifar10: GET " + src.URL + ": 503 Service Unavailable (giving up after 3 attempts in a row without progress)"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v\nwant %s", err, want)
	}
	if n := len(srv.requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

// TestFetchStall has a server that stops sending halfway without closing: the watchdog abandons
// the request and the retry resumes.
func TestFetchStall(t *testing.T) {
	ms := fakeCIFAR10()
	arc := tarGz(t, ms)
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, i int) {
		if i == 0 {
			w.Header().Set("Content-Length", strconv.Itoa(len(arc)))
			w.Header().Set("ETag", `"`+md5hex(arc)+`"`)
			w.Write(arc[:len(arc)/2])
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		content(w, r, arc)
	})
	src := cifarSource(t, srv.URL+"/cifar-10-binary.tar.gz", md5hex(arc))
	data := t.TempDir()
	var log bytes.Buffer
	opt := quick()
	opt.Stall = 100 * time.Millisecond
	opt.Log = &log
	if err := Fetch(context.Background(), src, data, opt); err != nil {
		t.Fatal(err)
	}
	checkUnpacked(t, src.Dir(data), ms)
	if !strings.Contains(log.String(), "no data for 100ms; retrying") {
		t.Errorf("log lacks the stall: %q", log.String())
	}
	if reqs := srv.requests(); len(reqs) != 2 || reqs[1].Header.Get("Range") != "bytes="+strconv.Itoa(len(arc)/2)+"-" {
		t.Errorf("retry did not resume from byte %d", len(arc)/2)
	}
}

// interrupter is a transport whose response bodies cancel a context once `after` bytes have been
// read, as Ctrl-C would, and then fail as a cancelled request does.
type interrupter struct {
	after  int
	cancel context.CancelFunc
	ctx    context.Context
}

func (it *interrupter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		resp.Body = &interruptedBody{ReadCloser: resp.Body, it: it}
	}
	return resp, err
}

type interruptedBody struct {
	io.ReadCloser
	it *interrupter
	n  int
}

func (b *interruptedBody) Read(p []byte) (int, error) {
	if err := b.it.ctx.Err(); err != nil {
		return 0, err
	}
	p = p[:min(len(p), 1000)]
	n, err := b.ReadCloser.Read(p)
	b.n += n
	if b.n >= b.it.after {
		b.it.cancel()
	}
	return n, err
}

func TestFetchInterruptedThenResumed(t *testing.T) {
	ms := fakeCIFAR10()
	arc := tarGz(t, ms)
	var mu sync.Mutex
	var sent []int // body bytes written per request
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		cw := &countingWriter{ResponseWriter: w}
		content(cw, r, arc)
		mu.Lock()
		sent = append(sent, cw.n)
		mu.Unlock()
	})
	src := cifarSource(t, srv.URL+"/cifar-10-binary.tar.gz", md5hex(arc))
	data := t.TempDir()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	it := &interrupter{after: len(arc) / 2, cancel: cancel, ctx: ctx}
	var log bytes.Buffer
	opt := quick()
	opt.Client = &http.Client{Transport: it}
	opt.Log = &log
	err := Fetch(ctx, src, data, opt)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted fetch: %v, want context.Canceled", err)
	}
	partial := filepath.Join(data, partialDir, "cifar-10-binary.tar.gz")
	kept, err := os.ReadFile(partial)
	if err != nil {
		t.Fatalf("partial download not kept: %v", err)
	}
	if len(kept) < len(arc)/2 || len(kept) >= len(arc) || !bytes.Equal(kept, arc[:len(kept)]) {
		t.Fatalf("kept %d bytes, want a prefix of at least %d of the %d", len(kept), len(arc)/2, len(arc))
	}
	if !strings.Contains(log.String(), "interrupted; "+partial+" kept ("+strconv.Itoa(len(kept))+" bytes)") {
		t.Errorf("log lacks the interruption note: %q", log.String())
	}
	if _, err := os.Stat(src.Dir(data)); !os.IsNotExist(err) {
		t.Errorf("target created by an interrupted fetch")
	}

	if err := Fetch(context.Background(), src, data, quick()); err != nil {
		t.Fatal(err)
	}
	checkUnpacked(t, src.Dir(data), ms)
	reqs := srv.requests()
	if len(reqs) != 2 || reqs[1].Header.Get("Range") != "bytes="+strconv.Itoa(len(kept))+"-" {
		t.Fatalf("resume did not ask for bytes %d on", len(kept))
	}
	mu.Lock()
	defer mu.Unlock()
	if sent[1] != len(arc)-len(kept) {
		t.Errorf("resume sent %d bytes, want %d", sent[1], len(arc)-len(kept))
	}
}

type countingWriter struct {
	http.ResponseWriter
	n int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n += n
	return n, err
}

// TestFetchCompletePartial: a run stopped after downloading and before unpacking leaves a whole
// file; the next run unpacks it without a request.
func TestFetchCompletePartial(t *testing.T) {
	ms := fakeCIFAR10()
	arc := tarGz(t, ms)
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) { content(w, r, arc) })
	src := cifarSource(t, srv.URL+"/cifar-10-binary.tar.gz", md5hex(arc))
	data := t.TempDir()
	partial := filepath.Join(data, partialDir, "cifar-10-binary.tar.gz")
	if err := os.MkdirAll(filepath.Dir(partial), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(partial, arc, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeMeta(partial+".meta", partialMeta{URL: src.URL, Size: int64(len(arc))}); err != nil {
		t.Fatal(err)
	}
	// A stale unpack folder from an interrupted run is cleared.
	if err := os.MkdirAll(filepath.Join(data, partialDir, "cifar10.unpack-123", "junk"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Fetch(context.Background(), src, data, quick()); err != nil {
		t.Fatal(err)
	}
	checkUnpacked(t, src.Dir(data), ms)
	if n := len(srv.requests()); n != 0 {
		t.Errorf("%d requests, want 0", n)
	}
	if left := partialEntries(t, data); len(left) != 0 {
		t.Errorf(".partial still holds %v", left)
	}
}

// TestFetchOtherURLPartial: bytes from another URL are not resumed.
func TestFetchOtherURLPartial(t *testing.T) {
	ms := fakeCIFAR10()
	arc := tarGz(t, ms)
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) { content(w, r, arc) })
	src := cifarSource(t, srv.URL+"/cifar-10-binary.tar.gz", md5hex(arc))
	data := t.TempDir()
	partial := filepath.Join(data, partialDir, "cifar-10-binary.tar.gz")
	if err := os.MkdirAll(filepath.Dir(partial), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(partial, []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeMeta(partial+".meta", partialMeta{URL: "https://example.com/other.tar.gz", Size: 99}); err != nil {
		t.Fatal(err)
	}
	if err := Fetch(context.Background(), src, data, quick()); err != nil {
		t.Fatal(err)
	}
	checkUnpacked(t, src.Dir(data), ms)
	if r := srv.requests(); len(r) != 1 || r[0].Header.Get("Range") != "" {
		t.Errorf("stale bytes were resumed")
	}
}

func TestFetchRejectsUnsafeArchives(t *testing.T) {
	good := fakeCIFAR10()
	for _, tc := range []struct {
		name string
		bad  member
		want string
	}{
		{"dotdot", member{name: "../evil", body: []byte("x")},
			`cifar-10-binary.tar.gz: member "../evil": ".." in the path`},
		{"inner dotdot", member{name: "cifar-10-batches-bin/../../evil", body: []byte("x")},
			`cifar-10-binary.tar.gz: member "cifar-10-batches-bin/../../evil": ".." in the path`},
		{"absolute", member{name: "/tmp/evil", body: []byte("x")},
			`cifar-10-binary.tar.gz: member "/tmp/evil": absolute path`},
		{"symlink out", member{name: "cifar-10-batches-bin/evil", typ: tar.TypeSymlink, link: "../../../etc/passwd"},
			`cifar-10-binary.tar.gz: member "cifar-10-batches-bin/evil" is a link to "../../../etc/passwd"; only regular files and folders are unpacked`},
		{"hard link", member{name: "cifar-10-batches-bin/evil", typ: tar.TypeLink, link: "/etc/passwd"},
			`cifar-10-binary.tar.gz: member "cifar-10-batches-bin/evil" is a link to "/etc/passwd"; only regular files and folders are unpacked`},
		{"fifo", member{name: "cifar-10-batches-bin/evil", typ: tar.TypeFifo},
			`cifar-10-binary.tar.gz: member "cifar-10-batches-bin/evil" has type '6'; only regular files and folders are unpacked`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The bad member comes after good ones, so something was unpacked before the rejection.
			arc := tarGz(t, append(append([]member(nil), good...), tc.bad))
			srv := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) { content(w, r, arc) })
			src := cifarSource(t, srv.URL+"/cifar-10-binary.tar.gz", md5hex(arc))
			root := t.TempDir()
			data := filepath.Join(root, "a", "data")
			err := Fetch(context.Background(), src, data, quick())
			want := "cifar10: " + tc.want + " (download removed)"
			if err == nil || err.Error() != want {
				t.Fatalf("error %v\nwant %s", err, want)
			}
			if _, err := os.Stat(src.Dir(data)); !os.IsNotExist(err) {
				t.Errorf("target created from a rejected archive")
			}
			if left := partialEntries(t, data); len(left) != 0 {
				t.Errorf(".partial still holds %v", left)
			}
			for _, p := range []string{filepath.Join(root, "evil"), filepath.Join(root, "a", "evil"), filepath.Join(data, "evil")} {
				if _, err := os.Lstat(p); err == nil {
					t.Errorf("%s written", p)
				}
			}
		})
	}
}

func TestFetchLayoutMismatch(t *testing.T) {
	arc := tarGz(t, []member{{name: "cifar-10-batches-bin/test_batch.bin", body: []byte("x")}})
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) { content(w, r, arc) })
	src := cifarSource(t, srv.URL+"/cifar-10-binary.tar.gz", md5hex(arc))
	data := t.TempDir()
	err := Fetch(context.Background(), src, data, quick())
	want := "cifar10: cifar-10-binary.tar.gz: unexpected layout: data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, " +
		"data_batch_4.bin, data_batch_5.bin, batches.meta.txt missing after unpacking (found test_batch.bin) (download removed)"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v\nwant %s", err, want)
	}
	if _, err := os.Stat(src.Dir(data)); !os.IsNotExist(err) {
		t.Errorf("target created from an archive of the wrong layout")
	}
}

func TestFetchTruncatedGzip(t *testing.T) {
	arc := tarGz(t, fakeCIFAR10())
	short := arc[:len(arc)-20] // cuts the gzip trailer and the end of the tar
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) { content(w, r, short) })
	src := Source{Name: "cifar10", URL: srv.URL + "/c.tar.gz", Into: "c", Strip: 1}
	err := Fetch(context.Background(), src, t.TempDir(), quick())
	if err == nil || !strings.HasPrefix(err.Error(), "cifar10: c.tar.gz: ") || !strings.HasSuffix(err.Error(), "(download removed)") {
		t.Fatalf("error %v, want a c.tar.gz format error", err)
	}
}

// TestFetchUnverified: without a published checksum the first download is recorded and later
// ones must match it.
func TestFetchUnverified(t *testing.T) {
	ms := []member{
		{name: "._Imagenet", body: []byte("macOS metadata, skipped")},
		{name: "Imagenet/", typ: tar.TypeDir},
		{name: "Imagenet/test/", typ: tar.TypeDir},
		{name: "Imagenet/test/0.jpg", body: []byte("jpeg 0")},
		{name: "Imagenet/test/1.jpg", body: []byte("jpeg 1")},
	}
	arc := tarGz(t, ms)
	other := tarGz(t, ms[:4])
	serving := arc
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) { content(w, r, serving) })
	src, ok := Lookup("Imagenet")
	if !ok {
		t.Fatal("no Imagenet source")
	}
	src.URL = srv.URL + "/s/avgm2u562itwpkl/Imagenet.tar.gz?dl=1"
	data := t.TempDir()
	var log bytes.Buffer
	opt := quick()
	opt.Log = &log
	if err := Fetch(context.Background(), src, data, opt); err != nil {
		t.Fatal(err)
	}
	checkUnpacked(t, filepath.Join(data, "Imagenet"), ms)
	sha := sha256.Sum256(arc)
	shaHex := hex.EncodeToString(sha[:])
	manifest := filepath.Join(data, "Imagenet.fetch.txt")
	if src.Manifest(data) != manifest {
		t.Errorf("Manifest %s, want %s", src.Manifest(data), manifest)
	}
	wantNote := "Imagenet: unverified: no checksum is published; recorded size " + strconv.Itoa(len(arc)) +
		" and sha256 " + shaHex + " in " + manifest + "\n"
	if log.String() != wantNote {
		t.Errorf("log %q\nwant %q", log.String(), wantNote)
	}
	if m := readManifest(manifest); m["sha256"] != shaHex || m["file"] != "Imagenet.tar.gz" {
		t.Errorf("manifest sha256 %q file %q", m["sha256"], m["file"])
	}

	opt.Force = true
	log.Reset()
	if err := Fetch(context.Background(), src, data, opt); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "sha256 "+shaHex+" matches the first download") {
		t.Errorf("log %q lacks the match", log.String())
	}

	serving = other
	err := Fetch(context.Background(), src, data, opt)
	if err == nil || !strings.Contains(err.Error(), "differs from "+shaHex+" recorded in "+manifest) {
		t.Fatalf("error %v, want a sha256 difference", err)
	}
	checkUnpacked(t, filepath.Join(data, "Imagenet"), ms) // untouched
}

func TestFetchBadSource(t *testing.T) {
	for _, tc := range []struct {
		src  Source
		want string
	}{
		{Source{Name: "x", URL: "ftp://h/x.tar.gz", Into: "x"}, `x: URL "ftp://h/x.tar.gz" is not http or https`},
		{Source{Name: "../x", URL: "http://h/x.tar.gz", Into: "x"},
			`fetch: source name "../x" is empty or not made of letters, digits, '_', '-' and '.'`},
		{Source{Name: "x", URL: "http://h/x.tar.gz", Into: "../x"}, `x: Into "../x" is not a folder inside the data folder`},
		{Source{Name: "x", URL: "http://h/x.tar.gz", Into: ".partial"}, `x: Into ".partial" is not a folder inside the data folder`},
		{Source{Name: "x", URL: "http://h/x.tar.gz", Into: "x", MD5: "abc"}, `x: MD5 "abc" is not 32 hex digits`},
		{Source{Name: "x", URL: "http://h/x.tar.gz", Into: "x", Want: []string{"/etc"}}, `x: Want path "/etc" is not inside Into`},
	} {
		err := Fetch(context.Background(), tc.src, t.TempDir(), Options{})
		if err == nil || err.Error() != tc.want {
			t.Errorf("error %v, want %s", err, tc.want)
		}
	}
}

func TestSources(t *testing.T) {
	want := []string{"cifar10", "cifar100", "Imagenet", "Imagenet_resize", "LSUN", "LSUN_resize", "iSUN"}
	if got := Names(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("Names %v, want %v", got, want)
	}
	dirs := map[string]string{
		"cifar10": "cifar-10-batches-bin/test_batch.bin", "cifar100": "cifar-100-binary/test.bin",
		"Imagenet": "Imagenet/test", "Imagenet_resize": "Imagenet_resize/Imagenet_resize", "LSUN": "LSUN/test",
		"LSUN_resize": "LSUN_resize/LSUN_resize", "iSUN": "iSUN/iSUN_patches",
	}
	for _, s := range Sources() {
		if err := s.check(); err != nil {
			t.Error(err)
		}
		if !strings.HasPrefix(s.URL, "https://") {
			t.Errorf("%s: URL %s is not https", s.Name, s.URL)
		}
		if got := s.Into + "/" + s.Want[0]; got != dirs[s.Name] {
			t.Errorf("%s: unpacks to %s, want %s", s.Name, got, dirs[s.Name])
		}
	}
	c10, _ := Lookup("cifar10")
	c100, _ := Lookup("cifar100")
	if c10.MD5 != "c32a1d4ab5d03f1284b67883e8d87530" || c10.file() != "cifar-10-binary.tar.gz" {
		t.Errorf("cifar10 md5 %s file %s", c10.MD5, c10.file())
	}
	if c100.MD5 != "03b5dce01913d631647c71ecec9e9cb8" || c100.file() != "cifar-100-binary.tar.gz" {
		t.Errorf("cifar100 md5 %s file %s", c100.MD5, c100.file())
	}
	if s, _ := Lookup("LSUN_resize"); s.file() != "LSUN_resize.tar.gz" {
		t.Errorf("LSUN_resize file %s", s.file())
	}
	if _, ok := Lookup("svhn"); ok {
		t.Error("Lookup found svhn")
	}
}

func TestMemberPath(t *testing.T) {
	for _, tc := range []struct {
		name  string
		strip int
		rel   string
		keep  bool
		err   string
	}{
		{"cifar-10-batches-bin/test_batch.bin", 1, "test_batch.bin", true, ""},
		{"./cifar-10-batches-bin/test_batch.bin", 1, "test_batch.bin", true, ""},
		{"cifar-10-batches-bin/", 1, "", false, ""},
		{"./", 1, "", false, ""},
		{"Imagenet//test/./0.jpg", 1, "test/0.jpg", true, ""},
		{"a/b", 0, "a/b", true, ""},
		{"../evil", 1, "", false, `".." in the path`},
		{"a/b/../../..", 0, "", false, `".." in the path`},
		{"/etc/passwd", 1, "", false, "absolute path"},
		{`a\..\..\evil`, 1, "", false, "backslash or NUL in the name"},
	} {
		rel, keep, err := memberPath(tc.name, tc.strip)
		var msg string
		if err != nil {
			msg = err.Error()
		}
		if rel != tc.rel || keep != tc.keep || msg != tc.err {
			t.Errorf("memberPath(%q, %d) = %q, %v, %q; want %q, %v, %q", tc.name, tc.strip, rel, keep, msg, tc.rel, tc.keep, tc.err)
		}
	}
}

func TestContentRange(t *testing.T) {
	for _, tc := range []struct {
		h           string
		first, size int64
		ok          bool
	}{
		{"bytes 100-999/1000", 100, 1000, true},
		{"bytes 0-0/1", 0, 1, true},
		{"bytes 100-999/*", 100, -1, true},
		{"bytes */1000", -1, 1000, true},
		{"bytes 100-1000/1000", 0, 0, false},
		{"bytes 9-8/10", 0, 0, false},
		{"items 0-1/2", 0, 0, false},
		{"bytes 0-1", 0, 0, false},
		{"", 0, 0, false},
	} {
		first, size, err := contentRange(tc.h)
		if (err == nil) != tc.ok || first != tc.first || size != tc.size {
			t.Errorf("contentRange(%q) = %d, %d, %v", tc.h, first, size, err)
		}
	}
}

func TestProgressLine(t *testing.T) {
	for _, tc := range []struct {
		done, total, fresh int64
		elapsed            time.Duration
		want               string
	}{
		{50 << 20, 200 << 20, 25 << 20, 10 * time.Second, "c: 50.0 MiB / 200.0 MiB (25.0%)  2.5 MiB/s  ETA 1:00"},
		{170052171, 170052171, 170052171, 85 * time.Second, "c: 162.2 MiB / 162.2 MiB (100.0%)  1.9 MiB/s  ETA 0:00"},
		{1000, 1 << 30, 0, time.Second, "c: 1000 B / 1.0 GiB (0.0%)  0 B/s  ETA --:--"},
		{1 << 20, 4 << 20, 1 << 20, 999 * time.Millisecond, "c: 1.0 MiB / 4.0 MiB (25.0%)  --/s  ETA --:--"},
		{3 << 30, 4 << 30, 64 << 10, time.Second, "c: 3.0 GiB / 4.0 GiB (75.0%)  64.0 KiB/s  ETA 4:33:04"},
		{2048, -1, 2048, 2 * time.Second, "c: 2.0 KiB  1.0 KiB/s"},
	} {
		if got := progressLine("c", tc.done, tc.total, tc.fresh, tc.elapsed); got != tc.want {
			t.Errorf("progressLine(%d, %d, %d, %v) = %q, want %q", tc.done, tc.total, tc.fresh, tc.elapsed, got, tc.want)
		}
	}
}

func TestProgressWritten(t *testing.T) {
	arc := tarGz(t, fakeCIFAR10())
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) { content(w, r, arc) })
	src := cifarSource(t, srv.URL+"/cifar-10-binary.tar.gz", md5hex(arc))
	var prog bytes.Buffer
	opt := quick()
	opt.Progress = &prog
	if err := Fetch(context.Background(), src, t.TempDir(), opt); err != nil {
		t.Fatal(err)
	}
	s := prog.String()
	total := formatBytes(int64(len(arc)))
	if !strings.HasPrefix(s, "\rcifar10: ") || !strings.HasSuffix(s, "\x1b[K\n") ||
		!strings.Contains(s, "cifar10: "+total+" / "+total+" (100.0%)") {
		t.Errorf("progress %q", s)
	}
}

// TestFetchRangeNotSatisfiable: a whole partial file whose size the first reply did not state is
// confirmed by the 416 its range request gets.
func TestFetchRangeNotSatisfiable(t *testing.T) {
	ms := fakeCIFAR10()
	arc := tarGz(t, ms)
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) { content(w, r, arc) })
	src := cifarSource(t, srv.URL+"/cifar-10-binary.tar.gz", md5hex(arc))
	data := t.TempDir()
	partial := filepath.Join(data, partialDir, "cifar-10-binary.tar.gz")
	if err := os.MkdirAll(filepath.Dir(partial), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(partial, arc, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeMeta(partial+".meta", partialMeta{URL: src.URL, ETag: `"` + md5hex(arc) + `"`, Size: -1}); err != nil {
		t.Fatal(err)
	}
	if err := Fetch(context.Background(), src, data, quick()); err != nil {
		t.Fatal(err)
	}
	checkUnpacked(t, src.Dir(data), ms)
	if r := srv.requests(); len(r) != 1 || r[0].Header.Get("Range") != "bytes="+strconv.Itoa(len(arc))+"-" {
		t.Errorf("want one range request from the end")
	}
}

// TestInstallInterrupted: a cancelled unpack leaves neither the target nor its temporary folder.
func TestInstallInterrupted(t *testing.T) {
	arc := tarGz(t, fakeCIFAR10())
	data := t.TempDir()
	part := filepath.Join(data, partialDir)
	if err := os.MkdirAll(part, 0o755); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(part, "cifar-10-binary.tar.gz")
	if err := os.WriteFile(archive, arc, 0o644); err != nil {
		t.Fatal(err)
	}
	src, _ := Lookup("cifar10")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := install(ctx, src, archive, part, src.Dir(data)); !errors.Is(err, context.Canceled) {
		t.Fatalf("install: %v, want context.Canceled", err)
	}
	if _, err := os.Stat(src.Dir(data)); !os.IsNotExist(err) {
		t.Errorf("target created by an interrupted unpack")
	}
	if left := partialEntries(t, data); len(left) != 1 || left[0] != "cifar-10-binary.tar.gz" {
		t.Errorf(".partial holds %v, want only the archive", left)
	}
}

// TestFetchChunkedWrongSize: a reply without a length completes at its end; the published size
// only feeds the progress line.
func TestFetchChunkedWrongSize(t *testing.T) {
	ms := fakeCIFAR10()
	arc := tarGz(t, ms)
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush() // headers out before the body: chunked, no Content-Length
		w.Write(arc)
	})
	src := cifarSource(t, srv.URL+"/cifar-10-binary.tar.gz", md5hex(arc))
	src.Size = int64(len(arc)) + 1000
	data := t.TempDir()
	var prog bytes.Buffer
	opt := quick()
	opt.Progress = &prog
	if err := Fetch(context.Background(), src, data, opt); err != nil {
		t.Fatal(err)
	}
	checkUnpacked(t, src.Dir(data), ms)
	if want := formatBytes(int64(len(arc))) + " / " + formatBytes(src.Size); !strings.Contains(prog.String(), want) {
		t.Errorf("progress %q lacks %q", prog.String(), want)
	}
}
