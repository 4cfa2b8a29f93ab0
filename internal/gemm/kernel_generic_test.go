//go:build !amd64 || purego

package gemm

import "testing"

func TestKernelName(t *testing.T) {
	if got := Kernel(); got != "go" {
		t.Fatalf("Kernel() = %q, want \"go\"", got)
	}
}
