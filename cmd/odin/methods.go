package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/odin-ood/odin/internal/datadir"
	"github.com/odin-ood/odin/metrics"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/ood"
)

// This file holds what odin eval's --method and --stats need: resolving the list into detectors
// with their statistics, and the table with one row per method.

// evalDetectors returns the detectors of --method (empty: the seed's msp and odin), with
// --temperature and --magnitude applied to odin. If a listed method needs fitted statistics they
// are read from statsFlag, or from the default path for nn under the cache; statsID then
// identifies that file's contents (for resumable score folders), else it is "".
func evalDetectors(methods, statsFlag, cacheFlag, nn string, m *models.Model, temperature, magnitude float64) (dets []ood.Detector, statsID string, err error) {
	if methods == "" {
		methods = "msp,odin"
	}
	names, err := ood.SplitMethods(methods)
	if err != nil {
		return nil, "", usageError("--method: %v", err)
	}
	var need []string
	for _, n := range names {
		if slices.Contains(ood.FittedNames(), n) {
			need = append(need, n)
		}
	}
	opt := ood.Options{
		Params: map[string]float64{"odin.temperature": temperature, "odin.magnitude": magnitude},
		Model:  m,
		Stats: func() (*ood.Stats, error) {
			path, err := statsPath(statsFlag, cacheFlag, nn)
			if err != nil {
				return nil, err
			}
			s, err := ood.ReadStats(path)
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("%s needs statistics of training images and %s does not exist: make it with `odin fit --nn %s --method %s`%s",
					strings.Join(need, ", "), path, nn, strings.Join(need, ","), statsHint(statsFlag, path))
			}
			if err != nil {
				return nil, err
			}
			statsID = fmt.Sprintf("%s crc32:%08x", path, s.Checksum)
			return s, nil
		},
	}
	dets, err = ood.Parse(methods, opt)
	if err != nil {
		return nil, "", err
	}
	return dets, statsID, nil
}

// statsHint adds --stats to the suggested fit command when the path is not the default one.
func statsHint(statsFlag, path string) string {
	if statsFlag == "" {
		return ""
	}
	return " --stats " + path
}

// statsPath is --stats, or <cache>/stats/<network>.stats with the network's name (the base name
// without extension of a checkpoint given as a path).
func statsPath(statsFlag, cacheFlag, nn string) (string, error) {
	if statsFlag != "" {
		return statsFlag, nil
	}
	cache, err := datadir.Cache(cacheFlag)
	if err != nil {
		return "", err
	}
	name := filepath.Base(nn)
	name = strings.TrimSuffix(name, filepath.Ext(name))
	return filepath.Join(cache, "stats", name+".stats"), nil
}

// methodLabels are the names the method table prints.
var methodLabels = map[string]string{
	"msp": "Baseline (MSP)", "odin": "ODIN", "energy": "Energy", "maxlogit": "MaxLogit",
	"gradnorm": "GradNorm", "mahalanobis": "Mahalanobis", "mahalanobis_pre": "Mahalanobis (pre-proc.)",
	"knn": "KNN", "react": "ReAct", "vim": "ViM",
}

func methodLabel(name string) string {
	if l, ok := methodLabels[name]; ok {
		return l
	}
	return name
}

// writeMethodTable writes the results of several methods with one row per method: a header block
// as metrics.WriteTable writes it (labels, colon, values right-aligned to the table's width), a
// blank line, a line of column names, then per method its label and the five metrics in percent
// to one decimal ("n/a" for NaN), right-aligned.
func writeMethodTable(w io.Writer, header [][2]string, methods []string, results []metrics.Result) error {
	if len(methods) == 0 || len(methods) != len(results) {
		return fmt.Errorf("method table: %d methods for %d results", len(methods), len(results))
	}
	cols := []string{"FPR at TPR 95%", "Detection error", "AUROC", "AUPR In", "AUPR Out"}
	labelW := len("Method")
	for _, m := range methods {
		labelW = max(labelW, utf8.RuneCountInString(methodLabel(m)))
	}
	widths := make([]int, len(cols))
	for i, c := range cols {
		widths[i] = max(len(c), 6) + 2
	}
	width := labelW + 2
	for _, cw := range widths {
		width += cw
	}
	for _, h := range header {
		width = max(width, utf8.RuneCountInString(h[0])+1+2+utf8.RuneCountInString(h[1]))
	}
	var b strings.Builder
	for _, h := range header {
		label := h[0] + ":"
		fmt.Fprintf(&b, "%s%*s\n", label, width-utf8.RuneCountInString(label), h[1])
	}
	if len(header) > 0 {
		b.WriteString("\n")
	}
	pad := width - labelW - 2
	for _, cw := range widths {
		pad -= cw
	}
	fmt.Fprintf(&b, "%-*s", labelW+2+pad, "Method")
	for i, c := range cols {
		fmt.Fprintf(&b, "%*s", widths[i], c)
	}
	b.WriteString("\n")
	for i, m := range methods {
		p := results[i].Percent()
		label := methodLabel(m)
		b.WriteString(label + strings.Repeat(" ", labelW+2+pad-utf8.RuneCountInString(label)))
		for k, v := range []float64{p.FPR95, p.DetErr, p.AUROC, p.AUPRIn, p.AUPROut} {
			cell := "n/a"
			if !math.IsNaN(v) {
				cell = fmt.Sprintf("%.1f%%", v)
			}
			fmt.Fprintf(&b, "%*s", widths[k], cell)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// methodJSON maps each method's name to its metrics in percent, for --json.
func methodJSON(methods []string, results []metrics.Result) map[string]metrics.Percent {
	out := make(map[string]metrics.Percent, len(methods))
	for i, m := range methods {
		out[m] = results[i].Percent()
	}
	return out
}

// methodList names the detectors, comma-separated, for cache and score-folder identities.
func methodList(dets []ood.Detector) string {
	names := make([]string, len(dets))
	for i, d := range dets {
		names[i] = d.Name()
	}
	return strings.Join(names, ",")
}
