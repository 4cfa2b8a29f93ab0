package checkpoint

import (
	"testing"

	"github.com/odin-ood/odin/internal/datadir"
)

func BenchmarkOpenDenseNet10(b *testing.B) {
	path := datadir.ForTest(b, "models/densenet10.pth")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Open(path); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpenResNet56(b *testing.B) {
	path := datadir.ForTest(b, "models/resnet56-cifar10.th")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Open(path); err != nil {
			b.Fatal(err)
		}
	}
}
