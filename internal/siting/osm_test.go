package siting_test

import (
	"context"
	"testing"
	"villageplan/data/testdata"

	"github.com/paulmach/orb"

	"villageplan/internal/imports"
	"villageplan/internal/siting"
	"villageplan/internal/testpg"
	"villageplan/layers"
)

// TestChecksOnRealOSMData imports the real north-Bayreuth OSM extracts
// (farmland, buildings, roads) into the layers and runs siting checks on
// them. Layers without data there (land use, hazards, power lines) have
// no coverage, so their rules must say REVIEW (no data), never PASS.
func TestChecksOnRealOSMData(t *testing.T) {
	dir := testdata.Real(t, "osm/derived") + "/"
	ctx := context.Background()
	pool := testpg.New(t)
	for _, c := range []struct {
		l    *layers.Layer
		file string
		opts imports.Options
	}{
		{layers.PermanentFarmland, "north-bayreuth_landuse_agri.geojson", imports.Options{Map: []string{"osm_id,osm_way_id=yjjbnttbbh", "landuse=dlmc"}, Set: []string{"dlbm=0103"}}},
		{layers.Homesteads, "north-bayreuth_buildings.geojson", imports.Options{Map: []string{"osm_way_id=zddm", "name=zl"}, Set: []string{"xzqdm=220112203300", "status=已登记"}}},
		{layers.Roads, "north-bayreuth_roads.geojson", imports.Options{Map: []string{"name=lxmc"}, Set: []string{"admin_grade=村道"}}},
	} {
		if _, err := imports.Import(ctx, pool, c.l, []string{dir + c.file}, c.opts); err != nil {
			t.Fatalf("import %s: %v", c.file, err)
		}
	}
	// The study area as one village inside a 村庄集中建设区, and coverage for
	// the layers that hold data here.
	for _, s := range []string{
		`INSERT INTO villageplan.villages (xzqdm, xzqmc, czlx, geom)
			SELECT '220112203300', 'North Bayreuth (OSM)', '暂不分类', ST_Multi(ST_Envelope(ST_Collect(geom))) FROM (
				SELECT geom FROM villageplan.homesteads UNION ALL SELECT geom FROM villageplan.permanent_farmland
				UNION ALL SELECT geom FROM villageplan.roads) g`,
		`INSERT INTO villageplan.control_zones (gkbjlxmc, geom) SELECT '村庄集中建设区', geom FROM villageplan.villages`,
		`INSERT INTO villageplan.layer_coverage (layer, geom, source)
			SELECT l, v.geom, 'OSM extract' FROM villageplan.villages v, unnest(ARRAY['villages','control_zones','permanent_farmland','homesteads','roads']) l
			ON CONFLICT (layer) DO UPDATE SET geom = EXCLUDED.geom, with_features = false, source = EXCLUDED.source`, // the polygon imports recorded their features
	} {
		if _, err := pool.Exec(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	svc := service(t, pool)

	// 1. The Rathaus footprint itself: another household's parcel.
	var rathaus orb.MultiPolygon
	var area float64
	if err := pool.QueryRow(ctx, `SELECT ST_AsBinary(geom), ST_Area(ST_Transform(geom, 32632)) FROM villageplan.homesteads WHERE zl = 'Rathaus'`).
		Scan(wkbScanner{&rathaus}, &area); err != nil {
		t.Fatal(err)
	}
	res := check(t, svc, siting.Site{Geometry: rathaus, SRID: 4326, Format: "geojson"}, siting.Input{HouseholdID: "H-NEW"})
	r := rule(t, res, "homestead_overlap")
	if r.Outcome != siting.Block || r.Measured == nil || *r.Measured < 0.99*area || len(r.Features) == 0 {
		t.Errorf("site on the Rathaus: %+v (building %.2f m²)", r, area)
	}
	if res.Site.MeasureEPSG != 32632 { // 11.5°E lies outside China's Gauss-Krüger zones: UTM 32N
		t.Errorf("measured on EPSG:%d, want 32632", res.Site.MeasureEPSG)
	}
	for _, id := range []string{"geohazard_danger", "power_line", "cultivated_land"} {
		if r := rule(t, res, id); r.Outcome != siting.Review || !r.NoData {
			t.Errorf("%s without data = %s, want REVIEW (no data)", id, r.Outcome)
		}
	}

	// 2. A 15 m square well inside a farmland parcel.
	var sq orb.MultiPolygon
	err := pool.QueryRow(ctx, `SELECT ST_AsBinary(ST_Multi(ST_Transform(ST_Expand(ST_Transform(ST_PointOnSurface(geom), 3857), 7.5 / cos(radians(ST_Y(ST_PointOnSurface(geom))))), 4326)))
		FROM villageplan.permanent_farmland f
		WHERE ST_Area(ST_Transform(geom, 3857)) > 50000 AND NOT EXISTS (SELECT 1 FROM villageplan.homesteads h WHERE ST_DWithin(h.geom, f.geom, 0))
		ORDER BY id LIMIT 1`).Scan(wkbScanner{&sq})
	if err != nil {
		t.Fatal(err)
	}
	res = check(t, svc, siting.Site{Geometry: sq, SRID: 4326, Format: "geojson"}, siting.Input{HouseholdID: "H-NEW"})
	if r := rule(t, res, "permanent_farmland"); r.Outcome != siting.Block || !near(*r.Measured, res.Site.AreaM2, 0.05) {
		t.Errorf("site inside OSM farmland: %+v (site %.2f m²)", r, res.Site.AreaM2)
	}
	if res.Verdict != siting.Block {
		t.Errorf("verdict %s", res.Verdict)
	}
}
