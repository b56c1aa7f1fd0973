package tiles

import "github.com/prometheus/client_golang/prometheus"

// metrics are the Prometheus collectors of the tile service.
type metrics struct {
	render   *prometheus.HistogramVec // seconds per rendering, by tileset and zoom
	requests *prometheus.CounterVec   // tile requests by tileset and outcome
	size     *prometheus.HistogramVec // compressed tile bytes by tileset
	oversize *prometheus.CounterVec
	bytes    prometheus.Gauge
	entries  prometheus.Gauge
	listener prometheus.Gauge
}

func newMetrics() *metrics {
	return &metrics{
		render: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "villageplan_tile_render_seconds",
			Help:    "Time to render one vector tile (one SQL statement with ST_AsMVT, then gzip), by tileset (layer id or map) and zoom.",
			Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10},
		}, []string{"tileset", "zoom"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "villageplan_tile_requests_total",
			Help: "Tile requests by tileset and outcome: hit (served from the in-process cache), miss (rendered), shared (waited for a concurrent rendering), not_modified (304 from the ETag), stale (served from the cache while the database could not be read), error.",
		}, []string{"tileset", "outcome"}),
		size: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "villageplan_tile_size_bytes",
			Help:    "Size of rendered tiles after gzip compression, by tileset.",
			Buckets: prometheus.ExponentialBuckets(256, 4, 8),
		}, []string{"tileset"}),
		oversize: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "villageplan_tile_coarsened_total",
			Help: "Tiles rendered again with coarser generalisation because they exceeded the compressed size limit, by tileset and outcome (fit, still_over).",
		}, []string{"tileset", "outcome"}),
		bytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "villageplan_tile_cache_bytes", Help: "Bytes held by the in-process tile cache (compressed tiles and bookkeeping)."}),
		entries: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "villageplan_tile_cache_entries", Help: "Tiles held by the in-process tile cache."}),
		listener: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "villageplan_tile_change_listener_up",
			Help: "1 while the LISTEN connection for layer changes is up and synchronised (cached tiles served without a database query), 0 while tiles are validated against layer_version per request."}),
	}
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.render, m.requests, m.size, m.oversize, m.bytes, m.entries, m.listener}
}
