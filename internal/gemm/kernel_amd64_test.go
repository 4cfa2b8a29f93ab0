//go:build amd64 && !purego

package gemm

import (
	"testing"

	"golang.org/x/sys/cpu"
)

func TestKernelName(t *testing.T) {
	want := "go"
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		want = "avx2-fma"
	}
	if got := Kernel(); got != want {
		t.Fatalf("Kernel() = %q, want %q", got, want)
	}
}
