package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/internal/datadir"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/onnx"
)

func init() {
	register("inspect", "what odin sees in a model: input, preprocessing, layers, parameters, FLOPs, feature tap", cmdInspect)
}

func cmdInspect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inspect")
	var prep prepFlags
	prep.register(fs) // --features, --input-shape, and the preprocessing whose normalisation is shown
	arch := fs.String("arch", "", "architecture of a checkpoint file (default: inferred)")
	data := fs.String("data", "", "data folder, for known network names (default $ODIN_DATA, else ./data)")
	pos, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("odin inspect takes one model (an .onnx file, a checkpoint or a known network name)")
	}
	var lo experiment.LoadOptions
	if err := prep.options(&lo); err != nil {
		return err
	}
	opt := onnx.Options{Features: lo.Features, InputShape: lo.InputShape}
	path, _, err := models.Resolve(pos[0], datadir.Data(*data))
	if err != nil {
		return err
	}
	if strings.EqualFold(filepath.Ext(path), ".onnx") {
		m, rep, err := onnx.Load(path, opt)
		if rep != nil {
			if werr := rep.WriteText(stdout); werr != nil {
				return werr
			}
		}
		if err != nil {
			if strings.Contains(err.Error(), "symbolic") {
				return fmt.Errorf("%w (give --input-shape C,H,W)", err)
			}
			return err
		}
		if lo.Preprocess == nil {
			fmt.Fprintln(stdout, "normalise:    an ONNX file does not record it; ImageNet's is assumed (docs/models.md, Preprocessing)")
		}
		if err := showPreprocess(stdout, m, lo.Preprocess); err != nil {
			return err
		}
		return printModel(stdout, m)
	}
	if lo.Features != "" || lo.InputShape != nil {
		return usageError("--features and --input-shape apply to ONNX models only")
	}
	m, _, err := experiment.LoadModel(path, *arch, opt)
	if err != nil {
		return err
	}
	if err := showPreprocess(stdout, m, lo.Preprocess); err != nil {
		return err
	}
	in := m.Graph.Input()
	fmt.Fprintf(stdout, "network:      %s (%s)\ninput:        [N, %d, %d, %d]\nclasses:      %d\n", m.Name, m.Arch, in.C, in.H, in.W, m.Classes())
	return printModel(stdout, m)
}

// showPreprocess applies a given preprocessing to m and prints it, completed.
func showPreprocess(w io.Writer, m *models.Model, p *models.Preprocess) error {
	if p == nil {
		return nil
	}
	full, err := experiment.ApplyPreprocess(m, *p)
	if err != nil {
		return err
	}
	t := (&experiment.Network{Model: m, Preprocess: &full}).Transform()
	_, err = fmt.Fprintf(w, "preprocess:   mean %v, std %v, scale %g; folder:PATH images: resize %d, crop %d, %s\n",
		full.Mean, full.Std, full.Scale, t.Resize, t.Crop, full.Interpolation)
	return err
}

// printModel prints the normalisation and the taps of a loaded model.
func printModel(w io.Writer, m *models.Model) error {
	fmt.Fprintf(w, "mean, std:    %v, %v (of pixels in [0,1])\n", m.Mean, m.Std)
	var taps []string
	for name, s := range m.Graph.Taps() {
		taps = append(taps, fmt.Sprintf("%s %v", name, s))
	}
	sort.Strings(taps)
	_, err := fmt.Fprintf(w, "taps:         %s\n", strings.Join(taps, ", "))
	return err
}
