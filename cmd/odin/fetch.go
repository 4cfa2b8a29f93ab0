package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/odin-ood/odin/fetch"
	"github.com/odin-ood/odin/internal/datadir"
)

func init() {
	register("fetch", "download, verify and unpack a data set ("+strings.Join(fetch.Names(), ", ")+")", runFetch)
}

func runFetch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("fetch")
	dataFlag := fs.String("data", "", "data folder (default $ODIN_DATA, else ./data)")
	urlFlag := fs.String("url", "", "download from this URL instead of the canonical one (one data set only)")
	md5Flag := fs.String("md5", "", "expect this MD5 instead of the published one (one data set only)")
	force := fs.Bool("force", false, "fetch again and replace a data set that is already present")
	quiet := fs.Bool("quiet", false, "print no progress or notes on stderr")
	names, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	valid := strings.Join(fetch.Names(), ", ")
	if len(names) == 0 {
		return usageError("name a data set to fetch: %s", valid)
	}
	if len(names) > 1 && (*urlFlag != "" || *md5Flag != "") {
		return usageError("--url and --md5 apply to one data set, got %d", len(names))
	}
	if *md5Flag != "" {
		if b, err := hex.DecodeString(*md5Flag); err != nil || len(b) != 16 {
			return usageError("--md5 %q is not 32 hex digits", *md5Flag)
		}
	}
	srcs := make([]fetch.Source, len(names))
	for i, n := range names {
		src, ok := fetch.Lookup(n)
		if !ok {
			return usageError("unknown data set %q (valid: %s)", n, valid)
		}
		if *urlFlag != "" {
			src.URL = *urlFlag
		}
		if *md5Flag != "" {
			src.MD5 = *md5Flag
		}
		srcs[i] = src
	}

	dir := datadir.Data(*dataFlag)
	opt := fetch.Options{Force: *force}
	if !*quiet {
		opt.Log = stderr
		if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			opt.Progress = stderr
		}
	}
	for _, src := range srcs {
		err := fetch.Fetch(ctx, src, dir, opt)
		switch {
		case errors.Is(err, fetch.ErrExists):
			fmt.Fprintf(stdout, "%s: already present in %s; skipped (--force fetches it again)\n", src.Name, src.Dir(dir))
		case err != nil:
			return err
		case src.MD5 == "":
			fmt.Fprintf(stdout, "%s: ready in %s (no published checksum, so unverified on first download; size and sha256 in %s)\n",
				src.Name, src.Dir(dir), src.Manifest(dir))
		default:
			fmt.Fprintf(stdout, "%s: ready in %s (md5 verified)\n", src.Name, src.Dir(dir))
		}
	}
	return nil
}
