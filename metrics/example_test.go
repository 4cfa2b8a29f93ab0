package metrics_test

import (
	"fmt"
	"log"
	"os"

	"github.com/odin-ood/odin/metrics"
)

func ExampleCompute() {
	in := []float64{0.9, 0.7, 0.5, 0.5}
	out := []float64{0.7, 0.3, 0.1}
	r, err := metrics.Compute(in, out, metrics.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%.4f\n", r)

	// OpenOOD's convention: OOD is positive. FPR95 now counts in-distribution samples flagged as
	// OOD when 95% of the OOD samples are; the AUPRs swap places.
	r, err = metrics.Compute(in, out, metrics.Options{Positive: metrics.Out})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%.4f\n", r)
	// Output:
	// {0.3333 0.1667 0.7917 0.8167 0.8333}
	// {0.7500 0.1667 0.7917 0.8333 0.8167}
}

func ExampleWriteTable() {
	base := metrics.Result{FPR95: 0.347, DetErr: 0.1, AUROC: 0.953, AUPRIn: 0.964, AUPROut: 0.938}
	odin := metrics.Result{FPR95: 0.043, DetErr: 0.047, AUROC: 0.991, AUPRIn: 0.991, AUPROut: 0.991}
	header := [][2]string{{"In-distribution dataset", "CIFAR-10"}, {"Out-of-distribution dataset", "Tiny-ImageNet (crop)"}}
	err := metrics.WriteTable(os.Stdout, header, []string{"Baseline", "ODIN"}, []metrics.Result{base, odin})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// In-distribution dataset:                  CIFAR-10
	// Out-of-distribution dataset:  Tiny-ImageNet (crop)
	//
	//                             Baseline          ODIN
	// FPR at TPR 95%:                34.7%          4.3%
	// Detection error:               10.0%          4.7%
	// AUROC:                         95.3%         99.1%
	// AUPR In:                       96.4%         99.1%
	// AUPR Out:                      93.8%         99.1%
}
