//go:build !amd64 || purego

package vec

func winogradPhasesAsm(base *float32, ps, tw, phase int, src *float32, w, rows int, s, t float32, relu bool) {
}
