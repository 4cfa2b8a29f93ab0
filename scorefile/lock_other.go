//go:build !unix

package scorefile

import "os"

// lock is a no-op where flock does not exist: concurrent runs there are not detected.
func lock(*os.File) error { return nil }
