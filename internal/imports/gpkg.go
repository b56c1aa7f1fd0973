package imports

import (
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"strconv"
	"strings"

	_ "modernc.org/sqlite" // pure-Go SQLite driver "sqlite"

	"villageplan/geo/crs"
)

// gpkgSource reads one feature table of an OGC GeoPackage (SQLite, opened
// read-only with the pure-Go driver modernc.org/sqlite). The geometry blob
// is a GeoPackage header followed by standard WKB, which goes to PostGIS
// unchanged. Text is UTF-8, as the GeoPackage standard requires.
type gpkgSource struct {
	db    *sql.DB
	rows  *sql.Rows
	size  int64
	info  FileInfo
	cols  []string
	geom  string
	read  int64
	total int64
	index int
}

func openGeoPackage(path string, ro readerOptions) (source, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro")
	if err != nil {
		return nil, err
	}
	s := &gpkgSource{db: db, size: st.Size()}
	if err := s.open(path, ro.sourceLayer); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *gpkgSource) open(path, layer string) error {
	rows, err := s.db.Query(`SELECT c.table_name, g.column_name, g.srs_id FROM gpkg_contents c
		JOIN gpkg_geometry_columns g ON g.table_name = c.table_name
		WHERE c.data_type = 'features' ORDER BY c.table_name`)
	if err != nil {
		return fmt.Errorf("%s: not a GeoPackage (no gpkg_contents/gpkg_geometry_columns): %w", path, err)
	}
	type lyr struct {
		table, geom string
		srs         int
	}
	var all []lyr
	for rows.Next() {
		var l lyr
		if err := rows.Scan(&l.table, &l.geom, &l.srs); err != nil {
			rows.Close()
			return err
		}
		all = append(all, l)
	}
	rows.Close()
	var names []string
	for _, l := range all {
		names = append(names, l.table)
	}
	var chosen *lyr
	switch {
	case len(all) == 0:
		return fmt.Errorf("%s: the GeoPackage has no feature layer", path)
	case layer != "":
		for i := range all {
			if strings.EqualFold(all[i].table, layer) {
				chosen = &all[i]
			}
		}
		if chosen == nil {
			return fmt.Errorf("%s: no feature layer %q; the layers are: %s", path, layer, strings.Join(names, ", "))
		}
	case len(all) == 1:
		chosen = &all[0]
	default:
		return fmt.Errorf("%s: the GeoPackage has %d feature layers (%s); choose one with --source-layer NAME", path, len(all), strings.Join(names, ", "))
	}
	s.info = FileInfo{Path: path, Format: FormatGeoPackage, Layer: chosen.table, Encoding: "UTF-8", EncodingFrom: "GeoPackage text is UTF-8 by definition"}
	s.geom = chosen.geom

	// CRS.
	var org sql.NullString
	var orgID sql.NullInt64
	var def sql.NullString
	err = s.db.QueryRow(`SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?`, chosen.srs).Scan(&org, &orgID, &def)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		s.info.crsFound = fmt.Sprintf("srs_id %d, missing from gpkg_spatial_ref_sys", chosen.srs)
		s.info.crsErr = errors.New("the layer's srs_id is not in gpkg_spatial_ref_sys")
	case err != nil:
		return err
	case strings.EqualFold(org.String, "EPSG") && orgID.Int64 > 0:
		s.info.EPSG = int(orgID.Int64)
		s.info.CRSFrom = fmt.Sprintf("gpkg_spatial_ref_sys (EPSG:%d)", orgID.Int64)
	default:
		s.info.crsFound = fmt.Sprintf("srs_id %d (%s %d)", chosen.srs, org.String, orgID.Int64)
		code, perr := crs.FromPRJ(def.String)
		if perr != nil {
			s.info.crsErr = perr
		} else {
			s.info.EPSG = code
			s.info.CRSFrom = "gpkg_spatial_ref_sys definition " + strconv.Quote(prjName(def.String))
		}
	}

	// Columns.
	crows, err := s.db.Query(`SELECT name, pk FROM pragma_table_info(?)`, chosen.table)
	if err != nil {
		return err
	}
	pk := ""
	for crows.Next() {
		var name string
		var isPK int
		if err := crows.Scan(&name, &isPK); err != nil {
			crows.Close()
			return err
		}
		switch {
		case isPK > 0 && pk == "":
			pk = name
		case strings.EqualFold(name, chosen.geom):
		default:
			s.cols = append(s.cols, name)
		}
	}
	crows.Close()
	s.info.Fields = s.cols
	_ = s.db.QueryRow(`SELECT count(*) FROM ` + quoteSQLite(chosen.table)).Scan(&s.total)

	sel := []string{"NULL"}
	if pk != "" {
		sel[0] = quoteSQLite(pk)
	}
	sel = append(sel, quoteSQLite(chosen.geom))
	for _, c := range s.cols {
		sel = append(sel, quoteSQLite(c))
	}
	order := ""
	if pk != "" {
		order = " ORDER BY " + quoteSQLite(pk)
	}
	s.rows, err = s.db.Query(`SELECT ` + strings.Join(sel, ", ") + ` FROM ` + quoteSQLite(chosen.table) + order)
	return err
}

func quoteSQLite(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func (s *gpkgSource) Info() *FileInfo { return &s.info }
func (s *gpkgSource) Size() int64     { return s.size }
func (s *gpkgSource) BytesRead() int64 {
	if s.total == 0 {
		return 0
	}
	return s.size * s.read / s.total
}
func (s *gpkgSource) Close() error {
	if s.rows != nil {
		s.rows.Close()
	}
	return s.db.Close()
}

func (s *gpkgSource) Next() (*Feature, error) {
	if !s.rows.Next() {
		if err := s.rows.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", s.info.Path, err)
		}
		return nil, io.EOF
	}
	vals := make([]any, 2+len(s.cols))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := s.rows.Scan(ptrs...); err != nil {
		return nil, fmt.Errorf("%s: %w", s.info.Path, err)
	}
	s.read++
	s.index++
	s.info.Features++
	f := &Feature{Index: s.index, DeclaredAreaM2: math.NaN(), Props: make(map[string]any, len(s.cols))}
	if vals[0] != nil {
		f.ID = fmt.Sprint(vals[0])
	}
	for i, c := range s.cols {
		v := vals[2+i]
		if b, ok := v.([]byte); ok {
			v = string(b)
		}
		f.Props[c] = v
	}
	blob, _ := vals[1].([]byte)
	if blob == nil {
		if str, ok := vals[1].(string); ok {
			blob = []byte(str)
		}
	}
	wkb, empty, err := gpkgWKB(blob)
	switch {
	case blob == nil:
		f.Problem = "has no geometry (NULL)"
	case err != nil:
		f.Problem = "has a geometry blob that cannot be read: " + err.Error()
	case empty:
		f.Problem = "has an empty geometry"
	default:
		f.WKB = wkb
		_, z, _, _ := wkbType(wkb)
		f.HasZ = z
	}
	return f, nil
}

// gpkgWKB strips the GeoPackage binary header (GeoPackage 1.3 §2.1.3:
// "GP", version, flags, srs_id, envelope) and returns the WKB.
func gpkgWKB(b []byte) (wkb []byte, empty bool, err error) {
	if len(b) < 8 || b[0] != 'G' || b[1] != 'P' {
		return nil, false, errors.New("missing the GeoPackage \"GP\" header")
	}
	flags := b[3]
	if flags&0x20 != 0 {
		return nil, false, errors.New("extended GeoPackage geometry types are not supported")
	}
	empty = flags&0x10 != 0
	envSizes := []int{0, 32, 48, 48, 64}
	env := int(flags>>1) & 0x07
	if env >= len(envSizes) {
		return nil, false, fmt.Errorf("invalid envelope indicator %d", env)
	}
	off := 8 + envSizes[env]
	if len(b) < off+5 {
		return nil, false, errors.New("the blob ends inside its header")
	}
	_ = binary.LittleEndian
	return b[off:], empty, nil
}
