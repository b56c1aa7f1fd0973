package siting

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb/encoding/wkb"

	"villageplan/geo/crs"
	"villageplan/layers"
)

// ErrNotFound is returned by Get for an unknown check id.
var ErrNotFound = errors.New("siting check not found")

// Service runs, stores and reads siting checks.
type Service struct {
	pool *pgxpool.Pool
	rs   *RuleSet
	sql  string
}

// NewService returns a Service using the rule set rs.
func NewService(pool *pgxpool.Pool, rs *RuleSet) *Service {
	return &Service{pool: pool, rs: rs, sql: measureSQL()}
}

// RuleSet returns the rule set in force.
func (s *Service) RuleSet() *RuleSet { return s.rs }

// SiteFacts describes the site as on the 申请表.
type SiteFacts struct {
	// AreaM2 is the area in m² on the Gauss-Krüger plane MeasureEPSG: the
	// site's own plane when it was sent in Gauss-Krüger coordinates (the
	// surveyor's shoelace area), else the 3-degree zone of its longitude.
	AreaM2      float64 `json:"area_m2"`
	MeasureEPSG int     `json:"measure_epsg"`
	MeasureCRS  string  `json:"measure_crs"`
	CentroidLon float64 `json:"centroid_lon"`
	CentroidLat float64 `json:"centroid_lat"`
	VillageCode string  `json:"village_code,omitempty"`
	VillageName string  `json:"village_name,omitempty"`
	// Neighbors is the 四至: the nearest feature within the rule set's
	// neighbor_radius_m to the east,
	// south, west and north.
	Neighbors map[string]string `json:"neighbors"`
	InputEPSG int               `json:"input_epsg"`
	Format    string            `json:"input_format"`
	Label     string            `json:"label,omitempty"`
}

// Result is a complete check.
type Result struct {
	ID        int64     `json:"id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Verdict   Outcome   `json:"verdict"`
	Input     Input     `json:"input"`
	Site      SiteFacts `json:"site"`
	// Geometry is the site in EPSG:4490 (lon, lat) as GeoJSON.
	Geometry       json.RawMessage `json:"geometry"`
	Rules          []RuleResult    `json:"rules"`
	RuleSetVersion string          `json:"ruleset_version"`
	// DataVersions is the layer_version of every layer at check time.
	DataVersions map[string]int64 `json:"data_versions"`
	// CoverageSources records, for every layer a rule read and trusted
	// (its coverage holds the site), where that coverage came from.
	CoverageSources map[string]CoverageSource `json:"coverage_sources"`
	// NoCoverage lists the layers some rule reads that have no coverage at
	// the site (their rules answer REVIEW "无数据"), with a message in
	// Chinese and English; empty when every layer covers the site.
	NoCoverage   []LayerGap `json:"no_coverage"`
	NoCoverageZH string     `json:"no_coverage_zh,omitempty"`
	NoCoverageEN string     `json:"no_coverage_en,omitempty"`
	// Placeholders is true when any threshold used awaits local
	// confirmation.
	Placeholders bool `json:"placeholders"`
}

// CoverageSource is the recorded coverage of a layer that a check trusted.
type CoverageSource struct {
	Kind       string    `json:"kind"`
	Source     string    `json:"source"`
	RecordedAt time.Time `json:"recorded_at"`
}

// LayerGap is a layer without coverage at the site: OutsideM2 is the site
// area (m²) outside its coverage, nil when the layer has no coverage at
// all.
type LayerGap struct {
	Layer     string   `json:"layer"`
	TitleZH   string   `json:"title_zh"`
	TitleEN   string   `json:"title_en"`
	OutsideM2 *float64 `json:"outside_m2,omitempty"`
}

// Check measures the site and evaluates every rule. It returns an
// *InputError for a site that cannot be checked (invalid geometry with its
// location, too many vertices) and ErrOutsideData for a site outside the
// township's data.
func (s *Service) Check(ctx context.Context, site Site, in Input) (*Result, error) {
	n := 0
	for _, p := range site.Geometry {
		for _, r := range p {
			n += len(r)
		}
	}
	if n > s.rs.MaxSiteVertices {
		return nil, inputErr("选址有 %d 个点，超过上限 %d", "the site has %d points, more than the %d allowed", n, s.rs.MaxSiteVertices)
	}
	measureSRID, err := measurePlane(site)
	if err != nil {
		return nil, err
	}
	if ext := siteExtentM(site); ext > s.rs.MaxSiteExtentM {
		return nil, inputErr("选址范围约 %.0f 米，超过上限 %.0f 米（宅基地选址应为单户地块）", "the site spans about %.0f m, more than the %.0f m allowed (a site is one household's parcel)",
			ext, s.rs.MaxSiteExtentM)
	}
	b, err := wkb.Marshal(site.Geometry)
	if err != nil {
		return nil, err
	}
	var household *string
	if in.HouseholdID != "" {
		household = &in.HouseholdID
	}
	m, err := measure(ctx, s.pool, s.sql, b, site.SRID, measureSRID, household, s.rs)
	if err != nil {
		return nil, err
	}
	if !m.Valid {
		return nil, &InputError{
			ZH:  fmt.Sprintf("选址图形无效：%s（位置 %.6f, %.6f）；请检查边界是否自相交或重复点", m.InvalidWhy, m.InvalidAtLon, m.InvalidAtLat),
			EN:  fmt.Sprintf("the site geometry is invalid: %s (at %.6f, %.6f); check for self-intersecting or repeated boundary points", m.InvalidWhy, m.InvalidAtLon, m.InvalidAtLat),
			Lon: m.InvalidAtLon, Lat: m.InvalidAtLat,
		}
	}
	if m.Village == nil {
		return nil, ErrOutsideData // said first: nothing else about such a site matters here
	}
	if m.AreaM2 > s.rs.MaxSiteAreaM2 {
		return nil, inputErr("选址面积 %.2f 平方米，超过上限 %.0f 平方米", "the site measures %.2f m², more than the %.0f m² allowed", m.AreaM2, s.rs.MaxSiteAreaM2)
	}
	res := &Result{CreatedAt: time.Now().UTC(), Input: in, RuleSetVersion: s.rs.Version, DataVersions: m.Versions, Verdict: Pass, Geometry: m.Geometry,
		CoverageSources: map[string]CoverageSource{}, NoCoverage: []LayerGap{}}
	s.coverageFacts(m, res)
	res.Site = SiteFacts{AreaM2: round2(m.AreaM2), MeasureEPSG: measureSRID, MeasureCRS: planeName(measureSRID),
		CentroidLon: m.CentroidLon, CentroidLat: m.CentroidLat, Neighbors: map[string]string{},
		InputEPSG: site.SRID, Format: site.Format, Label: site.Label}
	if m.Village != nil {
		res.Site.VillageCode, res.Site.VillageName = m.Village.Code, m.Village.Name
	}
	for k, v := range m.Neighbors {
		if v != nil {
			res.Site.Neighbors[k] = *v
		}
	}
	for _, r := range Rules() {
		rc := &ruleContext{m: m, cfg: s.rs.Rules[r.ID], rs: s.rs, input: &in}
		var rr RuleResult
		if missing := uncovered(r, m, s.rs.OverlapToleranceM2); len(missing) > 0 {
			rr = rc.result(r, Review,
				"无数据：图层 "+joinNames(missing)+" 在选址处无数据，须人工核查",
				"no data: layer(s) "+layerIDs(missing)+" have no data at the site; check by hand")
			rr.NoData = true
		} else {
			rr = r.evaluate(rc)
			flagInvalid(r, m, &rr)
		}
		if rr.Outcome.Severity() > res.Verdict.Severity() {
			res.Verdict = rr.Outcome
		}
		res.Placeholders = res.Placeholders || rr.Placeholder
		res.Rules = append(res.Rules, rr)
	}
	return res, nil
}

// measurePlane picks the Gauss-Krüger EPSG code to measure on: the input's
// own when it is Gauss-Krüger, else the CGCS2000 3-degree zone (without
// prefix) of the first vertex's longitude (a homestead site is far smaller
// than a zone). Outside China's zones (75°E–135°E; test data from OSM
// extracts abroad) it measures on the WGS 84 UTM zone instead.
func measurePlane(site Site) (int, error) {
	c, ok := crs.Lookup(site.SRID)
	if !ok {
		return 0, inputErr("不支持的坐标系 EPSG:%d", "unsupported CRS EPSG:%d", site.SRID)
	}
	if c.Kind == crs.GaussKruger {
		return site.SRID, nil
	}
	lon := site.Geometry[0][0][0][0]
	if c.Kind == crs.WebMercator {
		lon = lon / 20037508.342789244 * 180
	}
	if code, err := crs.EPSGFor3DegreeZone(crs.GKZone3ForLongitude(lon), false); err == nil {
		return code, nil
	}
	utm := int(math.Floor((lon+180)/6)) + 1
	if site.Geometry[0][0][0][1] < 0 && c.Kind == crs.Geographic {
		return 32700 + utm, nil
	}
	return 32600 + utm, nil
}

// siteExtentM is the longer side of the site's bounding box in metres, from
// its input coordinates (degrees scaled at the site's latitude, Web
// Mercator scaled by its latitude factor, projected planes as they are):
// a cheap bound checked before the site reaches the database.
func siteExtentM(site Site) float64 {
	b := site.Geometry.Bound()
	dx, dy := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	c, _ := crs.Lookup(site.SRID)
	switch c.Kind {
	case crs.Geographic:
		lat := (b.Min[1] + b.Max[1]) / 2 * math.Pi / 180
		dx *= 111320 * math.Cos(lat)
		dy *= 110574
	case crs.WebMercator:
		y := (b.Min[1] + b.Max[1]) / 2
		lat := 2*math.Atan(math.Exp(y/6378137)) - math.Pi/2
		dx *= math.Cos(lat)
		dy *= math.Cos(lat)
	}
	return math.Max(math.Abs(dx), math.Abs(dy))
}

// planeName names a measuring plane for reports.
func planeName(epsg int) string {
	if c, ok := crs.Lookup(epsg); ok {
		return c.Name
	}
	if epsg > 32600 && epsg < 32661 {
		return fmt.Sprintf("WGS 84 / UTM zone %dN", epsg-32600)
	}
	if epsg > 32700 && epsg < 32761 {
		return fmt.Sprintf("WGS 84 / UTM zone %dS", epsg-32700)
	}
	return fmt.Sprintf("EPSG:%d", epsg)
}

// covers reports whether layer id's coverage holds the site: the site
// area outside it is within the overlap tolerance (m²), so a sliver
// between two villages' polygons does not count as missing data.
func covers(m *Measurements, id string, toleranceM2 float64) bool {
	c, ok := m.Coverage[id]
	return ok && c.OutsideM2 <= toleranceM2
}

func uncovered(r *Rule, m *Measurements, toleranceM2 float64) []*layers.Layer {
	var out []*layers.Layer
	for _, l := range r.DependsOn {
		if !covers(m, l.ID, toleranceM2) {
			out = append(out, l)
		}
	}
	return out
}

// coverageFacts fills the result's CoverageSources (layers read by some
// rule and trusted) and NoCoverage (layers read by some rule without
// coverage at the site), in rule order.
func (s *Service) coverageFacts(m *Measurements, res *Result) {
	seen := map[string]bool{}
	var zh, en []string
	for _, r := range Rules() {
		for _, l := range r.DependsOn {
			if seen[l.ID] {
				continue
			}
			seen[l.ID] = true
			c, ok := m.Coverage[l.ID]
			if covers(m, l.ID, s.rs.OverlapToleranceM2) {
				res.CoverageSources[l.ID] = CoverageSource{Kind: c.Kind, Source: c.Source, RecordedAt: c.RecordedAt}
				continue
			}
			gap := LayerGap{Layer: l.ID, TitleZH: l.TitleZH, TitleEN: l.TitleEN}
			if ok {
				gap.OutsideM2 = ptr(c.OutsideM2)
				zh = append(zh, fmt.Sprintf("%s（选址有 %.2f 平方米在覆盖范围外）", l.TitleZH, round2(c.OutsideM2)))
				en = append(en, fmt.Sprintf("%s (%s: %.2f m² of the site outside its coverage)", l.ID, l.TitleEN, round2(c.OutsideM2)))
			} else {
				zh = append(zh, l.TitleZH+"（未记录覆盖范围）")
				en = append(en, l.ID+" ("+l.TitleEN+": no coverage recorded)")
			}
			res.NoCoverage = append(res.NoCoverage, gap)
		}
	}
	if len(zh) > 0 {
		res.NoCoverageZH = "以下图层在选址处无数据，相关规则须人工核查：" + strings.Join(zh, "、")
		res.NoCoverageEN = "these layers have no data at the site, so the rules reading them need a check by hand: " + strings.Join(en, "; ")
	}
}

func layerIDs(ls []*layers.Layer) string {
	s := ""
	for i, l := range ls {
		if i > 0 {
			s += ", "
		}
		s += l.ID
	}
	return s
}

// Save stores a result with its site and returns the result with its id.
func (s *Service) Save(ctx context.Context, site Site, res *Result) error {
	return s.SaveIn(ctx, s.pool, site, res)
}

// Queryer is what SaveIn writes through: a pool, a connection or a
// transaction (pgx.Tx).
type Queryer interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// SaveIn is Save through q, e.g. inside the caller's transaction, so that
// the check is stored together with what refers to it (an application's
// current check) or not at all.
func (s *Service) SaveIn(ctx context.Context, q Queryer, site Site, res *Result) error {
	b, err := wkb.Marshal(site.Geometry)
	if err != nil {
		return err
	}
	versions, _ := json.Marshal(res.DataVersions)
	var household, village *string
	if res.Input.HouseholdID != "" {
		household = &res.Input.HouseholdID
	}
	if res.Site.VillageCode != "" {
		village = &res.Site.VillageCode
	}
	// One INSERT: the result is stored without its id, which Get takes
	// from the row; created_at is the check's own time.
	res.ID = 0
	full, err := json.Marshal(res)
	if err != nil {
		return err
	}
	err = q.QueryRow(ctx, `INSERT INTO villageplan.siting_checks (created_at, household_id, village_code, site, input_crs, input_format, verdict, ruleset_version, data_versions, result)
		VALUES ($1, $2, $3, ST_Multi(ST_Transform(ST_GeomFromWKB($4, $5::int), 4490)), $5, $6, $7, $8, $9, $10)
		RETURNING id`,
		res.CreatedAt, household, village, b, site.SRID, site.Format, string(res.Verdict), res.RuleSetVersion, versions, full).Scan(&res.ID)
	if err != nil {
		return fmt.Errorf("store siting check: %w", err)
	}
	return nil
}

// Get reads a stored check.
func (s *Service) Get(ctx context.Context, id int64) (*Result, error) {
	var raw []byte
	err := s.pool.QueryRow(ctx, `SELECT result || jsonb_build_object('id', id) FROM villageplan.siting_checks WHERE id = $1`, id).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var res Result
	if err := json.Unmarshal(raw, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// flagInvalid marks the result of a rule that read a feature whose stored
// geometry is invalid (measured on its ST_MakeValid repair, see
// measureSQL): the outcome is at least REVIEW, the message names each such
// feature (layer, id and ST_IsValidReason) and the feature is listed, so
// that a damaged record never silently decides a check either way.
func flagInvalid(r *Rule, m *Measurements, rr *RuleResult) {
	reads := map[string]bool{}
	for _, l := range r.DependsOn {
		reads[l.ID] = true
	}
	var zh, en []string
	for _, hits := range [][]Hit{m.Farmland, m.LandUse, m.Zones, m.Hazards, m.Homestead} {
		for _, h := range hits {
			if h.InvalidReason == "" || !reads[h.Layer] {
				continue
			}
			zh = append(zh, fmt.Sprintf("%s 要素 %d（%s）", h.Layer, h.ID, h.InvalidReason))
			en = append(en, fmt.Sprintf("%s feature %d (%s)", h.Layer, h.ID, h.InvalidReason))
			listed := false
			for _, f := range rr.Features {
				listed = listed || f.Layer == h.Layer && f.ID == h.ID
			}
			if !listed {
				rr.Features = append(rr.Features, h)
			}
		}
	}
	if len(zh) == 0 {
		return
	}
	if rr.Outcome.Severity() < Review.Severity() {
		rr.Outcome = Review
	}
	rr.MessageZH += "；图形无效的数据：" + strings.Join(zh, "、") + "，已按修复后的图形（ST_MakeValid）量算，须人工核查并更正数据"
	rr.MessageEN += "; invalid stored geometry: " + strings.Join(en, ", ") + ", measured on its ST_MakeValid repair; check by hand and correct the data"
}
