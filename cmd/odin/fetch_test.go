package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fetchArchive is a miniature cifar-10-binary.tar.gz with the real layout and its MD5.
func fetchArchive(t *testing.T) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range []string{"test_batch.bin", "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
		"data_batch_4.bin", "data_batch_5.bin", "batches.meta.txt"} {
		body := []byte("contents of " + f)
		if err := tw.WriteHeader(&tar.Header{Name: "cifar-10-batches-bin/" + f, Mode: 0o644, Size: int64(len(body)),
			Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(buf.Bytes())
	return buf.Bytes(), hex.EncodeToString(sum[:])
}

func fetchServer(t *testing.T, body []byte) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/cifar-10-binary.tar.gz" {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestFetchCommand(t *testing.T) {
	arc, sum := fetchArchive(t)
	srv := fetchServer(t, arc)
	data := t.TempDir()
	args := []string{"fetch", "cifar10", "--data", data, "--url", srv.URL + "/cifar-10-binary.tar.gz", "--md5", sum}
	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	dir := filepath.Join(data, "cifar-10-batches-bin")
	if got, want := stdout.String(), "cifar10: ready in "+dir+" (md5 verified)\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	// stderr is not a terminal here: notes but no progress line.
	if got, want := stderr.String(), "cifar10: md5 "+sum+" matches the expected checksum\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
	b, err := os.ReadFile(filepath.Join(dir, "test_batch.bin"))
	if err != nil || string(b) != "contents of test_batch.bin" {
		t.Errorf("test_batch.bin: %q, %v", b, err)
	}

	stdout.Reset()
	stderr.Reset()
	if code := run(append(args, "--quiet"), &stdout, &stderr); code != 0 {
		t.Fatalf("second run: exit %d: %s", code, stderr.String())
	}
	if got, want := stdout.String(), "cifar10: already present in "+dir+"; skipped (--force fetches it again)\n"; got != want {
		t.Errorf("second run stdout %q, want %q", got, want)
	}
	if stderr.Len() != 0 {
		t.Errorf("--quiet wrote %q to stderr", stderr.String())
	}
}

func TestFetchCommandDataFromEnv(t *testing.T) {
	arc, sum := fetchArchive(t)
	srv := fetchServer(t, arc)
	data := t.TempDir()
	t.Setenv("ODIN_DATA", data)
	var stdout, stderr bytes.Buffer
	args := []string{"fetch", "--quiet", "--url", srv.URL + "/cifar-10-binary.tar.gz", "--md5", sum, "cifar10"}
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(data, "cifar-10-batches-bin", "batches.meta.txt")); err != nil {
		t.Error(err)
	}
}

func TestFetchCommandErrors(t *testing.T) {
	arc, sum := fetchArchive(t)
	srv := fetchServer(t, arc)
	good := srv.URL + "/cifar-10-binary.tar.gz"
	wrong := strings.Repeat("ab", 16)
	for _, tc := range []struct {
		args []string
		code int
		want string // stderr
	}{
		{[]string{"fetch"}, 2, "odin fetch: name a data set to fetch: cifar10, cifar100, Imagenet, Imagenet_resize, LSUN, LSUN_resize, iSUN\n"},
		{[]string{"fetch", "svhn"}, 2, `odin fetch: unknown data set "svhn" (valid: cifar10, cifar100, Imagenet, Imagenet_resize, LSUN, LSUN_resize, iSUN)` + "\n"},
		{[]string{"fetch", "cifar10", "cifar100", "--url", good}, 2, "odin fetch: --url and --md5 apply to one data set, got 2\n"},
		{[]string{"fetch", "cifar10", "--md5", "xyz"}, 2, `odin fetch: --md5 "xyz" is not 32 hex digits` + "\n"},
		{[]string{"fetch", "cifar10", "--quiet", "--url", srv.URL + "/nothing.tar.gz"}, 1,
			"odin fetch: cifar10: GET " + srv.URL + "/nothing.tar.gz: 404 Not Found\n"},
		{[]string{"fetch", "cifar10", "--quiet", "--url", good, "--md5", wrong}, 1,
			"odin fetch: cifar10: cifar-10-binary.tar.gz: md5 mismatch: expected " + wrong + ", got " + sum + " (download removed)\n"},
	} {
		data := t.TempDir()
		var stdout, stderr bytes.Buffer
		code := run(append(tc.args, "--data", data), &stdout, &stderr)
		if code != tc.code || stderr.String() != tc.want {
			t.Errorf("%v: exit %d, stderr %q; want %d, %q", tc.args, code, stderr.String(), tc.code, tc.want)
		}
		if _, err := os.Stat(filepath.Join(data, "cifar-10-batches-bin")); !os.IsNotExist(err) {
			t.Errorf("%v: data set unpacked despite the error", tc.args)
		}
	}
}
