// Package tiles serves the catalog's layers as Mapbox Vector Tiles (MVT 2.1)
// rendered by PostGIS, with TileJSON 3.0 documents and a MapLibre style.
//
// # Tilesets and tiles
//
// Every catalog layer is a tileset (one MVT layer named by the layer ID),
// and MapTileset ("map") holds every layer visible at the zoom, all read by
// one SQL statement. Tiles are addressed in the Web-Mercator XYZ scheme,
// z 0–22 (ParseAddress). Geometry comes from each table's generated
// geom_3857 column (EPSG:3857), never reprojected at request time, encoded
// by ST_AsMVTGeom/ST_AsMVT with extent 4096 and a 64-unit buffer (sql.go).
//
// Attributes follow the catalog: personal fields and fields with
// TileMinZoom −1 are never in tiles; other fields appear from their
// TileMinZoom. The feature id is the table's id column.
//
// # Generalisation
//
// Below DetailZoom (16) polygons under 1 px² and lines under 1 px (of a
// 512-px tile) are left out, the rest simplified to half a pixel before
// ST_AsMVTGeom snaps them to the 4096 grid, points are thinned to one per
// 2-px cell, and each layer keeps at most MaxFeaturesPerLayer features,
// largest first. A tile over MaxTileBytes (500 KB) compressed is rendered
// again with each layer capped to its share of the limit, largest features
// first (generalise.go, Service.render).
//
// # Empty tiles
//
// A tile with no feature is reported as Tile.Empty; the HTTP layer answers
// 204 No Content (with ETag and Cache-Control). MapLibre GL JS treats a 204
// as an empty tile, without an error or a retry.
//
// # Cache and freshness
//
// Rendered tiles are kept gzip-compressed in an in-process LRU bounded in
// bytes; concurrent misses for one tile share one rendering, whose query is
// cancelled when every waiting client has gone. The cache key and the weak
// ETag contain the version (villageplan.layer_version) of every layer in
// the tile, so a change to a layer makes its tiles and the "map" tiles that
// include it unreachable at once, while tiles of other layers stay cached.
//
// Versions are known without a query per request while a dedicated
// connection LISTENs on ChangeChannel, which the layer-table triggers
// notify on every committed change (also from other server processes,
// imports and psql). The listener re-reads layer_version after each
// notification and every Heartbeat. When that connection is down the
// service reads layer_version on every request (one small query) until it
// has reconnected, listened and re-read, so a lost notification cannot
// leave a stale tile in use. A tile rendering reads the versions in the
// same statement (same snapshot) as the features and is cached under them.
package tiles
