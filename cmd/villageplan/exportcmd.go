package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"villageplan/geo/crs"
	"villageplan/internal/exports"
	"villageplan/internal/features"
	"villageplan/layers"
	"villageplan/tiles"
	"villageplan/tiles/pmtarchive"
)

func newExportCommand(g *globalFlags) *cobra.Command {
	var (
		layerID, format, crsArg, bbox, filter, out string
		where                                      []string
		includePersonal                            bool
		minZoom, maxZoom                           int
		opts                                       exports.Options
	)
	cmd := &cobra.Command{
		Use:   "export --layer ID --format geojson|gpkg|shp|csv|kml|jzd|pmtiles -o PATH",
		Short: "write a layer (or part of it) as GeoJSON, GeoPackage, Shapefile zip, CSV, KML, 界址点 txt or a PMTiles archive",
		Long: `Writes the features of a layer, optionally restricted by --bbox (CRS84
longitude/latitude), --where FIELD=VALUE (repeatable) and --filter (CQL2
text, as in the features API), in the CRS given by --crs.

Default CRS: CRS84 for GeoJSON and CSV, EPSG:4490 for GeoPackage and
Shapefile, WGS 84 for KML, and for 界址点 txt the 3-degree Gauss-Krüger zone
(with zone number) of the features (EPSG:4530 for 双阳).

Shapefiles are written as a zip (.shp .shx .dbf .prj .cpg) with the ESRI WKT
ArcGIS recognises; --encoding GBK writes GBK text (language driver 0x4D,
.cpg GBK), as older Chinese desktop tools expect. 界址点 txt is GBK with CR LF
unless --encoding UTF-8. Personal-data fields (holder names, ID numbers)
are left out unless --include-personal is given.

--format pmtiles writes the vector tiles of the layer's tileset (or, with
--layer map, of the whole one-map) for --minzoom..--maxzoom, cut to --bbox
or the extent of the data, to one PMTiles v3 archive: the same gzip MVT
tiles the server answers at /tiles/{tileset}/{z}/{x}/{y}.mvt, with the
TileJSON's vector_layers as metadata. Personal-data fields are never in
tiles.

Examples:
  villageplan export --layer map --format pmtiles --minzoom 10 --maxzoom 16 -o 双营子.pmtiles
  villageplan export --layer homesteads --format shp --crs EPSG:4530 --encoding GBK -o 宅基地.zip
  villageplan export --layer homesteads --format jzd --where zddm=220112203300JC00001 -o 宗地.txt
  villageplan export --layer roads --format gpkg --filter "admin_grade = '村道'" -o roads.gpkg`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.EqualFold(format, "pmtiles") {
				return exportPMTiles(cmd, g, layerID, bbox, out, minZoom, maxZoom)
			}
			l, err := catalogLayer(layerID)
			if err != nil {
				return err
			}
			f, err := exports.ParseFormat(format)
			if err != nil {
				return err
			}
			q := &features.Query{Layer: l, IncludePersonal: includePersonal}
			if crsArg != "" {
				c, err := crs.ParseURI(crsArg)
				if err != nil {
					return fmt.Errorf("--crs: %w", err)
				}
				if !c.CRS84 {
					q.OutputSRID = c.EPSG
				} else if f == exports.Shapefile || f == exports.GeoPackage {
					q.OutputSRID = 4326
				}
			}
			if bbox != "" {
				parts := strings.Split(bbox, ",")
				if len(parts) != 4 {
					return fmt.Errorf("--bbox %q: write minlon,minlat,maxlon,maxlat", bbox)
				}
				var v [4]float64
				for i, p := range parts {
					if v[i], err = strconv.ParseFloat(strings.TrimSpace(p), 64); err != nil {
						return fmt.Errorf("--bbox %q: %q is not a number", bbox, p)
					}
				}
				q.BBox = &features.BBox{MinA1: v[0], MinA2: v[1], MaxA1: v[2], MaxA2: v[3]}
			}
			visible := features.VisibleFields(l, includePersonal)
			for _, w := range where {
				name, val, ok := strings.Cut(w, "=")
				if !ok {
					return fmt.Errorf("--where %q: write FIELD=VALUE", w)
				}
				fld, ok := findField(visible, strings.TrimSpace(name))
				if !ok {
					return fmt.Errorf("--where %q: layer %s has no field %q (personal-data fields need --include-personal)", w, l.ID, name)
				}
				v, err := features.ParseValue(fld, val)
				if err != nil {
					return fmt.Errorf("--where %q: %w", w, err)
				}
				q.Equals = append(q.Equals, features.Equal{Field: fld, Value: v})
			}
			if filter != "" {
				sql, args, err := features.TranslateCQL2(filter, features.FilterContext{Fields: visible, GeometryName: "geometry"})
				if err != nil {
					return fmt.Errorf("--filter: %w", err)
				}
				q.Where, q.WhereArgs = sql, args
			}
			if out == "" {
				return fmt.Errorf("-o PATH is required (- for standard output)")
			}
			if opts.Name == "" && out != "-" {
				opts.Name = strings.TrimSuffix(filepath.Base(out), filepath.Ext(out))
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			pool, closeDB, err := openDatabase(ctx, g, g.logger())
			if err != nil {
				return err
			}
			defer closeDB()

			start := time.Now()
			var res *exports.Result
			if out == "-" {
				res, err = exports.Write(ctx, pool, f, q, opts, cmd.OutOrStdout())
			} else {
				// Write next to the target and rename, so that a failed
				// export leaves no half file under the final name.
				tmp, terr := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
				if terr != nil {
					return terr
				}
				res, err = exports.Write(ctx, pool, f, q, opts, tmp)
				if cerr := tmp.Close(); err == nil {
					err = cerr
				}
				if err == nil {
					err = os.Rename(tmp.Name(), out)
				}
				if err != nil {
					os.Remove(tmp.Name())
				}
			}
			if err != nil {
				return fmt.Errorf("export %s: %w", l.ID, err)
			}
			msg := cmd.ErrOrStderr()
			fmt.Fprintf(msg, "wrote %d feature(s) of %s to %s: %s, EPSG:%d, text %s, %s\n", res.Features, l.ID, out, f, res.EPSG, res.Encoding, time.Since(start).Round(time.Millisecond))
			for _, w := range res.Warnings {
				fmt.Fprintln(msg, "warning:", w)
			}
			if len(res.Omitted) > 0 {
				fmt.Fprintf(msg, "personal-data fields left out: %s (add --include-personal to export them)\n", strings.Join(res.Omitted, ", "))
			} else if includePersonal {
				fmt.Fprintln(msg, "personal-data fields included (--include-personal): handle the file as personal information")
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&layerID, "layer", "", "layer ID, e.g. homesteads (pmtiles: a tileset, a layer ID or map)")
	fl.StringVar(&format, "format", "", "geojson, gpkg, shp, csv, kml, jzd or pmtiles")
	fl.IntVar(&minZoom, "minzoom", -1, "pmtiles: lowest zoom written (default: the tileset's lowest)")
	fl.IntVar(&maxZoom, "maxzoom", -1, "pmtiles: highest zoom written (default: the tileset's highest, at most 16)")
	fl.StringVar(&crsArg, "crs", "", "output CRS, e.g. EPSG:4490, EPSG:4530, EPSG:4551, CRS84")
	fl.StringVar(&opts.Encoding, "encoding", "", "text encoding of shp/csv/jzd: UTF-8 or GBK")
	fl.StringVar(&bbox, "bbox", "", "minlon,minlat,maxlon,maxlat (CRS84)")
	fl.StringArrayVar(&where, "where", nil, "FIELD=VALUE equality filter (repeatable)")
	fl.StringVar(&filter, "filter", "", "CQL2 text filter, e.g. \"dlbm IN ('0101','0103')\"")
	fl.BoolVar(&includePersonal, "include-personal", false, "include personal-data fields (holder names, ID numbers)")
	fl.StringVarP(&out, "output", "o", "", "output file (- for standard output)")
	fl.StringVar(&opts.Name, "name", "", "dataset name inside the file (default: the output file name)")
	_ = cmd.MarkFlagRequired("layer")
	_ = cmd.MarkFlagRequired("format")
	return cmd
}

func findField(fields []layers.Field, name string) (layers.Field, bool) {
	for _, f := range fields {
		if strings.EqualFold(f.Name, name) || (f.Code != "" && strings.EqualFold(f.Code, name)) {
			return f, true
		}
	}
	return layers.Field{}, false
}

// exportPMTiles writes tileset id (a layer ID or tiles.MapTileset) to a
// PMTiles archive, rendered by the same tiles.Service as the server.
func exportPMTiles(cmd *cobra.Command, g *globalFlags, id, bbox, out string, minZoom, maxZoom int) error {
	if out == "" || out == "-" {
		return fmt.Errorf("-o PATH is required for pmtiles (an archive cannot go to standard output)")
	}
	var o pmtarchive.Options
	if bbox != "" {
		parts := strings.Split(bbox, ",")
		if len(parts) != 4 {
			return fmt.Errorf("--bbox %q: write minlon,minlat,maxlon,maxlat", bbox)
		}
		var v [4]float64
		for i, p := range parts {
			var err error
			if v[i], err = strconv.ParseFloat(strings.TrimSpace(p), 64); err != nil {
				return fmt.Errorf("--bbox %q: %q is not a number", bbox, p)
			}
		}
		o.BBox = &v
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	logger := g.logger()
	pool, closeDB, err := openDatabase(ctx, g, logger)
	if err != nil {
		return err
	}
	defer closeDB()
	svc := tiles.New(tiles.Options{Pool: pool, Catalog: layers.Default(), Logger: logger, CacheBytes: -1})
	defer svc.Close()
	ts, ok := svc.Tileset(id)
	if !ok {
		ids := []string{}
		for _, t := range svc.Tilesets() {
			ids = append(ids, t.ID)
		}
		return fmt.Errorf("--layer %q: no such tileset (one of %s)", id, strings.Join(ids, ", "))
	}
	o.MinZoom, o.MaxZoom = minZoom, maxZoom
	if o.MinZoom < 0 {
		o.MinZoom = ts.MinZoom
	}
	if o.MaxZoom < 0 {
		o.MaxZoom = min(ts.MaxZoom, 16)
	}
	msg := cmd.ErrOrStderr()
	o.Progress = func(z, visited, written int) {
		fmt.Fprintf(msg, "zoom %d done: %d tile(s) rendered, %d with data\n", z, visited, written)
	}
	start := time.Now()
	res, err := pmtarchive.Write(ctx, svc, ts, out, o)
	if err != nil {
		return fmt.Errorf("export %s: %w", id, err)
	}
	fmt.Fprintf(msg, "wrote %s: tileset %s, zooms %d..%d, %d tile(s) with data (%d distinct) of %d rendered, %d bytes, %s\n",
		out, ts.ID, o.MinZoom, o.MaxZoom, res.Written, res.Contents, res.Visited, res.Bytes, time.Since(start).Round(time.Millisecond))
	return nil
}
