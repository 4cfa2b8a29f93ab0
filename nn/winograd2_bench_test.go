package nn

import (
	"fmt"
	"testing"
)

// BenchmarkConv3x3ImageNet times forward and backward of ResNet-50's stride-1 3×3 convolutions
// (224×224 images, micro-batches of 8), by F(2×2, 3×3) and
// by the direct paths (-direct); see BenchmarkConv3x3 for the units.
func BenchmarkConv3x3ImageNet(b *testing.B) {
	for _, tc := range []struct{ c, hw int }{{64, 56}, {128, 28}, {256, 14}, {512, 7}} {
		for _, path := range []string{"", "-direct"} {
			b.Run(fmt.Sprintf("%dto%d-%dpx%s", tc.c, tc.c, tc.hw, path), func(b *testing.B) {
				benchConv(b, tc.c, tc.c, tc.hw, false, path)
			})
		}
	}
}

// BenchmarkResNet50Winograd2 times ResNet-50 at 224×224 (see benchNetwork) with its stride-1
// 3×3 convolutions on F(2×2, 3×3) where it runs, and on the direct paths (direct), in one
// process; img/cpu-s discounts other load on the machine.
func BenchmarkResNet50Winograd2(b *testing.B) {
	for _, path := range []string{"f2x2", "direct"} {
		b.Run(path, func(b *testing.B) {
			g := resNet50(b, 224)
			if path == "direct" {
				for _, st := range g.plan.steps {
					if c := stepConv(st.op); c != nil {
						c.prepareWith(true)
					}
				}
			}
			benchNetwork(b, g)
		})
	}
}
