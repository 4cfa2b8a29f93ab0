//go:build amd64 && !purego

package gemm

import (
	"os"
	"testing"

	"golang.org/x/sys/cpu"
)

func TestKernelName(t *testing.T) {
	if v := os.Getenv(KernelEnv); v != "" {
		t.Skipf("%s=%s forces the kernel (TestChooseKernel checks that)", KernelEnv, v)
	}
	want := "go"
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		want = "avx2-fma"
		if cpu.X86.HasAVX512F {
			want = "avx512"
		}
	}
	if got := Kernel(); got != want {
		t.Fatalf("Kernel() = %q, want %q", got, want)
	}
}
