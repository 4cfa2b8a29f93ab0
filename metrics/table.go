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
	colW := 14
	for c, r := range results {
		for k, v := range r.Percent().values() {
			if math.IsNaN(v) {
				cells[c][k] = "n/a"
			} else {
				cells[c][k] = fmt.Sprintf("%.1f%%", v)
			}
			colW = max(colW, utf8.RuneCountInString(cells[c][k])+4)
		}
		colW = max(colW, utf8.RuneCountInString(columns[c])+4)
	}
	tableW := len(results) * colW
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
		for c := range results {
			fmt.Fprintf(&b, "%*s", colW, cells[c][k])
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
