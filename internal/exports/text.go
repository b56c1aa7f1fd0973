package exports

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	gkml "github.com/twpayne/go-geom/encoding/kml"
	"github.com/twpayne/go-geom/encoding/wkb"
	"github.com/twpayne/go-kml/v3"

	"villageplan/internal/exchange"
	"villageplan/layers"
)

// digits is the number of decimals written for coordinates: 8 for degrees
// (about 1 mm), 3 for metres (1 mm, the precision of survey coordinates).
func digits(srid int) int {
	if srid == 4326 || srid == 4490 {
		return 8
	}
	return 3
}

// geojson writes a FeatureCollection whose Feature texts are built by
// PostGIS (ST_AsGeoJSON, json_build_object). Polygons are written
// counter-clockwise (RFC 7946 §3.1.6). Geometries carry no "crs" member
// (ST_AsGeoJSON option 0: PostGIS would otherwise add one to every
// geometry whose SRID is not 4326, which RFC 7946 readers reject): in the
// default output, CRS84, coordinates are longitude, latitude as RFC 7946
// requires (the stored CGCS2000 degrees are written unchanged). In a CRS
// other than CRS84 only the FeatureCollection names it, with the GDAL-style
// "crs" member, and coordinates stay easting first, as GDAL and QGIS read
// them.
func (e *exporter) geojson(ctx context.Context, w io.Writer) error {
	srid, err := e.outputSRID(4326)
	if err != nil {
		return err
	}
	var props string
	if len(e.fields) == 0 {
		props = `'{}'`
	} else {
		var b strings.Builder
		b.WriteString("json_build_object(")
		for i, f := range e.fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(layers.QuoteLiteral(f.Name) + ", t." + layers.QuoteIdent(f.Name))
		}
		b.WriteString(")::text")
		props = b.String()
	}
	feature := `'{"type":"Feature","id":' || t.id || ',"geometry":' || ST_AsGeoJSON(ST_ForcePolygonCCW(` + geomSQL(srid) + `), ` +
		strconv.Itoa(digits(srid)) + `, 0) || ',"properties":' || ` + props + ` || '}'`
	bw := bufio.NewWriterSize(w, 1<<16)
	name, _ := json.Marshal(e.opts.Name)
	fmt.Fprintf(bw, `{"type":"FeatureCollection","name":%s`, name)
	if srid != 4326 {
		fmt.Fprintf(bw, `,"crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::%d"}}`, srid)
	}
	if len(e.res.Omitted) > 0 {
		om, _ := json.Marshal(e.res.Omitted)
		fmt.Fprintf(bw, `,"personal_data_omitted":%s`, om)
	}
	bw.WriteString(`,"features":[`)
	first := true
	err = e.queryFields(ctx, []string{feature}, nil, func(_ int64, extra []any, _ []any) error {
		if !first {
			bw.WriteString(",\n")
		} else {
			bw.WriteString("\n")
		}
		first = false
		s, _ := extra[0].(string)
		_, err := bw.WriteString(s)
		return err
	})
	if err != nil {
		return err
	}
	bw.WriteString("\n]}\n")
	return bw.Flush()
}

// formatValue writes a field value as text: dates ISO 8601, numbers in the
// shortest exact form, booleans true/false, NULL as "".
func formatValue(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case time.Time:
		return t.Format("2006-01-02")
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(t), 'f', -1, 32)
	case bool:
		return strconv.FormatBool(t)
	}
	return fmt.Sprint(v)
}

// csv writes a CSV file: a WKT column (ST_AsText in the output CRS,
// easting first), the feature id and one column per field, named by the
// catalog's field names. UTF-8 files start with a byte-order mark so that
// Excel shows Chinese text; GBK files have none.
func (e *exporter) csv(ctx context.Context, w io.Writer) error {
	srid, err := e.outputSRID(4326)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	if e.enc == exchange.UTF8 {
		bw.WriteString("\ufeff")
	}
	var line strings.Builder
	cw := csv.NewWriter(&line)
	cw.UseCRLF = true
	flush := func(rec []string) error {
		line.Reset()
		if err := cw.Write(rec); err != nil {
			return err
		}
		cw.Flush()
		b, err := exchange.Encode(e.enc, line.String())
		if err != nil {
			return err
		}
		_, err = bw.Write(b)
		return err
	}
	hdr := []string{"WKT", "id"}
	for _, f := range e.fields {
		hdr = append(hdr, f.Name)
	}
	if err := flush(hdr); err != nil {
		return err
	}
	rec := make([]string, len(hdr))
	err = e.query(ctx, []string{"ST_AsText(" + geomSQL(srid) + ", " + strconv.Itoa(digits(srid)) + ")"}, func(id int64, extra, vals []any) error {
		rec[0], _ = extra[0].(string)
		rec[1] = strconv.FormatInt(id, 10)
		for i, v := range vals {
			rec[2+i] = formatValue(v)
			if _, err := exchange.Encode(e.enc, rec[2+i]); err != nil {
				return fmt.Errorf("feature %d, field %s: %w", id, e.fields[i].Name, err)
			}
		}
		return flush(rec)
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

// kml writes KML 2.2: one Placemark per feature with its name (the layer's
// label field, else title and id), the attributes as ExtendedData of a
// Schema, and the geometry in WGS 84 longitude/latitude (the only CRS KML
// has), polygons counter-clockwise. Placemarks are encoded one at a time
// with github.com/twpayne/go-kml and go-geom's KML encoder.
func (e *exporter) kml(ctx context.Context, w io.Writer) error {
	if e.q.OutputSRID != 0 && e.q.OutputSRID != 4326 && e.q.OutputSRID != 4490 {
		return fmt.Errorf("export: KML is always WGS 84 longitude/latitude (EPSG:4326); EPSG:%d cannot be written", e.q.OutputSRID)
	}
	e.res.EPSG = 4326
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := xml.NewEncoder(bw)
	l := e.q.Layer
	schemaID := e.opts.Name
	var fields []kml.Element
	for _, f := range e.fields {
		typ := "string"
		switch f.Type {
		case layers.Integer:
			typ = "int"
		case layers.Real:
			typ = "double"
		case layers.Bool:
			typ = "bool"
		}
		fields = append(fields, kml.SimpleField(f.Name, typ))
	}
	bw.WriteString(xml.Header)
	bw.WriteString(`<kml xmlns="http://www.opengis.net/kml/2.2"><Document id="root_doc">`)
	head := []kml.Element{kml.Schema(schemaID, fields...)}
	for _, h := range head {
		if err := enc.Encode(h); err != nil {
			return err
		}
	}
	if err := enc.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(bw, "<Folder><name>%s</name>", xmlText(l.TitleZH))
	if len(e.res.Omitted) > 0 {
		fmt.Fprintf(bw, "<description>%s</description>", xmlText("个人信息字段未导出 (personal data omitted): "+strings.Join(e.res.Omitted, ", ")))
	}
	labelIdx := -1
	label := l.Style.LabelField
	if label == "" {
		if f, ok := exchange.ParcelField(l, exchange.RoleNumber); ok {
			label = f.Name
		}
	}
	for i, f := range e.fields {
		if f.Name == label {
			labelIdx = i
		}
	}
	err := e.query(ctx, []string{"ST_AsBinary(ST_ForcePolygonCCW(t.geom), 'NDR')"}, func(id int64, extra, vals []any) error {
		b, _ := extra[0].([]byte)
		g, err := wkb.Unmarshal(b)
		if err != nil {
			return err
		}
		ge, err := gkml.Encode(g)
		if err != nil {
			return err
		}
		name := l.TitleZH + " " + strconv.FormatInt(id, 10)
		if labelIdx >= 0 && vals[labelIdx] != nil {
			name = formatValue(vals[labelIdx])
		}
		var data []kml.Element
		for i, v := range vals {
			if v != nil {
				data = append(data, kml.SimpleData(e.fields[i].Name, formatValue(v)))
			}
		}
		pm := kml.Placemark(kml.Name(name), kml.ExtendedData(kml.SchemaData("#"+schemaID, data...)), ge)
		if err := enc.Encode(pm); err != nil {
			return err
		}
		return enc.Flush()
	})
	if err != nil {
		return err
	}
	bw.WriteString("</Folder></Document></kml>\n")
	return bw.Flush()
}

func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
