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
)

func newExportCommand(g *globalFlags) *cobra.Command {
	var (
		layerID, format, crsArg, bbox, filter, out string
		where                                      []string
		includePersonal                            bool
		opts                                       exports.Options
	)
	cmd := &cobra.Command{
		Use:   "export --layer ID --format geojson|gpkg|shp|csv|kml|jzd -o PATH",
		Short: "write a layer (or part of it) as GeoJSON, GeoPackage, Shapefile zip, CSV, KML or 界址点 txt",
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

Examples:
  villageplan export --layer homesteads --format shp --crs EPSG:4530 --encoding GBK -o 宅基地.zip
  villageplan export --layer homesteads --format jzd --where zddm=220112203300JC00001 -o 宗地.txt
  villageplan export --layer roads --format gpkg --filter "admin_grade = '村道'" -o roads.gpkg`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
	fl.StringVar(&layerID, "layer", "", "layer ID, e.g. homesteads")
	fl.StringVar(&format, "format", "", "geojson, gpkg, shp, csv, kml or jzd")
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
