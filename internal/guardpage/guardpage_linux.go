//go:build linux

// Package guardpage gives tests slices that end exactly where an inaccessible page begins (on
// Linux; elsewhere plain slices), so that an assembly kernel reading or writing one element past
// what its contract allows crashes the test instead of passing silently. Only tests import it.
package guardpage

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Floats returns n float32s (at most a page of them) ending at an inaccessible page. The memory
// is unmapped when the test ends.
func Floats(t testing.TB, n int) []float32 {
	t.Helper()
	ps := unix.Getpagesize()
	if n < 0 || 4*n > ps {
		t.Fatalf("guardpage: %d floats do not fit a page of %d bytes", n, ps)
	}
	mem, err := unix.Mmap(-1, 0, 2*ps, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(mem) })
	if err := unix.Mprotect(mem[ps:], unix.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	f := unsafe.Slice((*float32)(unsafe.Pointer(&mem[0])), ps/4)
	return f[ps/4-n:]
}
