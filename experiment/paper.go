package experiment

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"

	"github.com/odin-ood/odin/metrics"
)

// The ODIN paper's Table 2 and the seed's ε per network and OOD set (T = 1000 throughout), as
// published: Liang, Li & Srikant, ICLR 2018, and the ODIN README.
var (
	//go:embed paper_table2.tsv
	table2TSV string
	//go:embed paper_epsilon.tsv
	epsilonTSV string
)

// PaperRow is one row of the paper's Table 2: baseline and ODIN metrics (fractions).
type PaperRow struct {
	Network, InSet, OutSet string
	Baseline, ODIN         metrics.Result
	Epsilon                float64
}

// PaperTable returns the rows of the paper's Table 2 with the seed's ε for each.
func PaperTable() ([]PaperRow, error) {
	eps := map[[2]string]float64{}
	var nets []string
	for i, line := range lines(epsilonTSV) {
		f := strings.Split(line, "\t")
		if i == 0 {
			nets = f[1:]
			continue
		}
		for j, v := range f[1:] {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil || j >= len(nets) {
				return nil, fmt.Errorf("paper ε table: bad line %q", line)
			}
			eps[[2]string{nets[j], f[0]}] = x
		}
	}
	var rows []PaperRow
	for i, line := range lines(table2TSV) {
		if i == 0 {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 13 {
			return nil, fmt.Errorf("paper table: bad line %q", line)
		}
		var v [10]float64
		for j := range v {
			x, err := strconv.ParseFloat(f[3+j], 64)
			if err != nil {
				return nil, fmt.Errorf("paper table: bad value %q", f[3+j])
			}
			v[j] = x / 100
		}
		rows = append(rows, PaperRow{
			Network: f[0], InSet: f[1], OutSet: f[2],
			Baseline: metrics.Result{FPR95: v[0], DetErr: v[2], AUROC: v[4], AUPRIn: v[6], AUPROut: v[8]},
			ODIN:     metrics.Result{FPR95: v[1], DetErr: v[3], AUROC: v[5], AUPRIn: v[7], AUPROut: v[9]},
			Epsilon:  eps[[2]string{f[0], f[2]}],
		})
	}
	return rows, nil
}

// lines returns the non-comment, non-empty lines of a TSV text.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimRight(l, "\r")
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}
