package fetch_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/odin-ood/odin/fetch"
)

// A source need not be one of the built-in ones: here a local server stands in for a mirror.
func ExampleFetch() {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range []string{"top/images/a.png", "top/images/b.png"} {
		tw.WriteHeader(&tar.Header{Name: f, Mode: 0o644, Size: 3, Typeflag: tar.TypeReg})
		tw.Write([]byte("png"))
	}
	tw.Close()
	zw.Close()
	archive := buf.Bytes()
	sum := md5.Sum(archive)

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(archive))
	}))
	defer srv.Close()

	data, err := os.MkdirTemp("", "odin-data")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(data)

	src := fetch.Source{
		Name:  "toy",
		URL:   srv.URL + "/toy.tar.gz",
		MD5:   hex.EncodeToString(sum[:]),
		Into:  "toy",
		Strip: 1, // drop "top/"
		Want:  []string{"images/a.png"},
	}
	if err := fetch.Fetch(context.Background(), src, data, fetch.Options{}); err != nil {
		log.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(data, "toy", "images", "*"))
	for _, f := range files {
		rel, _ := filepath.Rel(data, f)
		fmt.Println(filepath.ToSlash(rel))
	}
	_, err = os.Stat(src.Manifest(data))
	fmt.Println("manifest written:", err == nil)
	// Output:
	// toy/images/a.png
	// toy/images/b.png
	// manifest written: true
}
