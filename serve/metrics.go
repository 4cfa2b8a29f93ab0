package serve

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus collectors, in a registry of its own (no global state).
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec   // odin_requests_total{protocol,endpoint,code}
	duration  *prometheus.HistogramVec // odin_request_duration_seconds{protocol,endpoint}
	queueWait *prometheus.HistogramVec // odin_queue_wait_seconds{model}
	batchSize *prometheus.HistogramVec // odin_batch_size{model}
	images    *prometheus.CounterVec   // odin_images_scored_total{model,decision}
	dropped   *prometheus.CounterVec   // odin_requests_expired_total{model}
	queued    *prometheus.GaugeVec     // odin_queue_requests{model}
	info      *prometheus.GaugeVec     // odin_model_info{...} 1
	scores    map[string]prometheus.Histogram
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry(), scores: map[string]prometheus.Histogram{}}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "odin_requests_total", Help: "Requests answered, by protocol (http, grpc), endpoint and status code.",
	}, []string{"protocol", "endpoint", "code"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "odin_request_duration_seconds", Help: "Time from a request's arrival to its answer.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
	}, []string{"protocol", "endpoint"})
	m.queueWait = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "odin_queue_wait_seconds", Help: "Time a request waited in its model's queue before its micro-batch started.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
	}, []string{"model"})
	m.batchSize = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "odin_batch_size", Help: "Images per micro-batch computed.",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128},
	}, []string{"model"})
	m.images = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "odin_images_scored_total", Help: "Images scored, by decision: in (in-distribution, ODIN score >= threshold) or ood.",
	}, []string{"model", "decision"})
	m.dropped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "odin_requests_expired_total", Help: "Requests dropped uncomputed because their deadline passed while queued.",
	}, []string{"model"})
	m.queued = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "odin_queue_requests", Help: "Requests waiting in the model's queue.",
	}, []string{"model"})
	m.info = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "odin_model_info", Help: "The served models: network, detector, its parameters and the calibrated threshold (value always 1).",
	}, []string{"model", "network", "detector", "temperature", "magnitude", "threshold", "tpr", "checkpoint_sha256"})
	m.reg.MustRegister(m.requests, m.duration, m.queueWait, m.batchSize, m.images, m.dropped, m.queued, m.info)
	return m
}

// addModel registers a model's info metric and its score histogram. The histogram's buckets
// span [1/K, δ + 3(δ − 1/K)] linearly: ODIN scores are at least 1/K, and at large T they crowd
// just above it, so fixed buckets would put them all in one.
func (m *metrics) addModel(md *Model) {
	th := md.Threshold
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	m.info.WithLabelValues(md.Name, md.Net.Name, "odin", f(th.Temperature), f(th.Magnitude), f(th.Delta), f(th.TPR), th.Checkpoint).Set(1)
	lo := 1 / float64(md.Net.Classes())
	hi := th.Delta + 3*(th.Delta-lo)
	if !(hi > lo) {
		hi = 1
	}
	h := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "odin_score", Help: "ODIN scores of the images scored (higher = more in-distribution); watch its shift as a drift signal.",
		ConstLabels: prometheus.Labels{"model": md.Name},
		Buckets:     prometheus.LinearBuckets(lo, (hi-lo)/20, 21),
	})
	m.reg.MustRegister(h)
	m.scores[md.Name] = h
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "odin_image_bytes", Help: "Bytes of decoded images the model holds (requests from decoding to answer), against its max_queue_bytes.",
		ConstLabels: prometheus.Labels{"model": md.Name},
	}, func() float64 { return float64(md.leased()) }))
}

// request records one answered request.
func (m *metrics) request(protocol, endpoint string, code int, start time.Time) {
	m.requests.WithLabelValues(protocol, endpoint, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(protocol, endpoint).Observe(time.Since(start).Seconds())
}

// scored records the ODIN scores and decisions of images.
func (m *metrics) scored(model string, scores []float64, ood []bool) {
	h := m.scores[model]
	in, out := 0, 0
	for i, s := range scores {
		h.Observe(s)
		if ood[i] {
			out++
		} else {
			in++
		}
	}
	m.images.WithLabelValues(model, "in").Add(float64(in))
	m.images.WithLabelValues(model, "ood").Add(float64(out))
}

// promHandler serves the registry in Prometheus' text format.
func promHandler(m *metrics) http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
