package experiment

import (
	"math"
	"testing"
)

func TestPaperTable(t *testing.T) {
	rows, err := PaperTable()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 28 {
		t.Fatalf("%d rows, want 28 (4 networks × 7 sets)", len(rows))
	}
	r := rows[0]
	if r.Network != "densenet10" || r.OutSet != "Imagenet" || math.Abs(r.Baseline.FPR95-0.347) > 1e-12 || math.Abs(r.ODIN.FPR95-0.043) > 1e-12 || r.Epsilon != 0.0014 {
		t.Errorf("first row %+v", r)
	}
	for _, r := range rows {
		if r.Network == "densenet10" && r.OutSet == "LSUN" && r.Epsilon != 0 {
			t.Errorf("densenet10 LSUN ε = %g, want 0", r.Epsilon)
		}
	}
}
