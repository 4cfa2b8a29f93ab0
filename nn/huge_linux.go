//go:build linux

package nn

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugeFloats returns n zeroed floats on 2 MiB boundaries, advised into transparent huge pages
// where the kernel offers them (the advice is best effort: its failure is harmless).
func hugeFloats(n int) []float32 {
	const huge = 2 << 20
	s := make([]float32, n+huge/4)
	off := 0
	if r := uintptr(unsafe.Pointer(unsafe.SliceData(s))) % huge; r != 0 {
		off = int(huge-r) / 4
	}
	s = s[off : off+n : off+n]
	if n*4 >= huge {
		b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), (n*4)&^(huge-1))
		_ = unix.Madvise(b, unix.MADV_HUGEPAGE)
	}
	return s
}
