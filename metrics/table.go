package metrics

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"
)

// Percent is a Result scaled to percent, for display and JSON. It marshals to one object
// {"fpr95": …, "det_err": …, "auroc": …, "aupr_in": …, "aupr_out": …} with the values in percent at
// full float64 precision; a NaN value (possible only in reference-compatible mode) becomes null.
type Percent struct {
	FPR95   float64 `json:"fpr95"`
	DetErr  float64 `json:"det_err"`
	AUROC   float64 `json:"auroc"`
	AUPRIn  float64 `json:"aupr_in"`
	AUPROut float64 `json:"aupr_out"`
}

// Percent returns the metrics multiplied by 100.
func (r Result) Percent() Percent {
	return Percent{
		FPR95:   100 * r.FPR95,
		DetErr:  100 * r.DetErr,
		AUROC:   100 * r.AUROC,
		AUPRIn:  100 * r.AUPRIn,
		AUPROut: 100 * r.AUPROut,
	}
}

// MarshalJSON writes NaN and infinite values as null, which encoding/json would reject.
func (p Percent) MarshalJSON() ([]byte, error) {
	num := func(v float64) *float64 {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return &v
	}
	return json.Marshal(struct {
		FPR95   *float64 `json:"fpr95"`
		DetErr  *float64 `json:"det_err"`
		AUROC   *float64 `json:"auroc"`
		AUPRIn  *float64 `json:"aupr_in"`
		AUPROut *float64 `json:"aupr_out"`
	}{num(p.FPR95), num(p.DetErr), num(p.AUROC), num(p.AUPRIn), num(p.AUPROut)})
}

func (p Percent) values() [5]float64 {
	return [5]float64{p.FPR95, p.DetErr, p.AUROC, p.AUPRIn, p.AUPROut}
}

// WriteTable writes results side by side in the layout of the paper's evaluation script: first a
// block of header lines, each a label followed by a colon and its value right-aligned, then a blank
// line (omitted without header), a line of column names, and the rows "FPR at TPR 95%:",
// "Detection error:", "AUROC:", "AUPR In:" and "AUPR Out:" with one percent value to one decimal
// per result ("n/a" for NaN). The seed named its two columns "Baseline" and "Our Method". Values
// and column names are right-aligned and the header values end in the same column as the table.
func WriteTable(w io.Writer, header [][2]string, columns []string, results []Result) error {
	if len(results) == 0 {
		return errors.New("metrics: table has no results")
	}
	if len(columns) != len(results) {
		return fmt.Errorf("metrics: table has %d column names for %d results", len(columns), len(results))
	}
	cells := make([][5]string, len(results))
	for c, r := range results {
		for k, v := range r.Percent().values() {
			if math.IsNaN(v) {
				cells[c][k] = "n/a"
			} else {
				cells[c][k] = fmt.Sprintf("%.1f%%", v)
			}
		}
	}
	return writeTable(w, header, columns, cells)
}

// WriteTableCI is WriteTable with each value followed by its confidence interval, in percent to
// one decimal: "12.1% [11.4, 12.9]".
func WriteTableCI(w io.Writer, header [][2]string, columns []string, results []ResultCI) error {
	if len(results) == 0 {
		return errors.New("metrics: table has no results")
	}
	if len(columns) != len(results) {
		return fmt.Errorf("metrics: table has %d column names for %d results", len(columns), len(results))
	}
	cells := make([][5]string, len(results))
	for c, r := range results {
		for k, v := range r.Percent().values() {
			if math.IsNaN(v.Value) {
				cells[c][k] = "n/a"
			} else {
				cells[c][k] = fmt.Sprintf("%.1f%% [%.1f, %.1f]", v.Value, v.Low, v.High)
			}
		}
	}
	return writeTable(w, header, columns, cells)
}

// writeTable lays out WriteTable's cells.
func writeTable(w io.Writer, header [][2]string, columns []string, cells [][5]string) error {
	colW := 14
	for c := range cells {
		for k := range cells[c] {
			colW = max(colW, utf8.RuneCountInString(cells[c][k])+4)
		}
		colW = max(colW, utf8.RuneCountInString(columns[c])+4)
	}
	tableW := len(cells) * colW
	labelW := 20
	for _, h := range header {
		labelW = max(labelW, utf8.RuneCountInString(h[0])+1+2+utf8.RuneCountInString(h[1])-tableW)
	}
	width := labelW + tableW

	// The paper's row labels, in its order and wording.
	rowLabels := [5]string{"FPR at TPR 95%:", "Detection error:", "AUROC:", "AUPR In:", "AUPR Out:"}
	var b strings.Builder
	for _, h := range header {
		label := h[0] + ":"
		fmt.Fprintf(&b, "%s%*s\n", label, width-utf8.RuneCountInString(label), h[1])
	}
	if len(header) > 0 {
		b.WriteString("\n")
	}
	b.WriteString(strings.Repeat(" ", labelW))
	for _, name := range columns {
		fmt.Fprintf(&b, "%*s", colW, name)
	}
	b.WriteString("\n")
	for k, label := range rowLabels {
		fmt.Fprintf(&b, "%-*s", labelW, label)
		for c := range cells {
			fmt.Fprintf(&b, "%*s", colW, cells[c][k])
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteRowsCI writes one row per method: a header block as WriteTable writes it, then a line of
// column names and per method its name and the five metrics in percent to one decimal, each
// followed by its interval ("12.1 [11.4, 12.9]"), right-aligned. It suits more methods than
// WriteTableCI's side-by-side columns.
func WriteRowsCI(w io.Writer, header [][2]string, methods []string, results []ResultCI) error {
	if len(results) == 0 || len(methods) != len(results) {
		return fmt.Errorf("metrics: table has %d method names for %d results", len(methods), len(results))
	}
	rows := [][6]string{{"Method", "FPR at TPR 95%", "Detection error", "AUROC", "AUPR In", "AUPR Out"}}
	for i, r := range results {
		row := [6]string{methods[i]}
		for k, v := range r.Percent().values() {
			row[k+1] = v.String()
		}
		rows = append(rows, row)
	}
	var width [6]int
	for _, r := range rows {
		for k, c := range r {
			width[k] = max(width[k], utf8.RuneCountInString(c))
		}
	}
	tableW := width[0]
	for _, wd := range width[1:] {
		tableW += 2 + wd
	}
	var b strings.Builder
	for _, h := range header {
		label := h[0] + ":"
		pad := max(1, tableW-utf8.RuneCountInString(label)-utf8.RuneCountInString(h[1]))
		fmt.Fprintf(&b, "%s%s%s\n", label, strings.Repeat(" ", pad), h[1])
	}
	if len(header) > 0 {
		b.WriteString("\n")
	}
	for _, r := range rows {
		fmt.Fprintf(&b, "%-*s", width[0], r[0]) // fmt counts widths in runes
		for k, c := range r[1:] {
			fmt.Fprintf(&b, "  %*s", width[k+1], c)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
