-- villageplan sample generator: the SQL run by Load (see sample.go).
--
-- Every statement below runs in the load transaction on one connection,
-- after the two parameterised statements of sample.go have filled the temp
-- tables s_params (seed, scale, grid, origin) and s_village_in (village
-- names and codes). No value from outside is spliced into this text: the
-- statements read s_params and s_village_in.
--
-- All geometry is built in the Gauss-Krüger plane EPSG:4551 (CGCS2000,
-- 3-degree zone CM 126°E, metres) and transformed to EPSG:4490 on insert.
-- Pseudo-randomness comes only from pg_temp.vp_rnd(seed, kind, key), an md5
-- of the seed and a stable entity key, so it does not depend on query plans.
--
-- A line "-- step: NAME" starts a step; Load runs the steps in order and
-- logs their durations. Steps named "insert LAYER" fill layer tables.

-- step: functions
CREATE OR REPLACE FUNCTION pg_temp.vp_rnd(seed text, kind text, key text)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT ('x' || substr(md5(seed || ':' || kind || ':' || key), 1, 8))::bit(32)::bigint::double precision / 4294967295.0::double precision $$;

CREATE OR REPLACE FUNCTION pg_temp.vp_name(seed text, key text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT (ARRAY['马','马','马','马','白','白','沙','杨','杨','王','王','王','李','李','刘','刘','张','张','赵','金','海','穆','于','孙','陈','周','丁','哈'])[1 + floor(pg_temp.vp_rnd(seed, 'surname', key) * 28)::int]
       || (ARRAY['玉兰','秀英','桂芝','淑珍','凤英','德明','志强','建国','永福','国庆','海军','长青','春生','玉林','文华','宝山','金财','学军','立新','振华',
                 '明','军','勇','伟','静','丽','芳','敏','刚','辉','斌','红','德','福','贵','霞','燕','杰','鹏','龙','秀兰','桂兰','国栋','春雨','雪梅','志刚'])[1 + floor(pg_temp.vp_rnd(seed, 'given', key) * 46)::int] $$;

-- vp_idcheck returns the ISO 7064 MOD 11-2 check character of the first 17
-- digits of a resident identity number (GB 11643-1999).
CREATE OR REPLACE FUNCTION pg_temp.vp_idcheck(b text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT substr('10X98765432', 1 + ((
      substr(b, 1, 1)::int * 7 + substr(b, 2, 1)::int * 9 + substr(b, 3, 1)::int * 10 + substr(b, 4, 1)::int * 5
    + substr(b, 5, 1)::int * 8 + substr(b, 6, 1)::int * 4 + substr(b, 7, 1)::int * 2 + substr(b, 8, 1)::int * 1
    + substr(b, 9, 1)::int * 6 + substr(b, 10, 1)::int * 3 + substr(b, 11, 1)::int * 7 + substr(b, 12, 1)::int * 9
    + substr(b, 13, 1)::int * 10 + substr(b, 14, 1)::int * 5 + substr(b, 15, 1)::int * 8 + substr(b, 16, 1)::int * 4
    + substr(b, 17, 1)::int * 2) % 11), 1) $$;

-- step: villages
-- Village seeds (a jittered nx×ny grid), classification, households and the
-- core (村庄集中建设区): an octagon (rectangle with chamfered corners) of
-- households × m2hh square metres around the seed.
CREATE TEMP TABLE s_village ON COMMIT DROP AS
WITH v AS (
    SELECT i.*, p.seed, p.m2hh,
        p.x_min + (i.col + 0.5) * p.cw + (2 * pg_temp.vp_rnd(p.seed, 'village-x', i.code) - 1) * p.jx AS sx,
        p.y_min + (i.row + 0.5) * p.ch + (2 * pg_temp.vp_rnd(p.seed, 'village-y', i.code) - 1) * p.jy AS sy,
        p.hh_min + floor(pg_temp.vp_rnd(p.seed, 'households', i.code) * (p.hh_max - p.hh_min + 1))::int AS households,
        pg_temp.vp_rnd(p.seed, 'class', i.code) AS u_class,
        pg_temp.vp_rnd(p.seed, 'designation', i.code) AS u_des,
        0.58 + 0.12 * pg_temp.vp_rnd(p.seed, 'aspect', i.code) AS aspect,
        2.45 + 0.3 * pg_temp.vp_rnd(p.seed, 'persons', i.code) AS persons
    FROM s_village_in i CROSS JOIN s_params p
), c AS (
    SELECT v.*,
        CASE WHEN czlx_in <> '' THEN czlx_in
             WHEN u_class < 0.45 THEN '集聚提升类' WHEN u_class < 0.60 THEN '城郊融合类'
             WHEN u_class < 0.75 THEN '特色保护类' WHEN u_class < 0.85 THEN '搬迁撤并类'
             ELSE '暂不分类' END AS czlx,
        sqrt(households * m2hh / aspect) AS w
    FROM v
)
SELECT vid, code, name, short, abbr, col, row, block, seat, town_name, town_short, left(code, 9) AS town_code,
    czlx,
    CASE WHEN czlx_in <> '' THEN nullif(designation_in, '')
         WHEN czlx = '特色保护类' THEN CASE WHEN u_des < 0.5 THEN '民族特色村' ELSE '旅游精品村' END
         WHEN u_des < 0.08 THEN '千村示范创建村' END AS designation,
    households, persons, round(households * persons)::int AS population,
    sx, sy, w, w * aspect AS h, least(60.0, w * aspect / 5) AS c,
    ST_Translate(ST_Buffer(ST_MakeEnvelope(-w / 2 + least(60.0, w * aspect / 5), -w * aspect / 2 + least(60.0, w * aspect / 5),
                                           w / 2 - least(60.0, w * aspect / 5), w * aspect / 2 - least(60.0, w * aspect / 5), 4551),
                           least(60.0, w * aspect / 5), 'quad_segs=1'), sx, sy) AS core,
    ST_Point(sx, sy, 4551) AS seedpt,
    NULL::geometry AS cell, NULL::geometry AS ring, NULL::geometry AS luarea,
    NULL::geometry AS lu_out, NULL::geometry AS lu_in, NULL::geometry AS hill, NULL::geometry AS near_river
FROM c;

-- step: village cells
-- Voronoi cells of the seeds, clipped to the extent: they tile it exactly.
UPDATE s_village v SET cell = x.cell
FROM (
    SELECT s.vid, ST_Intersection(d.geom, p.ext) AS cell
    FROM s_params p
    CROSS JOIN LATERAL ST_Dump(ST_VoronoiPolygons((SELECT ST_Collect(seedpt ORDER BY vid) FROM s_village), 0, p.ext)) d
    JOIN s_village s ON ST_Contains(d.geom, s.seedpt)
) x
WHERE x.vid = v.vid;

-- step: village rings
-- 村庄弹性发展区: a ring of 120 m around the core, inside the village.
UPDATE s_village SET ring = ST_Intersection(ST_Difference(ST_Buffer(core, 120, 'quad_segs=4'), core), cell);

-- step: rivers
-- One gently curving river west→east on the row boundary inside every
-- second row pair (boundaries 1, 5, 9 …), amplitude ≤ 230 m.
CREATE TEMP TABLE s_river ON COMMIT DROP AS
WITH r AS (
    SELECT b AS rid, p.seed, p.x_min, p.x_max, p.y_min + b * p.ch AS yb,
        110 + 60 * pg_temp.vp_rnd(p.seed, 'river-a1', b::text) AS a1,
        3500 + 2500 * pg_temp.vp_rnd(p.seed, 'river-l1', b::text) AS l1,
        2 * pi() * pg_temp.vp_rnd(p.seed, 'river-f1', b::text) AS f1,
        30 + 30 * pg_temp.vp_rnd(p.seed, 'river-a2', b::text) AS a2,
        900 + 600 * pg_temp.vp_rnd(p.seed, 'river-l2', b::text) AS l2,
        2 * pi() * pg_temp.vp_rnd(p.seed, 'river-f2', b::text) AS f2,
        ceil((p.x_max - p.x_min) / 100)::int AS n,
        CASE WHEN p.scale = 'township' THEN '双营子河' ELSE '样例河' || ((b + 3) / 4) END AS name
    FROM s_params p CROSS JOIN generate_series(1, p.ny - 1) b
    WHERE b % 4 = 1
), l AS (
    SELECT r.rid, r.name, ST_MakeLine(ST_Point(x, r.yb + r.a1 * sin(2 * pi() * (x - r.x_min) / r.l1 + r.f1)
                                                  + r.a2 * sin(2 * pi() * (x - r.x_min) / r.l2 + r.f2), 4551) ORDER BY k) AS geom
    FROM r CROSS JOIN LATERAL generate_series(0, r.n) k
    CROSS JOIN LATERAL (SELECT r.x_min + k * (r.x_max - r.x_min) / r.n AS x) xx
    GROUP BY r.rid, r.name
)
SELECT l.rid, l.name, l.geom,
    ST_Intersection(ST_Buffer(l.geom, 15, 'quad_segs=4'), p.ext) AS water,
    ST_Intersection(ST_Buffer(l.geom, 40, 'quad_segs=4'), p.ext) AS band,
    ST_Intersection(ST_Buffer(l.geom, 60, 'quad_segs=4'), p.ext) AS flood_high,
    ST_Intersection(ST_Buffer(l.geom, 150, 'quad_segs=4'), p.ext) AS flood_all
FROM l CROSS JOIN s_params p;

-- step: red lines
-- 生态保护红线: a forest strip ~0.135 × cell height (≈400 m in the
-- township) along the south edge of every row pair, with a wavy top edge.
CREATE TEMP TABLE s_redline ON COMMIT DROP AS
WITH b AS (
    SELECT br, p.seed, p.x_min, p.x_max, p.y_min + 2 * br * p.ch AS yb, 0.135 * p.ch AS width,
        ceil((p.x_max - p.x_min) / 200)::int AS n
    FROM s_params p CROSS JOIN generate_series(0, (p.ny - 1) / 2) br
), top AS (
    SELECT b.br, k, ST_Point(b.x_min + k * (b.x_max - b.x_min) / b.n,
                             b.yb + b.width + 40 * (2 * pg_temp.vp_rnd(b.seed, 'redline', b.br || ':' || k) - 1), 4551) AS pt
    FROM b CROSS JOIN LATERAL generate_series(0, b.n) k
)
SELECT b.br, ST_MakePolygon(ST_MakeLine(ARRAY[ST_Point(b.x_min, b.yb, 4551), ST_Point(b.x_max, b.yb, 4551)]
                                        || (SELECT array_agg(pt ORDER BY k DESC) FROM top WHERE top.br = b.br)
                                        || ARRAY[ST_Point(b.x_min, b.yb, 4551)])) AS geom
FROM b;

-- step: blocks
-- A block is one township of 3×2 villages (the whole township at township
-- scale, a pseudo-township at county scale). Its seat hosts the water
-- plant; its south-east village lies next to the hilly hazard area.
CREATE TEMP TABLE s_block ON COMMIT DROP AS
WITH s AS (
    SELECT DISTINCT ON (v.block) v.block, v.vid AS seat_vid, v.code AS seat_code, v.town_name, v.town_short, v.town_code,
        v.row AS seat_row, v.sx AS seat_sx, v.sy AS seat_sy,
        p.x_min + (v.col + CASE WHEN v.col < p.nx - 1 THEN 1 ELSE 0 END) * p.cw AS plant_x,
        v.sy + 150 AS plant_y
    FROM s_village v CROSS JOIN s_params p
    ORDER BY v.block, v.seat DESC, v.vid
), se AS (
    SELECT DISTINCT ON (v.block) v.block, v.vid AS se_vid, v.sx + v.w / 2 AS kx, v.sy - v.h / 2 AS ky
    FROM s_village v
    ORDER BY v.block, v.row, v.col DESC
), rw AS (
    SELECT block, min(row) AS row0 FROM s_village GROUP BY block
)
SELECT s.*, se.se_vid, se.kx, se.ky,
    least(se.kx + 200, p.x_max - 300) AS hx, greatest(se.ky - 500, p.y_min + 300) AS hy,
    p.y_min + (rw.row0 + 1) * p.ch + 0.15 * p.ch AS y_mid,
    p.y_min + (rw.row0 + 1) * p.ch - 0.15 * p.ch AS y66,
    rw.row0 / 2 AS br
FROM s JOIN se USING (block) JOIN rw USING (block) CROSS JOIN s_params p;

-- step: hazards
-- 地质灾害易发区 中 (an irregular 12-gon of radius ~750 m whose edge reaches
-- into a corner of the south-east core) and 低 (radius ~1800 m, minus 中),
-- a small 地质灾害危险区 (滑坡) away from every parcel, and 山洪灾害危险区
-- along the rivers (高 within 60 m, 一般 60–150 m).
CREATE TEMP TABLE s_hazard ON COMMIT DROP AS
WITH shapes AS (
    SELECT b.block, b.town_name, kind, grade, hazard_type, ord, cx, cy, radius,
        ST_MakePolygon(ST_MakeLine(pts ORDER BY k)) AS geom
    FROM s_block b CROSS JOIN s_params p
    CROSS JOIN (VALUES ('地质灾害易发区', '中', '崩塌、滑坡', 1, 0.0, 0.0, 750.0),
                       ('地质灾害易发区', '低', '崩塌、滑坡', 2, 0.0, 0.0, 1800.0),
                       ('地质灾害危险区', '高', '滑坡', 3, 60.0, -180.0, 80.0)) AS t(kind, grade, hazard_type, ord, dx, dy, radius)
    CROSS JOIN LATERAL (SELECT b.hx + t.dx AS cx, b.hy + t.dy AS cy) c
    CROSS JOIN LATERAL generate_series(0, 12) k
    CROSS JOIN LATERAL (SELECT ST_Point(
        c.cx + t.radius * (0.85 + 0.3 * pg_temp.vp_rnd(p.seed, 'hazard-r', b.block || ':' || t.ord || ':' || (k % 12))) * cos(2 * pi() * (k % 12) / 12),
        c.cy + t.radius * (0.85 + 0.3 * pg_temp.vp_rnd(p.seed, 'hazard-r', b.block || ':' || t.ord || ':' || (k % 12))) * sin(2 * pi() * (k % 12) / 12),
        4551) AS pts) pt
    GROUP BY b.block, b.town_name, kind, grade, hazard_type, ord, cx, cy, radius
)
SELECT h.block, h.ord, h.kind, h.grade, h.hazard_type,
    CASE h.ord WHEN 1 THEN h.town_name || '东南部低山丘陵地质灾害中易发区'
               WHEN 2 THEN h.town_name || '东南部低山丘陵地质灾害低易发区'
               ELSE h.town_name || '东南山坡滑坡地质灾害危险区' END AS name,
    ST_Intersection(CASE WHEN h.ord = 2 THEN ST_Difference(h.geom, m.geom) ELSE h.geom END, p.ext) AS geom
FROM shapes h JOIN shapes m ON m.block = h.block AND m.ord = 1
CROSS JOIN s_params p
UNION ALL
SELECT NULL, 10 + 2 * r.rid + g.k, '山洪灾害危险区', g.grade, '山洪', r.name || CASE g.grade WHEN '高' THEN '山洪灾害高危险区' ELSE '山洪灾害危险区（一般）' END,
    CASE g.grade WHEN '高' THEN r.flood_high ELSE ST_Difference(r.flood_all, r.flood_high) END
FROM s_river r CROSS JOIN (VALUES ('高', 0), ('一般', 1)) g(grade, k);

-- step: land-use area
-- The part of each village that the land-use cells tile: the village minus
-- its core (one 0702 polygon) and minus the river water surface (1101),
-- split into the part outside and the part inside the 生态保护红线 strips
-- (cells are cut along the strip, so that the strip holds only forest and
-- no farmland overlaps it).
UPDATE s_village v SET luarea = ST_Difference(ST_Difference(v.cell, v.core),
    coalesce((SELECT ST_Union(r.water) FROM s_river r WHERE ST_Intersects(r.water, v.cell)), ST_GeomFromText('POLYGON EMPTY', 4551)));
-- hill: the 地质灾害易发区 in the village; near_river: land within 300 m
-- of a river (both steer the land-use classes below).
UPDATE s_village v SET
    hill = (SELECT ST_Intersection(ST_Union(h.geom), v.cell) FROM s_hazard h
            WHERE h.kind = '地质灾害易发区' AND ST_Intersects(h.geom, v.cell)),
    near_river = (SELECT ST_Intersection(ST_Union(ST_Buffer(r.geom, 300, 'quad_segs=4')), v.cell) FROM s_river r
                  WHERE ST_DWithin(r.geom, v.cell, 300));
UPDATE s_village v SET
    lu_out = CASE WHEN x.red IS NULL THEN v.luarea ELSE ST_Difference(v.luarea, x.red) END,
    lu_in = CASE WHEN x.red IS NULL THEN ST_GeomFromText('POLYGON EMPTY', 4551) ELSE ST_Intersection(v.luarea, x.red) END
FROM (SELECT v2.vid, (SELECT ST_Union(r.geom) FROM s_redline r WHERE ST_Intersects(r.geom, v2.cell)) AS red FROM s_village v2) x
WHERE x.vid = v.vid;

-- step: land-use cells
-- Voronoi cells of a jittered grid of points (spacing lu_spacing) over each
-- village's bounding box; only points within 2 spacings of the village are
-- used.
CREATE TEMP TABLE s_lu_cell ON COMMIT DROP AS
WITH b AS (
    SELECT v.vid, v.code, p.seed, p.lu_spacing AS s,
        ST_XMin(v.cell) AS bx, ST_YMin(v.cell) AS by,
        ceil((ST_XMax(v.cell) - ST_XMin(v.cell)) / p.lu_spacing)::int AS ni,
        ceil((ST_YMax(v.cell) - ST_YMin(v.cell)) / p.lu_spacing)::int AS nj,
        ST_Expand(ST_Envelope(v.cell), 2 * p.lu_spacing) AS env,
        ST_Buffer(v.cell, 2 * p.lu_spacing, 'quad_segs=2') AS near
    FROM s_village v CROSS JOIN s_params p
), pts AS (
    SELECT b.vid, i, j, pt
    FROM b CROSS JOIN LATERAL generate_series(0, b.ni - 1) i CROSS JOIN LATERAL generate_series(0, b.nj - 1) j
    CROSS JOIN LATERAL (SELECT ST_Point(
        b.bx + (i + 0.5 + 0.7 * (pg_temp.vp_rnd(b.seed, 'lu-x', b.code || ':' || i || ':' || j) - 0.5)) * b.s,
        b.by + (j + 0.5 + 0.7 * (pg_temp.vp_rnd(b.seed, 'lu-y', b.code || ':' || i || ':' || j) - 0.5)) * b.s, 4551) AS pt) x
    WHERE ST_Intersects(b.near, x.pt)
), agg AS (
    SELECT vid, ST_Collect(pt ORDER BY i, j) AS mp FROM pts GROUP BY vid
)
SELECT agg.vid, d.path[1] AS cidx, d.geom
FROM agg JOIN b USING (vid)
CROSS JOIN LATERAL ST_Dump(ST_VoronoiPolygons(agg.mp, 0, b.env)) d
ORDER BY agg.vid, d.path[1];

-- step: land-use parts
-- Each cell clipped to the village's land-use area, outside and inside the
-- red-line strips (two scans, so that PostGIS reuses the prepared area).
CREATE TEMP TABLE s_lu_part ON COMMIT DROP AS
SELECT c.vid, c.cidx, coalesce(d.path[1], 0) AS pidx, false AS red, d.geom
FROM s_lu_cell c JOIN s_village v USING (vid)
CROSS JOIN LATERAL (SELECT CASE WHEN ST_Contains(v.lu_out, c.geom) THEN c.geom ELSE ST_Intersection(c.geom, v.lu_out) END AS g) x
CROSS JOIN LATERAL ST_Dump(x.g) d
WHERE ST_Intersects(v.lu_out, c.geom) AND ST_GeometryType(d.geom) = 'ST_Polygon' AND ST_Area(d.geom) > 0.01
UNION ALL
SELECT c.vid, c.cidx, 1000 + coalesce(d.path[1], 0), true, d.geom
FROM s_lu_cell c JOIN s_village v USING (vid)
CROSS JOIN LATERAL (SELECT CASE WHEN ST_Contains(v.lu_in, c.geom) THEN c.geom ELSE ST_Intersection(c.geom, v.lu_in) END AS g) x
CROSS JOIN LATERAL ST_Dump(x.g) d
WHERE NOT ST_IsEmpty(v.lu_in) AND ST_Intersects(v.lu_in, c.geom) AND ST_GeometryType(d.geom) = 'ST_Polygon' AND ST_Area(d.geom) > 0.01;

-- step: land-use classes
-- DLBM of every piece: the core is 0702 (czcsxm 203), the river water
-- 1101, red-line strips 0301; near rivers (< 300 m) half of the land is
-- paddy (0101), in the hilly hazard area 45 % is forest; elsewhere mostly
-- dry land (0103).
CREATE TEMP TABLE s_landuse ON COMMIT DROP AS
WITH pieces AS (
    SELECT l.vid, 1 AS grp, l.cidx, l.pidx, l.red, l.geom, v.code || ':' || l.cidx || ':' || l.pidx AS key,
        coalesce(ST_Intersects(v.near_river, ST_Centroid(l.geom)), false) AS near_river,
        coalesce(ST_Intersects(v.hill, ST_Centroid(l.geom)), false) AS hill
    FROM s_lu_part l JOIN s_village v USING (vid)
), cls AS (
    SELECT p.*, pg_temp.vp_rnd(s.seed, 'lu-class', p.key) AS u1, pg_temp.vp_rnd(s.seed, 'lu-class2', p.key) AS u2
    FROM pieces p CROSS JOIN s_params s
), coded AS (
    SELECT vid, grp, cidx, pidx, geom, NULL::text AS czcsxm,
        CASE WHEN red THEN '0301'
             WHEN near_river AND u1 < 0.5 THEN '0101'
             WHEN hill AND u1 < 0.45 THEN '0301'
             WHEN u2 < 0.68 THEN '0103' WHEN u2 < 0.72 THEN '0101' WHEN u2 < 0.79 THEN '0301'
             WHEN u2 < 0.85 THEN '0404' WHEN u2 < 0.88 THEN '1104' WHEN u2 < 0.93 THEN '1006'
             WHEN u2 < 0.965 THEN '1202' WHEN u2 < 0.985 THEN '0702' ELSE '0102' END AS dlbm
    FROM cls
    UNION ALL
    SELECT vid, 0, 0, 0, core, '203', '0702' FROM s_village
    UNION ALL
    SELECT v.vid, 2, r.rid, coalesce(d.path[1], 0), d.geom, NULL, '1101'
    FROM s_village v JOIN s_river r ON ST_Intersects(r.water, v.cell)
    CROSS JOIN LATERAL ST_Dump(ST_Intersection(v.cell, r.water)) d
    WHERE ST_GeometryType(d.geom) = 'ST_Polygon' AND ST_Area(d.geom) > 0.01
)
SELECT c.vid, v.code, v.name,
    right(v.code, 3) || lpad((row_number() OVER (PARTITION BY c.vid ORDER BY c.grp, c.cidx, c.pidx))::text, 5, '0') AS tbbh,
    c.dlbm, c.czcsxm, c.geom
FROM coded c JOIN s_village v USING (vid);

-- step: homestead parcels
-- Parcels in a grid of blocks of 2×8 slots (23 m × 32.2 m) separated by
-- 6 m lanes, with two 8 m main lanes through the core centre. A parcel is
-- 20 m × 28 m ±15 %, centred in its slot along the lane, fronting the lane.
-- Only parcels that lie fully inside the core are kept.
CREATE TEMP TABLE s_parcel ON COMMIT DROP AS
WITH slots AS (
    SELECT v.vid, v.code, p.seed, v.sx, v.sy, v.core, ax, i, ay, j, k, r,
        v.code || ':' || ax || ':' || i || ':' || ay || ':' || j || ':' || k || ':' || r AS key
    FROM s_village v CROSS JOIN s_params p
    CROSS JOIN (VALUES (-1), (1)) sxs(ax)
    CROSS JOIN (VALUES (-1), (1)) sys(ay)
    CROSS JOIN LATERAL generate_series(0, ceil((v.w / 2 - 4) / 190)::int - 1) i
    CROSS JOIN LATERAL generate_series(0, ceil((v.h / 2 - 4) / 70.4)::int - 1) j
    CROSS JOIN generate_series(0, 7) k
    CROSS JOIN generate_series(0, 1) r
), dims AS (
    SELECT s.*,
        20 * (0.85 + 0.3 * pg_temp.vp_rnd(s.seed, 'parcel-w', s.key)) AS pw,
        28 * (0.85 + 0.3 * pg_temp.vp_rnd(s.seed, 'parcel-d', s.key)) AS pd,
        4 + i * 190 + k * 23 AS a, 4 + j * 70.4 AS b
    FROM slots s
), loc AS (
    -- local coordinates on the positive side, mirrored by ax / ay
    SELECT d.*,
        a + (23 - pw) / 2 AS x0, a + (23 + pw) / 2 AS x1,
        CASE WHEN r = 0 THEN b ELSE b + 64.4 - pd END AS y0,
        CASE WHEN r = 0 THEN b + pd ELSE b + 64.4 END AS y1
    FROM dims d
), g AS (
    SELECT vid, code, key,
        CASE WHEN ay > 0 THEN 2 * j + r ELSE -(2 * j + r) - 1 END AS prow,
        CASE WHEN ax > 0 THEN 8 * i + k ELSE -(8 * i + k) - 1 END AS pcol,
        ST_MakeEnvelope(sx + least(ax * x0, ax * x1), sy + least(ay * y0, ay * y1),
                        sx + greatest(ax * x0, ax * x1), sy + greatest(ay * y0, ay * y1), 4551) AS geom,
        core
    FROM loc
)
SELECT vid, code, key, prow, pcol,
    row_number() OVER (PARTITION BY vid ORDER BY prow DESC, pcol) AS seq,
    geom
FROM g
WHERE ST_Within(geom, core);

-- step: homestead attributes
-- Households: about 2 % of households hold two neighbouring parcels.
-- Holder ID numbers: region 220112, birth date, sequence, MOD 11-2 check.
CREATE TEMP TABLE s_homestead ON COMMIT DROP AS
WITH base AS (
    SELECT p.*, s.seed,
        CASE WHEN p.seq % 2 = 0 AND pg_temp.vp_rnd(s.seed, 'two-parcels', p.code || ':' || (p.seq / 2)) < 0.04
             THEN p.seq - 1 ELSE p.seq END AS hh_base
    FROM s_parcel p CROSS JOIN s_params s
), hh AS (
    SELECT b.*, dense_rank() OVER (PARTITION BY b.vid ORDER BY b.hh_base) AS hh_no
    FROM base b
), hh2 AS (
    SELECT hh.*, hh.code || lpad(hh.hh_no::text, 4, '0') AS household_id,
        date '1940-01-01' + floor(pg_temp.vp_rnd(hh.seed, 'birth', hh.code || ':' || hh.hh_no) * (date '1999-12-31' - date '1940-01-01'))::int AS birth
    FROM hh
), idn AS (
    SELECT DISTINCT household_id, birth FROM hh2
), idn2 AS (
    SELECT household_id, '220112' || to_char(birth, 'YYYYMMDD')
        || lpad((row_number() OVER (PARTITION BY birth ORDER BY household_id))::text, 3, '0') AS body
    FROM idn
), st AS (
    SELECT h.*, v.name AS vname, v.town_name, v.town_short, v.town_code,
        right(v.code, 3) AS vcode3, i.body || pg_temp.vp_idcheck(i.body) AS holder_id_number,
        pg_temp.vp_rnd(h.seed, 'status', h.key) AS u_status,
        pg_temp.vp_rnd(h.seed, 'approved', h.key) AS u_date
    FROM hh2 h JOIN idn2 i USING (household_id) JOIN s_village v USING (vid)
), st2 AS (
    SELECT st.*,
        CASE WHEN u_status < 0.88 THEN '已登记' WHEN u_status < 0.93 THEN '已批准'
             WHEN u_status < 0.96 THEN '在建' ELSE '闲置' END AS status
    FROM st
), dated AS (
    SELECT st2.*,
        CASE WHEN status IN ('已批准', '在建')
             THEN date '2022-01-01' + floor(u_date * (date '2024-06-30' - date '2022-01-01'))::int
             ELSE date '1985-01-01' + floor(u_date * (date '2021-12-31' - date '1985-01-01'))::int END AS approved_on
    FROM st2
)
SELECT d.vid, d.seq, d.geom,
    left(d.code, 6) || substr(d.code, 7, 3) || d.vcode3 || 'JC' || lpad(d.seq::text, 5, '0') AS zddm,
    d.code AS xzqdm,
    d.town_name || d.vname || d.seq || '号' AS zl,
    d.town_short || '宅批〔' || extract(year FROM d.approved_on) || '〕'
        || lpad(n.n::text, greatest(3, length(n.n::text)), '0') || '号' AS approval_number,
    d.approved_on, d.status, d.household_id,
    pg_temp.vp_name(d.seed, 'holder:' || d.household_id) AS holder_name,
    d.holder_id_number
FROM dated d
JOIN (SELECT vid, seq, row_number() OVER (PARTITION BY town_code, extract(year FROM approved_on) ORDER BY code, seq) AS n FROM dated) n USING (vid, seq);

-- step: village households
-- The recorded households are at least the households that hold a parcel.
UPDATE s_village v SET households = greatest(v.households, h.n), population = round(greatest(v.households, h.n) * v.persons)::int
FROM (SELECT xzqdm, count(DISTINCT household_id) AS n FROM s_homestead GROUP BY xzqdm) h
WHERE h.xzqdm = v.code;

-- step: permanent farmland
-- About 85 % of the cultivated land-use pieces (0101/0102/0103) are
-- 永久基本农田, with the same geometry.
CREATE TEMP TABLE s_farmland ON COMMIT DROP AS
SELECT l.vid, l.code, l.tbbh, l.dlbm, l.geom,
    l.code || lpad((row_number() OVER (PARTITION BY l.vid ORDER BY l.tbbh))::text, 8, '0') AS yjjbnttbbh
FROM s_landuse l CROSS JOIN s_params p
WHERE l.dlbm IN ('0101', '0102', '0103') AND pg_temp.vp_rnd(p.seed, 'farmland', l.code || ':' || l.tbbh) < 0.85;

-- step: roads
-- 县道 along the central east–west main lane of every core of a northern
-- row (and straight between cores), 乡道 from each southern village up its
-- central north–south lane, along y_mid and up to the 县道 west of the
-- northern core, 村道 along the main lanes and some lanes of each core.
CREATE TEMP TABLE s_road ON COMMIT DROP AS
WITH xpts AS (
    SELECT v.row, v.col * 4 + k AS ord,
        ST_Point(CASE k WHEN 1 THEN v.sx - v.w / 2 - 60 WHEN 2 THEN v.sx - v.w / 2
                        WHEN 3 THEN v.sx + v.w / 2 ELSE v.sx + v.w / 2 + 60 END, v.sy, 4551) AS pt
    FROM s_village v CROSS JOIN generate_series(1, 4) k
    WHERE v.row % 2 = 1
    UNION ALL
    (SELECT DISTINCT ON (v.row) v.row, -1, ST_Point(p.x_min, v.sy, 4551)
     FROM s_village v CROSS JOIN s_params p WHERE v.row % 2 = 1 ORDER BY v.row, v.col)
    UNION ALL
    (SELECT DISTINCT ON (v.row) v.row, 1000000, ST_Point(p.x_max, v.sy, 4551)
     FROM s_village v CROSS JOIN s_params p WHERE v.row % 2 = 1 ORDER BY v.row, v.col DESC)
), xroads AS (
    SELECT x.row, 'X' || (100 + (x.row + 1) / 2) AS lxbm, ST_MakeLine(x.pt ORDER BY x.ord) AS geom,
        (SELECT regexp_replace(v.name, '村$', '') FROM s_village v WHERE v.row = x.row ORDER BY v.col LIMIT 1)
        || '—' || (SELECT regexp_replace(v.name, '村$', '') FROM s_village v WHERE v.row = x.row ORDER BY v.col DESC LIMIT 1) AS lxmc
    FROM xpts x GROUP BY x.row
), ypairs AS (
    SELECT v.vid, v.code, v.short, v.town_name, v.town_short, v.sx, v.sy, v.h,
        n.sx - n.w / 2 - 60 AS xw, n.sy AS ny_, p.y_min + (v.row + 1) * p.ch + 0.15 * p.ch AS y_mid,
        row_number() OVER (ORDER BY v.vid) AS n
    FROM s_village v JOIN s_village n ON n.col = v.col AND n.row = v.row + 1
    CROSS JOIN s_params p
    WHERE v.row % 2 = 0
), yroads AS (
    SELECT y.vid, 'Y' || (200 + y.n) AS lxbm, y.town_short || '—' || y.short AS lxmc, y.code, y.town_name,
        ST_RemoveRepeatedPoints(ST_MakeLine(ARRAY[ST_Point(y.sx, y.sy, 4551), ST_Point(y.sx, y.sy + y.h / 2, 4551),
            ST_Point(y.sx, y.y_mid, 4551), ST_Point(y.xw, y.y_mid, 4551), ST_Point(y.xw, y.ny_, 4551)])) AS geom
    FROM ypairs y
), cand AS (
    -- village-road candidates: kind, order, a line in local lane coordinates
    SELECT v.vid, v.code, v.name, v.town_name, v.core, t.ord, t.suffix,
        CASE t.kind
            WHEN 'ew' THEN ST_MakeLine(ST_Point(v.sx - v.w, v.sy + t.off, 4551), ST_Point(v.sx + v.w, v.sy + t.off, 4551))
            WHEN 'ns' THEN ST_MakeLine(ST_Point(v.sx + t.off, v.sy - v.h,
                                                4551),
                                       ST_Point(v.sx + t.off, CASE WHEN t.ord = 2 AND EXISTS (SELECT 1 FROM ypairs y WHERE y.vid = v.vid) THEN v.sy ELSE v.sy + v.h END, 4551))
        END AS line,
        t.ord = 1 AND v.row % 2 = 1 AS on_xroad
    FROM s_village v
    CROSS JOIN (VALUES (1, 'ew', 0.0, '东西主街'), (2, 'ns', 0.0, '南北主街'),
                       (3, 'ew', -141.8, '前街'), (4, 'ew', 141.8, '后街'),
                       (5, 'ns', -191.0, '西巷'), (6, 'ns', 191.0, '东巷')) t(ord, kind, off, suffix)
), croads0 AS (
    SELECT c.vid, c.code, c.name || c.suffix AS lxmc, c.town_name, c.ord, ST_Intersection(c.line, c.core) AS geom
    FROM cand c
    WHERE NOT c.on_xroad
), croads AS (
    SELECT c.*, 'C' || (100 + row_number() OVER (ORDER BY c.vid, c.ord)) AS lxbm
    FROM croads0 c
    WHERE ST_GeometryType(c.geom) = 'ST_LineString' AND ST_Length(c.geom) >= 60
), clit AS (
    SELECT c.*, row_number() OVER (ORDER BY pg_temp.vp_rnd(p.seed, 'lit', c.lxbm), c.lxbm) AS lit_rank,
        count(*) OVER () AS n_c
    FROM croads c CROSS JOIN s_params p
), allroads AS (
    SELECT 1 AS grp, row AS ord, lxbm, lxmc, '县道' AS admin_grade, '三级' AS tech_grade, 8.5 AS subgrade_width, 7.0 AS pavement_width,
        '沥青混凝土' AS surface, '双阳区交通运输局' AS maintainer, NULL::varchar AS xzqdm, NULL::int AS vid, false AS lit, geom
    FROM xroads
    UNION ALL
    SELECT 2, vid, lxbm, lxmc, '乡道', '四级', 6.5, 5.5, '水泥混凝土', town_name || '人民政府', code, vid, true, geom
    FROM yroads
    UNION ALL
    SELECT 3, vid * 10 + ord, lxbm, lxmc, '村道', NULL, NULL, NULL, NULL, town_name || '人民政府', code, vid, lit_rank > n_c / 3, geom
    FROM clit
)
SELECT a.grp, a.ord, a.lxbm, a.lxmc, a.admin_grade,
    CASE WHEN a.grp = 3 THEN CASE WHEN u.ug < 0.7 THEN '四级' ELSE '等外' END ELSE a.tech_grade END AS tech_grade,
    CASE WHEN a.grp = 3 THEN CASE WHEN u.ug < 0.7 THEN 5.0 ELSE 4.5 END ELSE a.subgrade_width END AS subgrade_width,
    CASE WHEN a.grp = 3 THEN CASE WHEN u.ug < 0.7 THEN 4.0 ELSE 3.5 END ELSE a.pavement_width END AS pavement_width,
    CASE WHEN a.grp = 3 THEN CASE WHEN u.ug < 0.7 THEN '水泥混凝土' ELSE '砂石' END ELSE a.surface END AS surface,
    CASE a.grp WHEN 1 THEN 2009 + floor(u.uy * 6)::int WHEN 2 THEN 2013 + floor(u.uy * 6)::int ELSE 2015 + floor(u.uy * 8)::int END AS built_year,
    a.maintainer, pg_temp.vp_name(p.seed, 'chief:' || a.lxbm) AS road_chief,
    CASE a.grp WHEN 1 THEN CASE WHEN u.uc < 0.6 THEN '优' ELSE '良' END
               WHEN 2 THEN CASE WHEN u.uc < 0.4 THEN '优' WHEN u.uc < 0.8 THEN '良' ELSE '中' END
               ELSE CASE WHEN u.uc < 0.15 THEN '优' WHEN u.uc < 0.55 THEN '良' WHEN u.uc < 0.85 THEN '中'
                         WHEN u.uc < 0.95 THEN '次' ELSE '差' END END AS condition,
    a.xzqdm, a.vid, a.lit, a.geom
FROM allroads a CROSS JOIN s_params p
CROSS JOIN LATERAL (SELECT pg_temp.vp_rnd(p.seed, 'road-grade', a.lxbm) AS ug, pg_temp.vp_rnd(p.seed, 'road-year', a.lxbm) AS uy,
                           pg_temp.vp_rnd(p.seed, 'road-condition', a.lxbm) AS uc) u;

-- step: streetlights
-- Poles every 35 m along the lit 村道 and the 乡道 inside the cores, 2.5 m
-- to the left of the centre line (inside the lane).
CREATE TEMP TABLE s_light ON COMMIT DROP AS
WITH lines AS (
    SELECT r.lxbm, r.vid, r.built_year, d.path[1] AS part, ST_OffsetCurve(d.geom, 2.5) AS geom
    FROM s_road r JOIN s_village v USING (vid)
    CROSS JOIN LATERAL ST_Dump(ST_LineMerge(ST_Intersection(r.geom, v.core))) d
    WHERE r.lit AND ST_GeometryType(d.geom) = 'ST_LineString'
), pts AS (
    SELECT l.lxbm, l.vid, l.built_year, l.part, coalesce(d.path[1], 1) AS n, d.geom
    FROM lines l
    CROSS JOIN LATERAL ST_Dump(ST_LineInterpolatePoints(l.geom, 35.0 / ST_Length(l.geom), true)) d
    WHERE ST_Length(l.geom) >= 40
), numbered AS (
    SELECT p.*, row_number() OVER (PARTITION BY p.lxbm ORDER BY p.part, p.n) AS k FROM pts p
)
SELECT n.vid, n.lxbm, v.code AS xzqdm, v.abbr || '-' || n.lxbm || '-' || lpad(n.k::text, 3, '0') AS pole_id,
    CASE WHEN ur.src < 0.65 THEN 'LED' WHEN ur.src < 0.9 THEN '太阳能LED' ELSE '高压钠灯' END AS light_source,
    CASE WHEN ur.src < 0.65 THEN 40 + 10 * floor(ur.pw * 5) WHEN ur.src < 0.9 THEN 30 + 10 * floor(ur.pw * 2) ELSE 100 END AS power_w,
    6 + floor(ur.ph * 3) AS pole_height,
    CASE WHEN ur.src < 0.65 OR ur.src >= 0.9 THEN '市电' WHEN ur.sup < 0.8 THEN '太阳能' ELSE '风光互补' END AS supply,
    CASE WHEN ur.src >= 0.65 AND ur.src < 0.9 THEN '光控' WHEN ur.ctl < 0.6 THEN '时控' ELSE '远程' END AS control,
    CASE WHEN up.st < 0.9 THEN '正常' WHEN up.st < 0.96 THEN '故障' ELSE '维修中' END AS status,
    make_date(greatest(n.built_year, 2016), 4, 1) + floor(ur.inst * 180)::int AS installed_on,
    date '2024-03-01' + floor(up.insp * 270)::int AS last_inspected,
    v.name || '村民委员会' AS maintainer,
    n.geom
FROM numbered n JOIN s_village v USING (vid) CROSS JOIN s_params p
CROSS JOIN LATERAL (SELECT pg_temp.vp_rnd(p.seed, 'light-src', n.lxbm) AS src, pg_temp.vp_rnd(p.seed, 'light-w', n.lxbm) AS pw,
                           pg_temp.vp_rnd(p.seed, 'light-h', n.lxbm) AS ph, pg_temp.vp_rnd(p.seed, 'light-sup', n.lxbm) AS sup,
                           pg_temp.vp_rnd(p.seed, 'light-ctl', n.lxbm) AS ctl, pg_temp.vp_rnd(p.seed, 'light-inst', n.lxbm) AS inst) ur
CROSS JOIN LATERAL (SELECT pg_temp.vp_rnd(p.seed, 'light-status', n.lxbm || ':' || n.k) AS st,
                           pg_temp.vp_rnd(p.seed, 'light-insp', n.lxbm || ':' || n.k) AS insp) up;

-- step: water facilities
-- Per block: a 水厂 at the seat's cell edge (intake well 60 m north of it),
-- a 加压泵站 by the transmission main; per village: a 水源井 just outside
-- the south-east corner of its core.
CREATE TEMP TABLE s_water ON COMMIT DROP AS
WITH bv AS (
    SELECT b.block, string_agg(v.code, ',' ORDER BY v.code) AS codes, sum(v.population)::int AS pop,
        string_agg(v.code, ',' ORDER BY v.code) FILTER (WHERE v.row % 2 = 0) AS south_codes,
        sum(v.population) FILTER (WHERE v.row % 2 = 0)::int AS south_pop
    FROM s_block b JOIN s_village v USING (block) GROUP BY b.block
)
SELECT 1 AS grp, b.block AS ord, b.town_name || '集中供水厂' AS name, '水厂' AS kind, 'Ⅳ' AS scale_class, 800.0 AS capacity_m3d,
    bv.codes AS villages_served, bv.pop AS population_served, '地下水' AS source_type, 2016 AS built_year,
    b.town_name || '水利服务站' AS operator, ST_Point(b.plant_x, b.plant_y, 4551) AS geom
FROM s_block b JOIN bv USING (block)
UNION ALL
SELECT 2, b.block, b.town_short || '加压泵站', '加压泵站', NULL, 800.0, coalesce(bv.south_codes, bv.codes), coalesce(bv.south_pop, bv.pop),
    NULL, 2016, b.town_name || '水利服务站', ST_Point(b.plant_x + 8, b.y_mid + 8, 4551)
FROM s_block b JOIN bv USING (block)
UNION ALL
SELECT 3, v.vid, v.name || '水源井', '水源井', 'Ⅴ', 50 + floor(pg_temp.vp_rnd(p.seed, 'well-capacity', v.code) * 41),
    v.code, v.population, '地下水', 2010 + floor(pg_temp.vp_rnd(p.seed, 'well-year', v.code) * 11)::int,
    v.name || '村民委员会', ST_Point(v.sx + v.w / 2 + 40, v.sy - v.h / 2 + v.c, 4551)
FROM s_village v CROSS JOIN s_params p;

-- step: water pipelines
-- 输水管 from each plant to every village of its block (down to y_mid − 3,
-- along it, then up or down the village's central north–south lane), and
-- 配水管 along every east–west lane of each core, 1 m right of centre.
CREATE TEMP TABLE s_pipe ON COMMIT DROP AS
WITH mains AS (
    SELECT v.vid, 1 AS grp, b.town_short || '—' || v.short || '输水管' AS name, '输水管' AS kind,
        (ARRAY[160, 200, 250])[1 + floor(pg_temp.vp_rnd(p.seed, 'main-diameter', v.code) * 3)::int] AS diameter_mm,
        2016 AS built_year, b.town_name || '集中供水厂' AS facility,
        ST_RemoveRepeatedPoints(ST_MakeLine(ARRAY[ST_Point(b.plant_x, b.plant_y, 4551), ST_Point(b.plant_x, b.y_mid - 3, 4551),
            ST_Point(v.sx + 1.5, b.y_mid - 3, 4551), ST_Point(v.sx + 1.5, v.sy, 4551)])) AS geom
    FROM s_village v JOIN s_block b USING (block) CROSS JOIN s_params p
), lanes AS (
    SELECT v.vid, v.name, b.town_name, k,
        CASE WHEN k = 0 THEN 0.0 WHEN k > 0 THEN 4 + k * 70.4 - 3 ELSE -(4 - k * 70.4 - 3) END AS yoff,
        v.sx, v.sy, v.w, v.core
    FROM s_village v JOIN s_block b USING (block)
    CROSS JOIN LATERAL generate_series(-ceil(v.h / 2 / 70.4)::int, ceil(v.h / 2 / 70.4)::int) k
), dist AS (
    SELECT l.vid, 2 AS grp, l.name || '配水管' AS name0, l.k, '配水管' AS kind, 110 AS diameter_mm,
        2016 + floor(pg_temp.vp_rnd(p.seed, 'pipe-year', l.vid || ':' || l.k) * 4)::int AS built_year,
        l.town_name || '集中供水厂' AS facility,
        ST_Intersection(ST_MakeLine(ST_Point(l.sx - l.w, l.sy + l.yoff - 1.0, 4551), ST_Point(l.sx + l.w, l.sy + l.yoff - 1.0, 4551)), l.core) AS geom
    FROM lanes l CROSS JOIN s_params p
)
SELECT vid, grp, 0 AS k, name, kind, diameter_mm, built_year, facility, geom FROM mains
UNION ALL
SELECT vid, grp, k, name0 || (row_number() OVER (PARTITION BY vid ORDER BY k DESC)), kind, diameter_mm, built_year, facility, geom
FROM dist
WHERE ST_GeometryType(geom) = 'ST_LineString' AND ST_Length(geom) >= 40;

-- step: power lines
-- A 66 kV overhead line per row pair at y66 (between the southern cores and
-- the river), and a 10 kV feeder per village: up or down its central
-- north–south lane (2 m left of centre) and along its east–west main lane.
CREATE TEMP TABLE s_power ON COMMIT DROP AS
WITH l66base AS (
    SELECT br, min(y66) AS y66 FROM s_block GROUP BY br
), l66 AS (
    SELECT b.br, b.y66,
        ST_MakeLine(ST_Point(p.x_min + k * (p.x_max - p.x_min) / n.n,
                             b.y66 + 20 * (2 * pg_temp.vp_rnd(p.seed, 'line66', b.br || ':' || k) - 1), 4551) ORDER BY k) AS geom
    FROM l66base b CROSS JOIN s_params p
    CROSS JOIN LATERAL (SELECT ceil((p.x_max - p.x_min) / 1000)::int AS n) n
    CROSS JOIN LATERAL generate_series(0, n.n) k
    GROUP BY b.br, b.y66
), feeders AS (
    SELECT v.vid, '10kV' || v.short || '线' AS name, 10.0 AS voltage_kv,
        ST_Collect(
            ST_MakeLine(ST_ClosestPoint(l.geom, ST_Point(v.sx - 2, l.y66, 4551)), ST_Point(v.sx - 2, v.sy - 2, 4551)),
            ST_Intersection(ST_MakeLine(ST_Point(v.sx - v.w, v.sy - 2, 4551), ST_Point(v.sx + v.w, v.sy - 2, 4551)), v.core)) AS geom
    FROM s_village v JOIN s_block b USING (block) JOIN l66 l ON l.br = b.br
)
SELECT 1 AS grp, br AS ord,
    CASE WHEN (SELECT scale FROM s_params) = 'township' THEN '66kV双营线' ELSE '66kV样例' || (br + 1) || '号线' END AS name,
    66.0 AS voltage_kv, '架空' AS laying, geom
FROM l66
UNION ALL
SELECT 2, vid, name, voltage_kv, '架空', geom FROM feeders;

-- step: natural hamlets
-- 自然屯: each core is split at the 前街 and 后街 centre lines (141.8 m
-- south and north of the centre) into up to three hamlets, 前 / 中 / 后,
-- each the part of the core that holds its homesteads (a band that holds
-- none is left out). The middle hamlet bears the village's name.
CREATE TEMP TABLE s_hamlet ON COMMIT DROP AS
WITH hh AS (
    SELECT h.vid, CASE WHEN ST_Y(ST_Centroid(h.geom)) < v.sy - 141.8 THEN -1
                       WHEN ST_Y(ST_Centroid(h.geom)) > v.sy + 141.8 THEN 1 ELSE 0 END AS band,
        count(DISTINCT h.household_id) AS households
    FROM s_homestead h JOIN s_village v USING (vid)
    GROUP BY 1, 2
)
SELECT v.vid, hh.band, v.code AS xzqdm,
    CASE hh.band WHEN 0 THEN v.short || '屯'
        WHEN -1 THEN (ARRAY['前屯', '南屯', '河南屯', '前营子', '下屯'])[1 + (v.vid + floor(pg_temp.vp_rnd(p.seed, 'hamlet-front', '') * 5)::int) % 5]
        ELSE (ARRAY['后屯', '北屯', '北岗屯', '后营子', '上屯'])[1 + (v.vid + floor(pg_temp.vp_rnd(p.seed, 'hamlet-back', '') * 5)::int) % 5] END AS name,
    hh.households::int AS households, round(hh.households * v.persons)::int AS population,
    ST_Intersection(v.core, ST_MakeEnvelope(v.sx - v.w, CASE hh.band WHEN -1 THEN v.sy - v.h WHEN 0 THEN v.sy - 141.8 ELSE v.sy + 141.8 END,
                                            v.sx + v.w, CASE hh.band WHEN -1 THEN v.sy - 141.8 WHEN 0 THEN v.sy + 141.8 ELSE v.sy + v.h END, 4551)) AS geom
FROM s_village v JOIN hh USING (vid) CROSS JOIN s_params p;

-- step: public facilities
-- 公共服务设施 near each village centre, on the margins of the 8 m main
-- lanes (never on a parcel): every village has a 便民服务中心, a 卫生室, a
-- 新时代文明实践站, a 公厕, three 应急广播 along the north–south main lane,
-- 消火栓 every 150 m along both main lanes and a 垃圾收集点 per hamlet;
-- about 80 % a 文化活动室, 85 % a 全民健身场地, 60 % a 互助养老服务设施,
-- half a 微型消防站 and 60 % a 污水处理设施 (some 在建). 应急避难场所 are
-- not everywhere: the township seat always has one, 40 % of the other
-- villages of its block (in a seeded order) one 运行 and one more village
-- one 规划, so reach to the nearest shelter along
-- the roads differs from village to village. The seat also has the
-- block's 垃圾转运站.
CREATE TEMP TABLE s_facility ON COMMIT DROP AS
WITH v AS (
    SELECT v.vid, v.code, v.name, v.sx, v.sy, v.w, v.h, v.households, v.population, b.town_name, p.seed,
        v.vid = b.seat_vid AS is_seat,
        -- shelters: the seat, then the first 40 % of the other villages of
        -- the block in a seeded order 运行 and the next one 规划
        row_number() OVER (PARTITION BY v.block, v.vid = b.seat_vid ORDER BY pg_temp.vp_rnd(p.seed, 'shelter', v.code), v.vid) AS shelter_rank,
        count(*) OVER (PARTITION BY v.block, v.vid = b.seat_vid) AS shelter_n
    FROM s_village v JOIN s_block b USING (block) CROSS JOIN s_params p
), single AS (
    SELECT v.vid, t.ord, 0 AS k, t.kind, v.name || t.suffix AS name, t.state, t.capacity, round(t.area::numeric, 0)::float8 AS area_m2,
        t.built_year, t.operator, ST_Point(t.x, t.y, 4551) AS geom
    FROM v
    CROSS JOIN LATERAL (SELECT pg_temp.vp_rnd(v.seed, 'fac-keep', v.code || ':' || n) AS keep,
                               pg_temp.vp_rnd(v.seed, 'fac-state', v.code || ':' || n) AS st,
                               pg_temp.vp_rnd(v.seed, 'fac-area', v.code || ':' || n) AS ar,
                               pg_temp.vp_rnd(v.seed, 'fac-year', v.code || ':' || n) AS yr, n
                        FROM generate_series(1, 12) n) u
    CROSS JOIN LATERAL (VALUES
        (1, '便民服务中心', '便民服务中心', true, '运行', NULL::int, 300 + 300 * u.ar, v.sx + 30, v.sy + 3, 2015 + floor(u.yr * 7)::int, v.name || '村民委员会'),
        (2, '卫生室', '卫生室', true, '运行', NULL, 80 + 70 * u.ar, v.sx - 30, v.sy + 3, 2012 + floor(u.yr * 10)::int, v.town_name || '卫生院'),
        (3, '新时代文明实践站', '新时代文明实践站', true, '运行', NULL, NULL, v.sx + 45, v.sy + 3, 2019 + floor(u.yr * 4)::int, v.name || '村民委员会'),
        (4, '文化活动室', '文化活动室', u.keep < 0.8, '运行', NULL, 100 + 100 * u.ar, v.sx + 60, v.sy + 3, 2014 + floor(u.yr * 8)::int, v.name || '村民委员会'),
        (5, '全民健身场地', '全民健身广场', u.keep < 0.85, CASE WHEN u.st < 0.12 THEN '在建' ELSE '运行' END, NULL, 600 + 900 * u.ar,
            v.sx - 60, v.sy - 3, 2017 + floor(u.yr * 7)::int, v.name || '村民委员会'),
        (6, '互助养老服务设施', '互助幸福院', u.keep < 0.6, CASE WHEN u.st < 0.2 THEN '规划' ELSE '运行' END, NULL, 200 + 200 * u.ar,
            v.sx - 45, v.sy + 3, 2018 + floor(u.yr * 6)::int, v.name || '村民委员会'),
        (7, '应急避难场所', '应急避难场所', v.is_seat OR v.shelter_rank <= round(0.4 * v.shelter_n) + 1,
            CASE WHEN v.is_seat OR v.shelter_rank <= round(0.4 * v.shelter_n) THEN '运行' ELSE '规划' END,
            CASE WHEN v.is_seat THEN round(v.population * 0.5)::int ELSE round(v.population * (0.25 + 0.15 * u.ar))::int END, NULL,
            v.sx - 80, v.sy - 3, 2018 + floor(u.yr * 6)::int, CASE WHEN v.is_seat THEN v.town_name || '人民政府' ELSE v.name || '村民委员会' END),
        (8, '微型消防站', '微型消防站', v.is_seat OR u.keep < 0.5, '运行', NULL, 30 + 20 * u.ar, v.sx + 30, v.sy - 3, 2019 + floor(u.yr * 5)::int,
            CASE WHEN v.is_seat THEN v.town_name || '人民政府' ELSE v.name || '村民委员会' END),
        (9, '公厕', '公厕', true, CASE WHEN u.st < 0.1 THEN '在建' ELSE '运行' END, NULL, 40 + 20 * u.ar, v.sx + 90, v.sy + 3,
            2019 + floor(u.yr * 5)::int, v.name || '村民委员会'),
        (10, '公厕', '北公厕', v.households >= 500, '运行', NULL, 40 + 20 * u.ar, v.sx - 3, v.sy + v.h / 2 - 60, 2020 + floor(u.yr * 4)::int, v.name || '村民委员会'),
        (11, '垃圾转运站', '垃圾转运站', v.is_seat, '运行', NULL, 150 + 100 * u.ar, v.sx + v.w / 2 - 20, v.sy + 3, 2018 + floor(u.yr * 4)::int, v.town_name || '人民政府'),
        (12, '污水处理设施', '污水处理站', u.keep < 0.6, CASE WHEN u.keep < 0.35 THEN '运行' ELSE '在建' END, NULL, 150 + 150 * u.ar,
            v.sx + 3, v.sy - v.h / 2 + 15, 2020 + floor(u.yr * 5)::int, v.name || '村民委员会')
    ) t(ord, kind, suffix, keep, state, capacity, area, x, y, built_year, operator)
    WHERE t.ord = u.n AND t.keep
), hydrants AS (
    SELECT v.vid, 20 AS ord, row_number() OVER (PARTITION BY v.vid ORDER BY a.axis, a.k) AS k, '消火栓' AS kind,
        CASE WHEN pg_temp.vp_rnd(v.seed, 'hydrant', v.code || ':' || a.axis || ':' || a.k) < 0.92 THEN '运行' ELSE '停用' END AS state,
        v.name, v.seed, v.code, a.geom
    FROM v CROSS JOIN LATERAL (
        SELECT 1 AS axis, k, ST_Point(v.sx + k * 150, v.sy - 3, 4551) AS geom
        FROM generate_series(-floor((v.w / 2 - 40) / 150)::int, floor((v.w / 2 - 40) / 150)::int) k WHERE k <> 0
        UNION ALL
        SELECT 2, k, ST_Point(v.sx - 3, v.sy + k * 150, 4551)
        FROM generate_series(-floor((v.h / 2 - 40) / 150)::int, floor((v.h / 2 - 40) / 150)::int) k WHERE k <> 0) a
), broadcast AS (
    SELECT v.vid, 21 AS ord, b.k, v.name, v.seed, v.code, ST_Point(v.sx + 3, v.sy + b.dy, 4551) AS geom
    FROM v CROSS JOIN LATERAL (VALUES (1, 3.0), (2, v.h / 2 - 40), (3, -(v.h / 2 - 40))) b(k, dy)
), refuse AS (
    SELECT h.vid, 22 AS ord, h.band + 2 AS k, h.name AS hname, v.seed, v.code, ST_Point(v.sx - 3, ST_Y(ST_Centroid(h.geom)) + 20, 4551) AS geom
    FROM s_hamlet h JOIN v USING (vid)
), allf AS (
    SELECT vid, ord, k, kind, name, state, capacity, area_m2, built_year, operator, geom FROM single
    UNION ALL
    SELECT vid, ord, k, kind, name || '消火栓' || lpad(k::text, 2, '0'), state, NULL, NULL,
        2016 + floor(pg_temp.vp_rnd(seed, 'hydrant-year', code || ':' || k) * 6)::int, name || '村民委员会', geom
    FROM hydrants
    UNION ALL
    SELECT vid, ord, k, '应急广播', name || '应急广播' || k || '号', '运行', NULL, NULL,
        2020 + floor(pg_temp.vp_rnd(seed, 'broadcast-year', code) * 3)::int, name || '村民委员会', geom
    FROM broadcast
    UNION ALL
    SELECT vid, ord, k, '垃圾收集点', hname || '垃圾收集点', '运行', NULL, 20.0,
        2019 + floor(pg_temp.vp_rnd(seed, 'refuse-year', code || ':' || k) * 4)::int, '双阳区环境卫生服务中心', geom
    FROM refuse
)
SELECT f.*, v.code AS xzqdm,
    (SELECT h.name FROM s_hamlet h WHERE h.vid = f.vid AND ST_Intersects(h.geom, f.geom) ORDER BY h.band LIMIT 1) AS hamlet
FROM allf f JOIN s_village v USING (vid);

-- step: control zones
CREATE TEMP TABLE s_cz ON COMMIT DROP AS
SELECT 1 AS grp, v.vid AS ord, '村庄集中建设区' AS gkbjlxmc, v.name || '村庄集中建设区' AS name,
    '城乡规划法 第四十二条; 土地管理法 第六十二条' AS legal_basis, v.name || '村庄规划（2021—2035年）' AS approval,
    v.code AS xzqdm, v.core AS geom
FROM s_village v
UNION ALL
SELECT 2, v.vid, '村庄弹性发展区', v.name || '村庄弹性发展区',
    '城乡规划法 第四十二条; 土地管理法 第六十二条', v.name || '村庄规划（2021—2035年）', v.code, v.ring
FROM s_village v
UNION ALL
SELECT 3, r.br, '生态保护红线',
    CASE WHEN p.scale = 'township' THEN '双营子回族乡南部山林生态保护红线' ELSE '样例县第' || (r.br + 1) || '片区山林生态保护红线' END,
    '自然资发〔2022〕142号; 土地管理法实施条例 第二十二条', '吉林省“三区三线”划定成果（示例）',
    CASE WHEN p.scale = 'township' THEN (SELECT min(town_code) || '000' FROM s_village) END, r.geom
FROM s_redline r CROSS JOIN s_params p
UNION ALL
SELECT 4, r.rid, '河道管理范围', r.name || '河道管理范围', '河道管理条例 第二十条、第二十四条', NULL,
    CASE WHEN p.scale = 'township' THEN (SELECT min(town_code) || '000' FROM s_village) END, r.band
FROM s_river r CROSS JOIN s_params p
UNION ALL
SELECT 5, b.block, '饮用水水源一级保护区', b.town_name || '集中供水厂饮用水水源一级保护区', '水污染防治法 第六十五条', NULL,
    b.town_code || '000', ST_Buffer(ST_Point(b.plant_x, b.plant_y + 60, 4551), 100, 'quad_segs=8')
FROM s_block b
UNION ALL
SELECT 6, b.block, '饮用水水源二级保护区', b.town_name || '集中供水厂饮用水水源二级保护区', '水污染防治法 第六十六条', NULL,
    b.town_code || '000', ST_Difference(ST_Buffer(ST_Point(b.plant_x, b.plant_y + 60, 4551), 300, 'quad_segs=8'),
                               ST_Buffer(ST_Point(b.plant_x, b.plant_y + 60, 4551), 100, 'quad_segs=8'))
FROM s_block b
UNION ALL
SELECT 7, b.block, '城镇开发边界', b.town_name || '集镇城镇开发边界', '土地管理法 第十八条', NULL,
    b.town_code || '000',
    ST_Intersection(ST_Difference(ST_MakeEnvelope(v.sx - v.w / 2 - 400, v.sy + v.h / 2 - 100, v.sx - v.w / 2 + 200, v.sy + v.h / 2 + 350, 4551), v.core), p.ext)
FROM s_block b JOIN s_village v ON v.vid = b.seat_vid CROSS JOIN s_params p;

-- step: insert villages
INSERT INTO villageplan.villages (xzqdm, xzqmc, czlx, designation, households, population, township_code, geom)
SELECT code, name, czlx, designation, households, population, town_code, ST_Multi(ST_Transform(cell, 4490))
FROM s_village ORDER BY vid;

-- step: insert land_use
INSERT INTO villageplan.land_use (tbbh, dlbm, dlmc, zldwdm, zldwmc, xzqdm, tbmj, czcsxm, sjnf, geom)
SELECT l.tbbh, l.dlbm,
    CASE l.dlbm WHEN '0101' THEN '水田' WHEN '0102' THEN '水浇地' WHEN '0103' THEN '旱地' WHEN '0301' THEN '乔木林地'
                WHEN '0404' THEN '其他草地' WHEN '0702' THEN '农村宅基地' WHEN '1006' THEN '农村道路' WHEN '1101' THEN '河流水面'
                WHEN '1104' THEN '坑塘水面' WHEN '1202' THEN '设施农用地' END,
    l.code || '0000000', l.name, l.code, round(ST_Area(l.geom)::numeric, 2), l.czcsxm, 2023,
    ST_Multi(ST_Transform(l.geom, 4490))
FROM s_landuse l ORDER BY l.vid, l.tbbh;

-- step: insert permanent_farmland
INSERT INTO villageplan.permanent_farmland (yjjbnttbbh, tbbh, dlbm, dlmc, zldwdm, xzqdm, yjjbntmj, bhkssj, bhjssj, geom)
SELECT f.yjjbnttbbh, f.tbbh, f.dlbm, CASE f.dlbm WHEN '0101' THEN '水田' WHEN '0102' THEN '水浇地' ELSE '旱地' END,
    f.code || '0000000', f.code, round(ST_Area(f.geom)::numeric, 2), date '2020-01-01', date '2050-12-31',
    ST_Multi(ST_Transform(f.geom, 4490))
FROM s_farmland f ORDER BY f.vid, f.yjjbnttbbh;

-- step: insert control_zones
INSERT INTO villageplan.control_zones (gkbjlxmc, name, legal_basis, approval, xzqdm, geom)
SELECT gkbjlxmc, name, legal_basis, approval, xzqdm, ST_Multi(ST_Transform(geom, 4490))
FROM s_cz WHERE NOT ST_IsEmpty(geom) ORDER BY grp, ord;

-- step: insert hazard_zones
INSERT INTO villageplan.hazard_zones (kind, grade, hazard_type, name, source, geom)
SELECT kind, grade, hazard_type, name, '示例数据', ST_Multi(ST_Transform(ST_CollectionExtract(geom, 3), 4490))
FROM s_hazard WHERE NOT ST_IsEmpty(ST_CollectionExtract(geom, 3)) ORDER BY ord, block;

-- step: insert homesteads
INSERT INTO villageplan.homesteads (zddm, bdcdyh, xzqdm, zl, zdmj, approval_number, approved_on, status,
                                    household_id, holder_name, holder_id_number, danger_grade, toilet_done, water_connected, geom)
SELECT zddm, zddm || 'F00010001', xzqdm, zl, round(ST_Area(geom)::numeric, 2), approval_number, approved_on, status,
    household_id, holder_name, holder_id_number,
    -- 房屋危险性等级, 改厕 and 供水入户 of the house on the parcel: none for
    -- a parcel approved but not yet built on; idle houses are in a worse
    -- state; the toilet and water rates vary from village to village.
    CASE WHEN status IN ('已批准', '在建') THEN NULL
         WHEN u.d < CASE WHEN status = '闲置' THEN 0.45 ELSE 0.74 END THEN 'A'
         WHEN u.d < CASE WHEN status = '闲置' THEN 0.72 ELSE 0.91 END THEN 'B'
         WHEN u.d < CASE WHEN status = '闲置' THEN 0.90 ELSE 0.975 END THEN 'C' ELSE 'D' END,
    CASE WHEN status = '已批准' THEN NULL WHEN status = '在建' THEN false
         ELSE u.t < 0.55 + 0.43 * pg_temp.vp_rnd(p.seed, 'toilet-rate', xzqdm) END,
    CASE WHEN status = '已批准' THEN NULL ELSE u.w < 0.82 + 0.17 * pg_temp.vp_rnd(p.seed, 'water-rate', xzqdm) END,
    ST_Multi(ST_Transform(geom, 4490))
FROM s_homestead CROSS JOIN s_params p
CROSS JOIN LATERAL (SELECT pg_temp.vp_rnd(p.seed, 'danger', zddm) AS d, pg_temp.vp_rnd(p.seed, 'toilet', zddm) AS t,
                           pg_temp.vp_rnd(p.seed, 'water', zddm) AS w) u
ORDER BY vid, seq;

-- step: insert water_pipelines
INSERT INTO villageplan.water_pipelines (name, kind, diameter_mm, material, built_year, facility, geom)
SELECT name, kind, diameter_mm, 'PE', built_year, facility, ST_Multi(ST_Transform(geom, 4490))
FROM s_pipe ORDER BY grp, vid, k;

-- step: insert power_lines
INSERT INTO villageplan.power_lines (name, voltage_kv, laying, operator, geom)
SELECT name, voltage_kv, laying, '国网长春供电公司双阳分公司', ST_Multi(ST_Transform(ST_CollectionExtract(geom, 2), 4490))
FROM s_power ORDER BY grp, ord;

-- step: insert roads
-- 乡村建设行动 flags: hardened = cement or asphalt; main_road = the 乡道
-- and the 主街, 前街 and 后街 村道 (not the 县道, not the 巷); lit as
-- surveyed; fire_lane = clear width ≥ 4 m, i.e. a pavement of 4 m or more,
-- except that in 40 % of the villages of each block (in a seeded order)
-- the north–south main lane, the
-- 前街 and the 巷 are narrowed below 4 m by buildings and stacks along them,
-- so that their 前 hamlet is reached only through lanes narrower than 4 m.
INSERT INTO villageplan.roads (lxbm, lxmc, admin_grade, tech_grade, subgrade_width, pavement_width, surface, built_year,
                               length_km, maintainer, road_chief, condition, xzqdm, hardened, main_road, fire_lane, lit, geom)
SELECT r.lxbm, r.lxmc, r.admin_grade, r.tech_grade, r.subgrade_width, r.pavement_width, r.surface, r.built_year,
    round((ST_Length(r.geom) / 1000)::numeric, 3), r.maintainer, r.road_chief, r.condition, r.xzqdm,
    r.surface IN ('沥青混凝土', '水泥混凝土'),
    r.grp = 2 OR (r.grp = 3 AND r.ord % 10 BETWEEN 1 AND 4),
    r.pavement_width >= 4 AND NOT (r.grp = 3 AND r.ord % 10 IN (2, 3, 5, 6) AND coalesce(n.narrow, false)),
    r.lit, ST_Multi(ST_Transform(r.geom, 4490))
FROM s_road r CROSS JOIN s_params p
LEFT JOIN (SELECT v.vid, row_number() OVER (PARTITION BY v.block ORDER BY pg_temp.vp_rnd(p.seed, 'narrow-lanes', v.code), v.vid)
                         <= round(0.4 * count(*) OVER (PARTITION BY v.block)) AS narrow
           FROM s_village v CROSS JOIN s_params p) n ON n.vid = r.vid
ORDER BY r.grp, r.ord;

-- step: insert water_facilities
INSERT INTO villageplan.water_facilities (name, kind, scale_class, capacity_m3d, villages_served, population_served,
                                          source_type, built_year, operator, geom)
SELECT name, kind, scale_class, capacity_m3d, villages_served, population_served, source_type, built_year, operator,
    ST_Transform(geom, 4490)
FROM s_water ORDER BY grp, ord;

-- step: insert streetlights
INSERT INTO villageplan.streetlights (pole_id, xzqdm, lxbm, light_source, power_w, pole_height, supply, control, status,
                                      installed_on, last_inspected, maintainer, geom)
SELECT pole_id, xzqdm, lxbm, light_source, power_w, pole_height, supply, control, status, installed_on, last_inspected,
    maintainer, ST_Transform(geom, 4490)
FROM s_light ORDER BY vid, lxbm, pole_id;

-- step: insert natural_hamlets
INSERT INTO villageplan.natural_hamlets (name, xzqdm, households, population, geom)
SELECT name, xzqdm, households, population, ST_Multi(ST_Transform(geom, 4490))
FROM s_hamlet ORDER BY vid, band DESC;

-- step: insert public_facilities
INSERT INTO villageplan.public_facilities (name, kind, state, capacity_persons, area_m2, xzqdm, hamlet, built_year, operator, geom)
SELECT name, kind, state, capacity, area_m2, xzqdm, hamlet, built_year, operator, ST_Transform(geom, 4490)
FROM s_facility ORDER BY vid, ord, k;

-- step: drop functions
DROP FUNCTION pg_temp.vp_name(text, text);
DROP FUNCTION pg_temp.vp_idcheck(text);
DROP FUNCTION pg_temp.vp_rnd(text, text, text);
