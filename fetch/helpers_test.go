package fetch

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// member is one entry of a test archive.
type member struct {
	name string
	body []byte
	typ  byte // tar.TypeReg when zero
	link string
}

// tarGz builds a gzip-compressed tar archive of ms.
func tarGz(t testing.TB, ms []member) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, m := range ms {
		h := &tar.Header{Name: m.name, Typeflag: m.typ, Linkname: m.link, Mode: 0o644,
			ModTime: time.Date(2017, 6, 1, 0, 0, 0, 0, time.UTC)}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(m.body))
		}
		if h.Typeflag == tar.TypeDir {
			h.Mode = 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(m.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fakeCIFAR10 returns the members of a miniature cifar-10-binary.tar.gz: the real layout, with
// two random 3073-byte records per batch, so the archive is about 40 KB and incompressible.
func fakeCIFAR10() []member {
	rng := rand.New(rand.NewPCG(1, 2))
	record := func() []byte {
		b := make([]byte, 2*3073)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	ms := []member{{name: "cifar-10-batches-bin/", typ: tar.TypeDir}}
	for _, f := range []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
		"data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"} {
		ms = append(ms, member{name: "cifar-10-batches-bin/" + f, body: record()})
	}
	ms = append(ms,
		member{name: "cifar-10-batches-bin/batches.meta.txt",
			body: []byte("airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n")},
		member{name: "cifar-10-batches-bin/readme.html", body: []byte("<html></html>\n")})
	return ms
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// cifarSource is the built-in cifar10 source pointed at url, expecting sum.
func cifarSource(t testing.TB, url, sum string) Source {
	t.Helper()
	src, ok := Lookup("cifar10")
	if !ok {
		t.Fatal("no cifar10 source")
	}
	src.URL, src.MD5, src.Size = url, sum, 0
	return src
}

// quick are Options for tests: no waiting between attempts.
func quick() Options {
	return Options{Backoff: time.Millisecond, Attempts: 3}
}

// server serves one archive and records the requests it got.
type server struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
}

func (s *server) requests() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.reqs...)
}

// serve starts a server that answers request i (from 0) with handle(w, r, i).
func serve(t testing.TB, handle func(w http.ResponseWriter, r *http.Request, i int)) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		i := len(s.reqs)
		s.reqs = append(s.reqs, r.Clone(r.Context()))
		s.mu.Unlock()
		handle(w, r, i)
	}))
	t.Cleanup(s.Close)
	return s
}

// content answers like a static file server: ranges, ETag and If-Range included.
func content(w http.ResponseWriter, r *http.Request, b []byte) {
	w.Header().Set("ETag", `"`+md5hex(b)+`"`)
	w.Header().Set("Content-Type", "application/gzip")
	http.ServeContent(w, r, "", time.Date(2017, 6, 1, 0, 0, 0, 0, time.UTC), bytes.NewReader(b))
}

// dropAfter sends the headers of a whole-file reply and the first n bytes, then breaks the
// connection.
func dropAfter(w http.ResponseWriter, b []byte, n int) {
	w.Header().Set("ETag", `"`+md5hex(b)+`"`)
	w.Header().Set("Content-Type", "application/gzip")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	w.Write(b[:n])
	w.(http.Flusher).Flush()
	panic(http.ErrAbortHandler)
}

// checkUnpacked asserts that dir holds exactly the regular files of ms with strip 1.
func checkUnpacked(t *testing.T, dir string, ms []member) {
	t.Helper()
	want := map[string][]byte{}
	for _, m := range ms {
		if m.typ == 0 || m.typ == tar.TypeReg {
			rel, keep, err := memberPath(m.name, 1)
			if err != nil {
				t.Fatal(err)
			}
			if keep {
				want[rel] = m.body
			}
		}
	}
	got := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		got[filepath.ToSlash(rel)], err = os.ReadFile(p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("%s holds %d files, want %d", dir, len(got), len(want))
	}
	for k, w := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("%s missing", k)
		} else if !bytes.Equal(g, w) {
			t.Errorf("%s: content differs (%d bytes, want %d)", k, len(g), len(w))
		}
	}
}

// partialEntries lists what is left in the data folder's .partial.
func partialEntries(t *testing.T, data string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(data, partialDir))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}
