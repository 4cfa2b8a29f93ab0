package report

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
)

// lowerIsBetter are the grid metrics where less is better; the others (auroc, aupr_in,
// aupr_out, in_score) are better higher.
var lowerIsBetter = map[string]bool{"fpr95": true, "det_err": true}

// ReadGrid reads a grid file of odin tune --grid (a header "temperature,magnitude,<metric>,…",
// then one row per cell) as a heat map of metric: temperatures as rows, magnitudes as columns.
// The framed cell is the best by metric with odin tune's tie-breaks (the better AUROC, then
// FPR95, then detection error, then the earlier cell). A file with a val_dataset column (several
// validation sets) must hold one set only.
func ReadGrid(path, metric string) (Grid, error) {
	f, err := os.Open(path)
	if err != nil {
		return Grid{}, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return Grid{}, fmt.Errorf("grid %s: %v", path, err)
	}
	if len(rows) < 2 {
		return Grid{}, fmt.Errorf("grid %s: no cells", path)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, need := range []string{"temperature", "magnitude", metric} {
		if _, ok := col[need]; !ok {
			return Grid{}, fmt.Errorf("grid %s: no column %q (have %v)", path, need, rows[0])
		}
	}
	type cell struct{ t, e float64 }
	values := map[cell]map[string]float64{}
	var order []cell
	var ts, es []float64
	for n, r := range rows[1:] {
		if v, ok := col["val_dataset"]; ok && r[v] != rows[1][v] {
			return Grid{}, fmt.Errorf("grid %s: cells of several validation sets (%s, %s)", path, rows[1][v], r[v])
		}
		num := map[string]float64{}
		for name, i := range col {
			if name == "val_dataset" {
				continue
			}
			x, err := strconv.ParseFloat(r[i], 64)
			if err != nil {
				return Grid{}, fmt.Errorf("grid %s:%d: %s %q is not a number", path, n+2, name, r[i])
			}
			num[name] = x
		}
		c := cell{num["temperature"], num["magnitude"]}
		if _, dup := values[c]; dup {
			return Grid{}, fmt.Errorf("grid %s:%d: cell T = %g, ε = %g repeated", path, n+2, c.t, c.e)
		}
		values[c] = num
		order = append(order, c)
		if !slices.Contains(ts, c.t) {
			ts = append(ts, c.t)
		}
		if !slices.Contains(es, c.e) {
			es = append(es, c.e)
		}
	}
	slices.Sort(ts)
	slices.Sort(es)
	g := Grid{Rows: ts, Cols: es, RowName: "temperature T", ColName: "magnitude ε", HigherIsBetter: !lowerIsBetter[metric]}
	for _, t := range ts {
		row := make([]float64, len(es))
		for j, e := range es {
			row[j] = math.NaN()
			if v, ok := values[cell{t, e}]; ok {
				row[j] = v[metric]
			}
		}
		g.Values = append(g.Values, row)
	}
	best := order[0]
	for _, c := range order[1:] {
		if gridBetter(values[c], values[best], metric) {
			best = c
		}
	}
	g.Best = [2]int{slices.Index(ts, best.t), slices.Index(es, best.e)}
	if metric == "in_score" {
		g.Format = "%.5f"
	}
	return g, nil
}

// gridBetter reports whether cell a beats b by metric, then by odin tune's tie-breaks.
func gridBetter(a, b map[string]float64, metric string) bool {
	for _, k := range []string{metric, "auroc", "fpr95", "det_err"} {
		x, okx := a[k]
		y, oky := b[k]
		if !okx || !oky || x == y || math.IsNaN(x) && math.IsNaN(y) {
			continue
		}
		if math.IsNaN(x) != math.IsNaN(y) {
			return math.IsNaN(y)
		}
		if lowerIsBetter[k] {
			return x < y
		}
		return x > y
	}
	return false
}
