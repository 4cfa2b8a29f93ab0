package metrics

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestWriteTableSeedLayout(t *testing.T) {
	header := [][2]string{
		{"Neural network architecture", "DenseNet-BC-100"},
		{"In-distribution dataset", "CIFAR-10"},
		{"Out-of-distribution dataset", "Tiny-ImageNet (crop)"},
	}
	results := []Result{
		{FPR95: 0.347, DetErr: 0.1, AUROC: 0.953, AUPRIn: 0.964, AUPROut: 0.938},
		{FPR95: 0.043, DetErr: 0.047, AUROC: 0.991, AUPRIn: 0.991, AUPROut: 0.991},
	}
	var b bytes.Buffer
	if err := WriteTable(&b, header, []string{"Baseline", "Our Method"}, results); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"Neural network architecture:       DenseNet-BC-100\n" +
		"In-distribution dataset:                  CIFAR-10\n" +
		"Out-of-distribution dataset:  Tiny-ImageNet (crop)\n" +
		"\n" +
		"                            Baseline    Our Method\n" +
		"FPR at TPR 95%:                34.7%          4.3%\n" +
		"Detection error:               10.0%          4.7%\n" +
		"AUROC:                         95.3%         99.1%\n" +
		"AUPR In:                       96.4%         99.1%\n" +
		"AUPR Out:                      93.8%         99.1%\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestWriteTableNoHeaderWideNames(t *testing.T) {
	results := []Result{{FPR95: 1, DetErr: 0.5, AUROC: 0.5, AUPRIn: math.NaN(), AUPROut: 0.00049}}
	var b bytes.Buffer
	if err := WriteTable(&b, nil, []string{"a rather long column name"}, results); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"                        a rather long column name\n" +
		"FPR at TPR 95%:                            100.0%\n" +
		"Detection error:                            50.0%\n" +
		"AUROC:                                      50.0%\n" +
		"AUPR In:                                      n/a\n" +
		"AUPR Out:                                    0.0%\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestWriteTableErrors(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, nil, nil, nil); err == nil {
		t.Error("no results: no error")
	}
	if err := WriteTable(&b, nil, []string{"a"}, []Result{{}, {}}); err == nil || !strings.Contains(err.Error(), "1 column names for 2 results") {
		t.Errorf("mismatched names: error %v", err)
	}
}

func TestPercentJSON(t *testing.T) {
	r := Result{FPR95: 0.043, DetErr: 1.0 / 3, AUROC: 0.991, AUPRIn: 1, AUPROut: 0}
	b, err := json.Marshal(r.Percent())
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]float64
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"fpr95": 100 * 0.043, "det_err": 100 * r.DetErr, "auroc": 100 * 0.991, "aupr_in": 100, "aupr_out": 0}
	if len(got) != len(want) {
		t.Errorf("keys %v, want %v", got, want)
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v, want %v (full precision)", k, got[k], v)
		}
	}

	b, err = json.Marshal(Result{FPR95: math.NaN()}.Percent())
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"fpr95":null,"det_err":0,"auroc":0,"aupr_in":0,"aupr_out":0}`; string(b) != want {
		t.Errorf("NaN: %s, want %s", b, want)
	}
}
