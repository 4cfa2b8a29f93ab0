package serve

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"
)

// Handler returns the REST API: the Open Inference Protocol under /v2, /v1/score and /metrics.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern, endpoint string, h func(w http.ResponseWriter, r *http.Request) error) {
		mux.Handle(pattern, s.instrument(endpoint, h))
	}
	handle("GET /v2/health/live", "live", s.live)
	handle("GET /v2/health/ready", "ready", s.readyz)
	handle("GET /v2", "server_metadata", s.serverMetadata)
	handle("GET /v2/{$}", "server_metadata", s.serverMetadata)
	handle("GET /v2/models/{name}", "model_metadata", s.modelMetadata)
	handle("GET /v2/models/{name}/versions/{version}", "model_metadata", s.modelMetadata)
	handle("GET /v2/models/{name}/ready", "model_ready", s.modelReady)
	handle("GET /v2/models/{name}/versions/{version}/ready", "model_ready", s.modelReady)
	handle("POST /v2/models/{name}/infer", "infer", s.inferHTTP)
	handle("POST /v2/models/{name}/versions/{version}/infer", "infer", s.inferHTTP)
	handle("POST /v1/score", "score", s.scoreHTTP)
	handle("/", "other", func(w http.ResponseWriter, r *http.Request) error {
		return errorf(http.StatusNotFound, "no endpoint %s %s", r.Method, r.URL.Path)
	})
	mux.Handle("GET /metrics", promHandler(s.met))
	return mux
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// instrument wraps a handler: an error it returns is answered as the protocol's error object,
// and every request is counted, timed and (unless it succeeded) logged.
func (s *Server) instrument(endpoint string, h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		if s.opt.MaxBodyBytes > 0 {
			r.Body = http.MaxBytesReader(sw, r.Body, s.opt.MaxBodyBytes)
		}
		err := h(sw, r)
		if err != nil {
			ae := classify(err)
			writeJSON(sw, ae.status, map[string]string{"error": ae.msg})
			level := s.log.Info
			if ae.status >= 500 {
				level = s.log.Error
			}
			level("request failed", "protocol", "http", "endpoint", endpoint, "method", r.Method, "path", r.URL.Path,
				"status", ae.status, "error", ae.msg, "remote", r.RemoteAddr)
		}
		code := sw.code
		if code == 0 {
			code = http.StatusOK
		}
		s.met.request("http", endpoint, code, start)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encoding the response failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func (s *Server) live(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]bool{"live": true})
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if !s.Ready() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"ready": false, "error": s.notReadyReason()})
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ready": true})
	return nil
}

func (s *Server) notReadyReason() string {
	if s.draining.Load() {
		return "shutting down"
	}
	return "models loading"
}

func (s *Server) serverMetadata(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"name": s.opt.Name, "version": s.opt.Version, "extensions": []string{}})
	return nil
}

func (s *Server) modelMetadata(w http.ResponseWriter, r *http.Request) error {
	m, err := s.model(r.PathValue("name"), r.PathValue("version"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"name": m.Name, "versions": []string{modelVersion}, "platform": m.platform(),
		"inputs": m.inputsMeta(), "outputs": m.outputsMeta(), "properties": m.properties(),
	})
	return nil
}

// platform names the model's format as "<project>_<format>".
func (m *Model) platform() string {
	if m.config.ONNX != "" {
		return "odin_onnx"
	}
	return "odin_pytorch"
}

func (s *Server) modelReady(w http.ResponseWriter, r *http.Request) error {
	m, err := s.model(r.PathValue("name"), r.PathValue("version"))
	if err != nil {
		return err
	}
	status := http.StatusOK
	if !s.Ready() {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, map[string]any{"name": m.Name, "ready": status == http.StatusOK})
	return nil
}

// restRequest is the protocol's $inference_request.
type restRequest struct {
	ID         string         `json:"id"`
	Parameters map[string]any `json:"parameters"`
	Inputs     []struct {
		Name       string          `json:"name"`
		Shape      []int64         `json:"shape"`
		Datatype   string          `json:"datatype"`
		Parameters map[string]any  `json:"parameters"`
		Data       json.RawMessage `json:"data"`
	} `json:"inputs"`
	Outputs []struct {
		Name       string         `json:"name"`
		Parameters map[string]any `json:"parameters"`
	} `json:"outputs"`
}

type restOutput struct {
	Name     string  `json:"name"`
	Shape    []int64 `json:"shape"`
	Datatype string  `json:"datatype"`
	Data     any     `json:"data"`
}

type restResponse struct {
	ModelName    string         `json:"model_name"`
	ModelVersion string         `json:"model_version,omitempty"`
	ID           string         `json:"id,omitempty"`
	Parameters   map[string]any `json:"parameters,omitempty"`
	Outputs      []restOutput   `json:"outputs"`
}

func (s *Server) inferHTTP(w http.ResponseWriter, r *http.Request) error {
	if !s.ready.Load() {
		return errorf(http.StatusServiceUnavailable, "server not ready: models loading")
	}
	m, err := s.model(r.PathValue("name"), r.PathValue("version"))
	if err != nil {
		return err
	}
	if err := m.busy(); err != nil {
		return err
	}
	var rr restRequest
	if err := readJSON(r.Body, &rr); err != nil {
		return err
	}
	req := &inferRequest{model: m.Name, version: r.PathValue("version"), id: rr.ID}
	for _, in := range rr.Inputs {
		if in.Data == nil {
			return badRequest("input %q has no data", in.Name)
		}
		req.inputs = append(req.inputs, tensorIn{name: in.Name, datatype: in.Datatype, shape: in.Shape, json: in.Data})
	}
	if rr.Outputs != nil {
		req.outputs = []string{}
		for _, o := range rr.Outputs {
			req.outputs = append(req.outputs, o.Name)
		}
	}
	resp, err := m.infer(r.Context(), req, s.opt.Limits)
	if err != nil {
		return err
	}
	out := restResponse{ModelName: resp.model, ModelVersion: resp.version, ID: resp.id, Parameters: map[string]any{}}
	for _, p := range resp.params {
		if p.isN {
			out.Parameters[p.key] = p.num
		} else {
			out.Parameters[p.key] = p.str
		}
	}
	for _, t := range resp.outputs {
		o := restOutput{Name: t.name, Shape: t.shape, Datatype: t.datatype}
		switch {
		case t.f32 != nil:
			o.Data = t.f32
		case t.f64 != nil:
			o.Data = t.f64
		case t.b != nil:
			o.Data = t.b
		case t.i64 != nil:
			o.Data = t.i64
		}
		out.Outputs = append(out.Outputs, o)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// readJSON decodes one JSON value from a body, mapping a body over the limit to 413 and
// anything malformed to 400.
func readJSON(body io.Reader, v any) error {
	dec := json.NewDecoder(body)
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("data after the JSON object")
	}
	var mbe *http.MaxBytesError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &mbe):
		return errorf(http.StatusRequestEntityTooLarge, "request body larger than %d bytes", mbe.Limit)
	case errors.Is(err, io.EOF):
		return badRequest("malformed JSON: empty body")
	}
	return badRequest("malformed JSON: %v", err)
}
