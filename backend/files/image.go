package files

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/webp"

	"lanchat/backend/protocol"
)

// ThumbSize bounds a thumbnail's width and height.
const ThumbSize = 320

// picture is what the host learnt of an image file.
type picture struct {
	mediaType     string
	width, height int // as shown, EXIF orientation applied
	thumb         []byte
}

var formats = map[string]struct {
	mediaType string
	decode    func(io.Reader) (image.Image, error)
	config    func(io.Reader) (image.Config, error)
}{
	"png":  {"image/png", png.Decode, png.DecodeConfig},
	"jpeg": {"image/jpeg", jpeg.Decode, jpeg.DecodeConfig},
	"gif":  {"image/gif", gif.Decode, gif.DecodeConfig},
	"webp": {"image/webp", webp.Decode, webp.DecodeConfig},
}

// sniffFormat names the raster format f's first bytes announce, or "".
func sniffFormat(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(head, []byte("\xff\xd8\xff")):
		return "jpeg"
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return "gif"
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return "webp"
	}
	return ""
}

// image reads f as an image of a known raster format: nil when it is not
// one. An image larger than MaxPixels is refused before it is decoded.
func (s *Store) image(f *os.File) (*picture, *protocol.Problem) {
	head := make([]byte, 16)
	n, _ := f.ReadAt(head, 0)
	name := sniffFormat(head[:n])
	if name == "" {
		return nil, nil
	}
	ft := formats[name]
	cfg, err := ft.config(io.NewSectionReader(f, 0, 1<<62))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, nil // not a valid image after all: a plain file
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(s.cfg.MaxPixels) {
		return nil, protocol.Errorf(protocol.CodeFileTooLarge, "the image is %d × %d pixels; this host takes images up to %d million pixels",
			cfg.Width, cfg.Height, s.cfg.MaxPixels/1_000_000)
	}
	orient := 1
	if name == "jpeg" {
		orient = jpegOrientation(io.NewSectionReader(f, 0, 1<<62))
	}
	pic := &picture{mediaType: ft.mediaType, width: cfg.Width, height: cfg.Height}
	if orient >= 5 {
		pic.width, pic.height = cfg.Height, cfg.Width
	}
	s.thumb.Lock()
	defer s.thumb.Unlock()
	img, err := ft.decode(io.NewSectionReader(f, 0, 1<<62))
	if err != nil {
		return pic, nil // shown by the browser if it can; no thumbnail
	}
	pic.thumb = encodeJPEG(orientate(scaleDown(img), orient))
	return pic, nil
}

// scaleDown scales img to fit ThumbSize × ThumbSize, on white (a JPEG has
// no transparency).
func scaleDown(img image.Image) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w > ThumbSize || h > ThumbSize {
		if w >= h {
			w, h = ThumbSize, max(1, h*ThumbSize/b.Dx())
		} else {
			w, h = max(1, w*ThumbSize/b.Dy()), ThumbSize
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	xdraw.BiLinear.Scale(dst, dst.Bounds(), img, b, draw.Over, nil)
	return dst
}

func encodeJPEG(img image.Image) []byte {
	var out bytes.Buffer
	if err := jpeg.Encode(&out, img, &jpeg.Options{Quality: 80}); err != nil {
		return nil
	}
	return out.Bytes()
}

// orientate applies an EXIF orientation (1–8) to img.
func orientate(img image.Image, o int) image.Image {
	if o <= 1 || o > 8 {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	ow, oh := w, h
	if o >= 5 {
		ow, oh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, ow, oh))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var dx, dy int
			switch o {
			case 2:
				dx, dy = w-1-x, y
			case 3:
				dx, dy = w-1-x, h-1-y
			case 4:
				dx, dy = x, h-1-y
			case 5:
				dx, dy = y, x
			case 6:
				dx, dy = h-1-y, x
			case 7:
				dx, dy = h-1-y, w-1-x
			case 8:
				dx, dy = y, w-1-x
			}
			dst.Set(dx, dy, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return dst
}

// jpegOrientation reads the EXIF orientation tag of a JPEG (1 when it has
// none). Only the APP1 segments before the image data are read.
func jpegOrientation(r io.Reader) int {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil || hdr != [2]byte{0xff, 0xd8} {
		return 1
	}
	for i := 0; i < 32; i++ { // segments before the data; a real file has few
		var m [4]byte
		if _, err := io.ReadFull(r, m[:]); err != nil || m[0] != 0xff {
			return 1
		}
		n := int(binary.BigEndian.Uint16(m[2:])) - 2
		if n < 0 || m[1] == 0xda { // start of scan: no more metadata
			return 1
		}
		seg := make([]byte, n)
		if _, err := io.ReadFull(r, seg); err != nil {
			return 1
		}
		if m[1] == 0xe1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return exifOrientation(seg[6:])
		}
	}
	return 1
}

// exifOrientation finds tag 0x0112 in the first IFD of a TIFF block.
func exifOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	off := int(bo.Uint32(t[4:]))
	if off < 8 || off+2 > len(t) {
		return 1
	}
	count := int(bo.Uint16(t[off:]))
	for i := 0; i < count; i++ {
		e := off + 2 + i*12
		if e+12 > len(t) {
			return 1
		}
		if bo.Uint16(t[e:]) == 0x0112 {
			if v := int(bo.Uint16(t[e+8:])); v >= 1 && v <= 8 {
				return v
			}
			return 1
		}
	}
	return 1
}
