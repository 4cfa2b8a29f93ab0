package report

import (
	"context"
	"testing"

	"github.com/odin-ood/odin/metrics"
)

// BenchmarkWriteRow measures a whole report of a full row: 10 methods on 9,000 + 9,000 images,
// 1,000 resamples on two workers, every figure in SVG and PNG, the page and the JSON.
func BenchmarkWriteRow(b *testing.B) {
	names := []string{"baseline", "odin", "energy", "maxlogit", "gradnorm", "mahalanobis", "mahalanobis_pre", "knn", "react", "vim"}
	in := Input{InName: "CIFAR-10", OutName: "Tiny-ImageNet (crop)", Methods: synthetic(5, 9000, names...),
		Bootstrap: metrics.BootstrapOptions{Workers: 2}}
	dir := b.TempDir()
	for b.Loop() {
		if _, err := Write(context.Background(), dir, in); err != nil {
			b.Fatal(err)
		}
	}
}
