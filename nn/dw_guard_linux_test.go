//go:build linux

package nn

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// dwGuarded returns n float32s between two inaccessible pages, starting right after the first
// (atStart) or ending right before the second, so that a kernel reading one value before or after
// them crashes the test. internal/guardpage does this for at most a page; a layer's planes take
// more. The memory is unmapped when the test ends.
func dwGuarded(t testing.TB, n int, atStart bool) []float32 {
	t.Helper()
	ps := unix.Getpagesize()
	data := (4*n + ps - 1) / ps * ps
	mem, err := unix.Mmap(-1, 0, data+2*ps, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(mem) })
	if err := unix.Mprotect(mem[:ps], unix.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mprotect(mem[ps+data:], unix.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	f := unsafe.Slice((*float32)(unsafe.Pointer(&mem[ps])), data/4)
	if atStart {
		return f[:n:n]
	}
	return f[data/4-n:]
}
