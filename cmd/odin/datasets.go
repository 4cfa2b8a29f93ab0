package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/internal/datadir"
)

func init() {
	register("datasets", "list the image sets and where they are; build the OOD sets from raw images", cmdDatasets)
}

func cmdDatasets(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub := ""
	if len(args) > 0 {
		sub = args[0]
	}
	switch sub {
	case "build":
		return datasetsBuild(ctx, args[1:], stdout, stderr)
	case "list":
		return datasetsList(args[1:], stdout)
	case "-h", "--help", "-help", "help":
		fmt.Fprintln(stdout, "usage: odin datasets build NAME [flags]   build an OOD set into the cache (odin datasets build --help)")
		fmt.Fprintln(stdout, "       odin datasets list [flags]         each known set and where it was found")
		return errHelp
	case "":
		return usageError("want a subcommand: build or list")
	}
	return usageError("unknown subcommand %q (valid: build, list)", sub)
}

func datasetsBuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("datasets build")
	construction := fs.String("construction", "seed", "how the set is made: seed, clean, or a label such as bicubic-aa-png")
	filter := fs.String("filter", "", "resize filter overriding the construction's: nearest, box, bilinear, bicubic, lanczos")
	antialias := fs.Bool("antialias", false, "antialiased resize (overrides the construction's)")
	quality := fs.Int("jpeg-quality", -1, "JPEG quality 1..100, 0 for PNG (overrides the construction's)")
	seed := fs.Uint64("seed", 0, "seed of the random crops (Imagenet, LSUN)")
	data := fs.String("data", "", "data folder holding the raw sources (default $ODIN_DATA or ./data)")
	cache := fs.String("cache", "", "cache folder receiving the set (default $ODIN_CACHE or the user cache)")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "images processed at once")
	force := fs.Bool("force", false, "rebuild a set already in the cache")
	pos, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("want one set name (Imagenet, Imagenet_resize, LSUN, LSUN_resize), got %d", len(pos))
	}
	name := pos[0]
	if _, err := dataset.SourceDir(name, ""); err != nil {
		return usageError("%v", err)
	}
	c, err := dataset.ParseConstruction(*construction)
	if err != nil {
		return usageError("%v", err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["filter"] {
		if c.Filter, err = dataset.ParseFilter(*filter); err != nil {
			return usageError("%v", err)
		}
	}
	if set["antialias"] {
		c.Antialias = *antialias
	}
	if set["jpeg-quality"] {
		c.JPEGQuality = *quality
	}
	if c.Antialias && c.Filter == dataset.Nearest {
		return usageError("--antialias has no effect with the nearest filter")
	}
	if c, err = dataset.NewConstruction(c.Filter, c.Antialias, c.JPEGQuality); err != nil {
		return usageError("%v", err)
	}
	if *workers < 1 {
		return usageError("--workers must be at least 1")
	}
	cacheDir, err := datadir.Cache(*cache)
	if err != nil {
		return err
	}
	decile := -1
	opt := dataset.Options{
		Data: datadir.Data(*data), Cache: cacheDir, Construction: c.Name, Seed: *seed, Workers: *workers,
		Progress: func(done, total int) {
			if d := done * 10 / total; d != decile {
				decile = d
				fmt.Fprintf(stderr, "building %s: %d/%d\n", name, done, total)
			}
		},
	}
	start := time.Now()
	dir, err := dataset.BuildCache(ctx, name, opt, *force)
	if errors.Is(err, dataset.ErrExists) {
		out, _ := dataset.CacheDir(name, opt)
		return fmt.Errorf("%s (%s construction) is already built in %s; --force rebuilds it", name, c.Name, out)
	}
	if err != nil {
		return err
	}
	loc, err := dataset.Locate(name, opt)
	if err != nil {
		return err
	}
	desc := loc.Desc
	if loc.From != "cache" { // a seed archive in the data folder takes precedence when opening
		desc = fmt.Sprintf("%s (%s construction); note: Open uses %s first", name, c.Name, loc.Path)
	}
	fmt.Fprintf(stdout, "%s: %d images in %s (%.1fs)\n", desc, countFiles(dir), dir, time.Since(start).Seconds())
	return nil
}

func datasetsList(args []string, stdout io.Writer) error {
	fs := newFlags("datasets list")
	data := fs.String("data", "", "data folder (default $ODIN_DATA or ./data)")
	cache := fs.String("cache", "", "cache folder of built sets (default $ODIN_CACHE or the user cache)")
	seed := fs.Uint64("seed", 0, "seed of the random crops, which names their cached builds")
	pos, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError("unexpected arguments: %s", strings.Join(pos, " "))
	}
	cacheDir, err := datadir.Cache(*cache)
	if err != nil {
		return err
	}
	opt := dataset.Options{Data: datadir.Data(*data), Cache: cacheDir, Seed: *seed}
	line := func(name, what string) { fmt.Fprintf(stdout, "%-16s %s\n", name, what) }
	for _, name := range dataset.Names() {
		constructions := []string{""}
		if _, err := dataset.SourceDir(name, ""); err == nil {
			constructions = []string{"seed", "clean"}
		} else if name == "iSUN" {
			constructions = []string{"seed"}
		}
		for _, c := range constructions {
			prefix := ""
			if c != "" {
				prefix = c + ": "
			}
			o := opt
			o.Construction = c
			loc, err := dataset.Locate(name, o)
			switch {
			case err != nil:
				line(name, prefix+strings.TrimPrefix(err.Error(), name+": "))
			case loc.From == "generated":
				line(name, "generated: seeded noise, as many images as the in-distribution set")
			case loc.From == "cache":
				line(name, fmt.Sprintf("%s%s (built, %d images)", prefix, loc.Path, countFiles(loc.Path)))
			default:
				line(name, fmt.Sprintf("%s%s (%d images)", prefix, loc.Path, countFiles(loc.Path)))
			}
		}
		// Builds with other constructions or seeds.
		entries, _ := os.ReadDir(cacheDir)
		for _, e := range entries {
			label, ok := strings.CutPrefix(e.Name(), name+"-")
			if !ok || !e.IsDir() || label == "seed" || label == "clean" {
				continue
			}
			dir := filepath.Join(cacheDir, e.Name())
			if layout, ok := dataset.Layout(name); ok {
				if st, err := os.Stat(filepath.Join(dir, layout)); err == nil && st.IsDir() {
					dir = filepath.Join(dir, layout)
				}
			}
			if n, err := dataset.CheckBuilt(dir); err != nil { // a set that changed is not listed as smaller
				line(name, fmt.Sprintf("%s: %v", label, err))
			} else {
				line(name, fmt.Sprintf("%s: %s (built, %d images)", label, dir, n))
			}
		}
	}
	return nil
}

// countFiles counts the images of a set: the records of a CIFAR file or the visible files of a
// folder (without decoding them).
func countFiles(path string) int {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	if !st.IsDir() {
		rec := int64(1 + dataset.Pixels)
		if strings.Contains(path, "cifar-100") {
			rec++
		}
		return int(st.Size() / rec)
	}
	entries, _ := os.ReadDir(path)
	n := 0
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") && e.Type().IsRegular() {
			n++
		}
	}
	return n
}
