package collection

import (
	"fmt"
	"hash/fnv"
	"math/bits"
	"strconv"
	"strings"
)

// Shard is part I (0 ≤ I < N) of a collection split N ways. The zero value means the whole
// collection.
type Shard struct{ I, N int }

// ParseShard parses "i/n"; the empty string is the whole collection.
func ParseShard(s string) (Shard, error) {
	if s == "" {
		return Shard{}, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("shard %q: want i/n with 0 ≤ i < n, e.g. 0/4", s)
	}
	return Shard{I: i, N: n}, nil
}

// Whole reports whether s is the whole collection.
func (s Shard) Whole() bool { return s.N <= 1 }

// String returns "i/n", or "" for the whole collection.
func (s Shard) String() string {
	if s.Whole() {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.I, s.N)
}

// Of returns the shard, among n, of the image with the given path: ⌊h·n / 2⁶⁴⌋ for h the FNV-1a
// 64 hash of its bytes, i.e. the top 64 bits of the 128-bit product h·n. The high bits are taken
// because FNV-1a's low k bits depend only on the low k bits of each byte: h mod 4 would put
// "a.png", "e.png" and "i.png" in one shard.
func Of(path string, n int) int {
	if n <= 1 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(path))
	hi, _ := bits.Mul64(h.Sum64(), uint64(n))
	return int(hi)
}

// Holds reports whether path belongs to s.
func (s Shard) Holds(path string) bool { return s.Whole() || Of(path, s.N) == s.I }

// Select returns the paths that belong to s, in order.
func (s Shard) Select(paths []string) []string {
	if s.Whole() {
		return paths
	}
	var out []string
	for _, p := range paths {
		if s.Holds(p) {
			out = append(out, p)
		}
	}
	return out
}
