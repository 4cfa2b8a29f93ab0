package dataset

import (
	"image"
	"image/color"
)

// toRaster converts a decoded image to 8-bit RGB the way PIL's convert("RGB") does after PIL's
// own decoding: gray is replicated, palettes are looked up, alpha is dropped (not composited),
// CMYK uses PIL's formula, 16-bit samples keep their high byte, and JPEG's YCbCr is upsampled and
// converted as libjpeg(-turbo) does by default, so that a JPEG decodes to within a few levels of
// what PIL produces from the same file (exactly, except for the IDCT's rounding).
func toRaster(m image.Image) raster {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	r := newRaster(w, h)
	R, G, B := r.pix[:w*h], r.pix[w*h:2*w*h], r.pix[2*w*h:]
	switch m := m.(type) {
	case *image.YCbCr:
		ycbcrToRGB(m, R, G, B)
	case *image.Gray:
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			copy(R[y*w:], row)
			copy(G[y*w:], row)
			copy(B[y*w:], row)
		}
	case *image.Gray16:
		for y := range h {
			for x := range w {
				v := m.Pix[y*m.Stride+2*x]
				R[y*w+x], G[y*w+x], B[y*w+x] = v, v, v
			}
		}
	case *image.NRGBA:
		interleaved(m.Pix, m.Stride, 4, 1, w, h, R, G, B)
	case *image.RGBA:
		interleaved(m.Pix, m.Stride, 4, 1, w, h, R, G, B)
	case *image.NRGBA64:
		interleaved(m.Pix, m.Stride, 8, 2, w, h, R, G, B)
	case *image.RGBA64:
		interleaved(m.Pix, m.Stride, 8, 2, w, h, R, G, B)
	case *image.Paletted:
		var pal [256][3]byte // indices past the palette stay black
		for k, c := range m.Palette {
			if k < 256 {
				n := color.NRGBAModel.Convert(c).(color.NRGBA)
				pal[k] = [3]byte{n.R, n.G, n.B}
			}
		}
		for y := range h {
			for x := range w {
				c := pal[m.Pix[y*m.Stride+x]]
				R[y*w+x], G[y*w+x], B[y*w+x] = c[0], c[1], c[2]
			}
		}
	case *image.CMYK:
		for y := range h {
			for x := range w {
				p := m.Pix[y*m.Stride+4*x:]
				R[y*w+x], G[y*w+x], B[y*w+x] = cmykToRGB(p[0], p[1], p[2], p[3])
			}
		}
	default:
		for y := range h {
			for x := range w {
				c := color.NRGBAModel.Convert(m.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				R[y*w+x], G[y*w+x], B[y*w+x] = c.R, c.G, c.B
			}
		}
	}
	return r
}

// interleaved copies the first three samples of each pixel; with 2-byte (big-endian) samples it
// keeps the high byte.
func interleaved(pix []byte, stride, pixBytes, sampleBytes, w, h int, R, G, B []byte) {
	for y := range h {
		row := pix[y*stride:]
		for x := range w {
			p := row[x*pixBytes:]
			R[y*w+x], G[y*w+x], B[y*w+x] = p[0], p[sampleBytes], p[2*sampleBytes]
		}
	}
}

// cmykToRGB is PIL's conversion (Convert.c since Pillow 6): each channel is (255−k) scaled by
// (255−c)/255, rounded as PIL's MULDIV255 does.
func cmykToRGB(c, m, y, k byte) (byte, byte, byte) {
	nk := 255 - int(k)
	f := func(v byte) byte {
		t := int(v)*nk + 128
		return byte(nk - ((t>>8)+t)>>8)
	}
	return f(c), f(m), f(y)
}

// ycbcrToRGB converts a decoded JPEG. Chroma subsampled 2×2 (4:2:0) or 2×1 (4:2:2) is upsampled
// with libjpeg's "fancy" triangle filter; other subsamplings repeat the chroma sample as Go does.
// The colour transform uses libjpeg's fixed-point constants and rounding.
func ycbcrToRGB(m *image.YCbCr, R, G, B []byte) {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	var cb, cr []byte // chroma at full resolution, w×h
	switch {
	case m.Rect.Min != image.Point{}:
		// Never produced by image/jpeg; take Go's sampling.
	case m.SubsampleRatio == image.YCbCrSubsampleRatio444:
		cb, cr = planeRows(m.Cb, m.CStride, w, h), planeRows(m.Cr, m.CStride, w, h)
	case m.SubsampleRatio == image.YCbCrSubsampleRatio420:
		cw, ch := (w+1)/2, (h+1)/2
		cb, cr = upsample2x2(m.Cb, m.CStride, cw, ch, w, h), upsample2x2(m.Cr, m.CStride, cw, ch, w, h)
	case m.SubsampleRatio == image.YCbCrSubsampleRatio422:
		cw := (w + 1) / 2
		cb, cr = upsample2x1(m.Cb, m.CStride, cw, w, h), upsample2x1(m.Cr, m.CStride, cw, w, h)
	}
	if cb == nil {
		for y := range h {
			for x := range w {
				X, Y := m.Rect.Min.X+x, m.Rect.Min.Y+y
				ci := m.COffset(X, Y)
				R[y*w+x], G[y*w+x], B[y*w+x] = yccToRGB(m.Y[m.YOffset(X, Y)], m.Cb[ci], m.Cr[ci])
			}
		}
		return
	}
	for y := range h {
		row := m.Y[y*m.YStride : y*m.YStride+w]
		for x, l := range row {
			k := y*w + x
			R[k], G[k], B[k] = yccToRGB(l, cb[k], cr[k])
		}
	}
}

// libjpeg's fixed-point constants: round(x·2¹⁶).
const (
	fixCrR = 91881  // 1.40200
	fixCbG = 22554  // 0.34414
	fixCrG = 46802  // 0.71414
	fixCbB = 116130 // 1.77200
	half16 = 1 << 15
)

func yccToRGB(y, cb, cr byte) (byte, byte, byte) {
	Y, u, v := int32(y), int32(cb)-128, int32(cr)-128
	r := Y + (fixCrR*v+half16)>>16
	g := Y + (-fixCbG*u-fixCrG*v+half16)>>16
	b := Y + (fixCbB*u+half16)>>16
	return clamp8(r), clamp8(g), clamp8(b)
}

func clamp8(v int32) byte {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return byte(v)
}

func planeRows(p []byte, stride, w, h int) []byte {
	out := make([]byte, w*h)
	for y := range h {
		copy(out[y*w:(y+1)*w], p[y*stride:])
	}
	return out
}

// upsample2x2 doubles a cw×ch chroma plane in both directions with libjpeg's h2v2 fancy
// upsampling: each output sample weighs the nearest input sample 9/16, its two edge neighbours
// 3/16 each and the diagonal one 1/16, with libjpeg's alternating rounding biases (8 and 7) and the
// plane's edges replicated. The result is cropped to w×h.
func upsample2x2(p []byte, stride, cw, ch, w, h int) []byte {
	out := make([]byte, w*h)
	sum := make([]int, cw) // 3·(this row) + (nearer neighbouring row), per column
	for y := range h {
		r := y / 2
		n := r - 1 // the nearer neighbouring row: above for even output rows, below for odd
		if y%2 == 1 {
			n = r + 1
		}
		n = min(max(n, 0), ch-1)
		this, near := p[r*stride:r*stride+cw], p[n*stride:n*stride+cw]
		for c := range sum {
			sum[c] = 3*int(this[c]) + int(near[c])
		}
		o := out[y*w : (y+1)*w]
		for x := range o {
			c := x / 2
			if x%2 == 0 {
				o[x] = byte((3*sum[c] + sum[max(c-1, 0)] + 8) >> 4)
			} else {
				o[x] = byte((3*sum[c] + sum[min(c+1, cw-1)] + 7) >> 4)
			}
		}
	}
	return out
}

// upsample2x1 doubles chroma horizontally with libjpeg's h2v1 fancy upsampling: 3/4 of the
// nearest sample and 1/4 of its neighbour, rounding biases 1 and 2, edges replicated.
func upsample2x1(p []byte, stride, cw, w, h int) []byte {
	out := make([]byte, w*h)
	for y := range h {
		row := p[y*stride:]
		for x := range w {
			c := x / 2
			t := 3 * int(row[c])
			switch {
			case x == 0:
				out[y*w+x] = row[0]
			case x%2 == 0:
				out[y*w+x] = byte((t + int(row[c-1]) + 1) >> 2)
			case c == cw-1:
				out[y*w+x] = row[c]
			default:
				out[y*w+x] = byte((t + int(row[c+1]) + 2) >> 2)
			}
		}
	}
	return out
}
