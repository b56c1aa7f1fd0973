// Package sample generates the sample township of villageplan: every layer
// of the catalog (layers.Default) filled with deterministic, plausible data
// for 双营子回族乡 (township code 220112203), 双阳区, 长春市.
//
// # Everything generated here is sample data (示例数据)
//
// Only the six village names and their 12-digit codes are real (2023
// statistical division codes): 220112203300 大营村, …301 鲁家村, …302
// 庞家村, …303 新胜村, …304 尹家村, …305 黄金村. Every geometry, every
// parcel, household, holder name and ID number, every road, light, pipe,
// zone and hazard polygon is generated, not surveyed. The holder names and
// ID numbers are synthetic (a valid MOD 11-2 check digit, region 220112)
// and belong to nobody. [Load] records this in villageplan.layer_metadata
// for every layer: source "示例数据 (villageplan sample generator, seed N,
// scale S)", is_sample true, attribution [Attribution]; hazard polygons also
// carry source "示例数据". Whatever shows the data must show that label.
//
// # Seed and scale
//
// [Options.Seed] selects the pseudo-random variation. All randomness is
// derived in SQL from md5(seed ':' kind ':' entity key) (pg_temp.vp_rnd in
// generate.sql), never from random(), so the output does not depend on query
// plans: the same seed and scale give byte-identical geometry and
// attributes (and the same feature ids in a fresh database); another seed
// gives other content. Seed 0 means 1.
//
// [Options.Scale] "township" (default) is the real township: six villages
// in a 3 × 2 grid on an 8 km (E–W) × 6 km (N–S) extent centred at 125.76°E,
// 43.60°N, well inside the 双阳区 boundary; about 3 300 homesteads and 3 600
// land-use polygons; it loads in a few seconds. "county" is a synthetic
// benchmark: 13 × 12 = 156 villages (样例村001…, codes 220112 + pseudo-
// township 901… + village 300…305) on a 39 km × 30 km extent centred at
// 125.68°E, 43.55°N, with more than 200 000 homesteads and 500 000
// land-use polygons built by the same rules. "county5" is five times the
// county (29 × 27 = 783 villages, pseudo-townships 500…, 87 km × 67.5 km,
// same centre, same village size and density) for the growth benchmark.
//
// # How it is built
//
// The SQL in generate.sql runs in PostGIS, in one transaction. Geometry is
// built in metres in the Gauss-Krüger plane EPSG:4551 (CGCS2000, 3-degree
// zone, CM 126°E) and stored in EPSG:4490 (ST_Transform, ST_Multi). Areas
// (zdmj, tbmj, yjjbntmj, m²) and lengths (length_km, km) are measured in
// EPSG:4551. Villages are Voronoi cells of jittered seeds; each has an
// octagonal core (村庄集中建设区) holding a grid of homestead parcels
// (≈20 m × 28 m ±15 %, blocks of 2 × 8 parcels between 6 m lanes and two
// 8 m main lanes) and a 120 m ring (村庄弹性发展区). Land use tiles each
// village: the core is one 0702 polygon, the river water 1101, and the rest
// Voronoi cells of a jittered point grid; about 85 % of the cultivated cells
// are permanent farmland. Roads, lights, pipes and power lines follow the
// lanes, so they never cross a parcel.
//
// # Invariants (checked by the tests)
//
//   - the villages tile the extent: no gaps, no overlaps;
//   - every geometry is valid, non-empty, of the layer's type, SRID 4490,
//     and lies inside the extent; the township extent buffered by 1 km lies
//     inside the 双阳区 boundary;
//   - every code-list field holds a Value of its code list;
//   - homesteads do not overlap each other; land-use polygons of a village
//     do not overlap and add up to the village; permanent farmland is a
//     subset of the cultivated land use and overlaps no homestead and no
//     生态保护红线; about 2 % of households hold two parcels;
//   - no road, power line or pipe crosses a homestead; no light or water
//     facility stands on one; the 66 kV line keeps ≥ 10 m from parcels; the
//     river keeps ≥ 150 m from every core; the 地质灾害危险区, flood zones,
//     water-source zones and red line hold no parcel; the 地质灾害易发区 中
//     reaches into one corner of a core;
//   - the same seed gives identical content, another seed other content.
package sample
