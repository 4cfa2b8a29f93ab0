package serve

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
)

// scoreResult is /v1/score's answer for one image.
type scoreResult struct {
	Name  string  `json:"name,omitempty"` // the multipart file name, if any
	Score float64 `json:"score"`          // ODIN score, higher = more in-distribution
	OOD   bool    `json:"ood"`            // score < threshold
	Class int64   `json:"predicted_class"`
	MSP   float64 `json:"msp"` // maximum softmax probability at T = 1
}

type scoreResponse struct {
	Model       string        `json:"model"`
	Detector    string        `json:"detector"`
	Temperature float64       `json:"temperature"`
	Magnitude   float64       `json:"magnitude"`
	Threshold   float64       `json:"threshold"`
	Results     []scoreResult `json:"results"`
}

// scoreHTTP is POST /v1/score[?model=NAME]: one PNG or JPEG as the body, or several as the parts
// of a multipart/form-data body, each scored with the model's ODIN and decision rule.
func (s *Server) scoreHTTP(w http.ResponseWriter, r *http.Request) error {
	if !s.ready.Load() {
		return errorf(http.StatusServiceUnavailable, "server not ready: models loading")
	}
	name := r.URL.Query().Get("model")
	if name == "" {
		if len(s.order) > 1 {
			return badRequest("several models are served (%s): choose one with ?model=NAME", joinQuoted(s.order))
		}
		name = s.order[0]
	}
	m, err := s.model(name, "")
	if err != nil {
		return err
	}
	if err := m.busy(); err != nil {
		return err
	}
	files, names, err := readImages(r, s.opt.Limits.MaxImages)
	if err != nil {
		return err
	}
	if err := m.encodedOK(); err != nil {
		return err
	}
	l, err := m.reserve(len(files))
	if err != nil {
		return err
	}
	size := m.Net.Graph.Input().Size()
	x := make([]float32, len(files)*size)
	for i, data := range files {
		label := names[i]
		if label == "" {
			label = fmt.Sprintf("image %d", i)
		}
		if err := m.decodeImage(label, data, x[i*size:(i+1)*size], s.opt.Limits); err != nil {
			l.release()
			return err
		}
	}
	m.Net.Normalize(x, x, len(files))
	sc, err := m.score(r.Context(), x, len(files), true, l)
	if err != nil {
		return err
	}
	th := m.Threshold
	out := scoreResponse{Model: m.Name, Detector: "odin", Temperature: th.Temperature, Magnitude: th.Magnitude, Threshold: th.Delta}
	for i := range files {
		out.Results = append(out.Results, scoreResult{Name: names[i], Score: sc.ODIN[i], OOD: sc.OOD[i], Class: sc.Class[i], MSP: sc.MSP[i]})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// readImages returns the encoded images of a /v1/score body and their part names.
func readImages(r *http.Request, maxImages int) ([][]byte, []string, error) {
	ct, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, nil, errorf(http.StatusUnsupportedMediaType, "Content-Type %q: want image/png, image/jpeg or multipart/form-data", r.Header.Get("Content-Type"))
	}
	switch {
	case ct == "image/png" || ct == "image/jpeg":
		data, err := readAll(r.Body)
		if err != nil {
			return nil, nil, err
		}
		return [][]byte{data}, []string{""}, nil
	case ct == "multipart/form-data" && params["boundary"] != "":
		var files [][]byte
		var names []string
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, nil, bodyError(err, "multipart body")
			}
			if len(files) == maxImages {
				return nil, nil, errorf(http.StatusRequestEntityTooLarge, "more than %d images in one request", maxImages)
			}
			data, err := readAll(p)
			if err != nil {
				return nil, nil, err
			}
			files = append(files, data)
			names = append(names, p.FileName())
		}
		if len(files) == 0 {
			return nil, nil, badRequest("multipart body holds no image")
		}
		return files, names, nil
	}
	return nil, nil, errorf(http.StatusUnsupportedMediaType, "Content-Type %s: want image/png, image/jpeg or multipart/form-data", strings.TrimSpace(ct))
}

func readAll(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, bodyError(err, "body")
	}
	return data, nil
}

// bodyError maps a body read error: over the size limit is 413, anything else 400.
func bodyError(err error, what string) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errorf(http.StatusRequestEntityTooLarge, "request body larger than %d bytes", mbe.Limit)
	}
	return badRequest("%s: %v", what, err)
}
