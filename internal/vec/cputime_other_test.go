//go:build !linux

package vec

import "time"

func threadCPU() time.Duration { return 0 }
