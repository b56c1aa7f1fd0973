package jzd

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"villageplan/geo/crs"
)

// EPSG returns the EPSG code in which the file's coordinates, as returned by
// Parcel.Polygon / MultiPolygon / RingsEN (easting with any zone prefix
// kept), are valid. It reads the header and the eastings (DOMAIN.md §5, §6):
//
//   - 坐标系 must name CGCS2000 ("2000国家大地坐标系", "CGCS2000", …).
//     1980西安 and 1954北京 are an error: converting them needs official
//     parameters that villageplan does not have.
//   - 投影类型, if given, must be Gauss-Krüger (高斯克吕格, 高斯-克吕格投影, …).
//   - 几度分带 is 3 or 6; when empty it is inferred from the zone number
//     (25–45 → 3°, 13–23 → 6°).
//   - 带号 is the zone number; it may be empty when the eastings carry it.
//   - Eastings above 10 000 000 m carry the zone: 3° → 4488+zone
//     (e.g. 40520986.477 → 4528), 6° → 4478+zone. Eastings below
//     1 000 000 m do not: the zone comes from 带号 and the code is
//     4534+(CM−75)/3 (3°) or 4502+(CM−75)/6 (6°), CM from 带号.
//
// Every point is checked. Errors: an unsupported or missing 坐标系, a
// projection other than Gauss-Krüger, a 几度分带 other than 3 or 6, a
// non-numeric 带号, a zone prefix that disagrees with 带号 (both named),
// eastings with and without prefix mixed, a northing that looks like a
// zone-prefixed easting (X and Y swapped), and no zone anywhere.
func (f *File) EPSG() (int, error) {
	h := f.Header
	if h == nil {
		h = map[string]string{}
	}
	if err := checkDatum(h["坐标系"]); err != nil {
		return 0, err
	}
	if proj := strings.TrimSpace(h["投影类型"]); proj != "" {
		n := strings.ToLower(strings.Join(strings.FieldsFunc(proj, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		}), ""))
		if !strings.Contains(n, "高斯") && !strings.Contains(n, "gauss") && !strings.Contains(n, "克吕格") {
			return 0, fmt.Errorf("jzd: 投影类型=%s is not Gauss-Krüger (高斯克吕格); only CGCS2000 Gauss-Krüger files are supported", proj)
		}
	}

	width := 0
	if v := leadingInt(h["几度分带"]); v != "" {
		width, _ = strconv.Atoi(v)
		if width != 3 && width != 6 {
			return 0, fmt.Errorf("jzd: 几度分带=%s: zones are 3 or 6 degrees wide", h["几度分带"])
		}
	} else if strings.TrimSpace(h["几度分带"]) != "" {
		return 0, fmt.Errorf("jzd: 几度分带=%s is not 3 or 6", h["几度分带"])
	}

	headerZone := 0
	if v := strings.TrimSpace(h["带号"]); v != "" {
		z, err := strconv.Atoi(v)
		if err != nil || z <= 0 {
			return 0, fmt.Errorf("jzd: 带号=%s is not a zone number", v)
		}
		headerZone = z
	}

	// The zone number that decides the zone width when 几度分带 is empty.
	if width == 0 {
		z := headerZone
		if z == 0 {
			if e, ok := f.firstEasting(); ok && e > crs.PrefixedEastingMin {
				z = int(e / 1e6)
			}
		}
		switch {
		case z >= crs.Min3DegreeZone && z <= crs.Max3DegreeZone:
			width = 3
		case z >= crs.Min6DegreeZone && z <= crs.Max6DegreeZone:
			width = 6
		default:
			return 0, fmt.Errorf("jzd: 几度分带 is empty and zone %d is neither a 3° (25–45) nor a 6° (13–23) zone", z)
		}
	}

	epsg, firstLine := 0, 0
	for _, p := range f.Parcels {
		for _, r := range p.Rings {
			for _, pt := range r.Points {
				if pt.North > crs.PrefixedEastingMin {
					return 0, fmt.Errorf("jzd: line %d: X (northing) %.3f looks like a zone-prefixed easting; X and Y may be swapped (X must be the northing)", pt.Line, pt.North)
				}
				code, _, err := crs.DetectFromEasting(pt.East, width, headerZone)
				if err != nil {
					// The crs message names both zones when the prefix and
					// 带号 disagree.
					return 0, fmt.Errorf("jzd: line %d: %w", pt.Line, err)
				}
				switch {
				case epsg == 0:
					epsg, firstLine = code, pt.Line
				case code != epsg:
					return 0, fmt.Errorf("jzd: line %d gives EPSG:%d but line %d gives EPSG:%d: eastings with and without the zone number, or of different zones, are mixed",
						pt.Line, code, firstLine, epsg)
				}
			}
		}
	}
	if epsg != 0 {
		return epsg, nil
	}
	// No points (a File built by hand): go by 带号, without prefix.
	if headerZone == 0 {
		return 0, fmt.Errorf("jzd: no points and no 带号: the zone is unknown")
	}
	if width == 6 {
		return crs.EPSGFor6DegreeZone(headerZone, false)
	}
	return crs.EPSGFor3DegreeZone(headerZone, false)
}

func (f *File) firstEasting() (float64, bool) {
	for _, p := range f.Parcels {
		for _, r := range p.Rings {
			if len(r.Points) > 0 {
				return r.Points[0].East, true
			}
		}
	}
	return 0, false
}

// checkDatum accepts a 坐标系 value that names CGCS2000.
func checkDatum(v string) error {
	s := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(v), " ", ""))
	switch {
	case s == "":
		return fmt.Errorf("jzd: 坐标系 is empty; the file must say 2000国家大地坐标系 (CGCS2000)")
	case strings.Contains(s, "西安") || strings.Contains(s, "1980") || strings.Contains(s, "XIAN"):
		return fmt.Errorf("jzd: 坐标系=%s: Xian 1980 coordinates need official conversion parameters to CGCS2000 and are not supported", v)
	case strings.Contains(s, "北京") || strings.Contains(s, "1954") || strings.Contains(s, "BEIJING"):
		return fmt.Errorf("jzd: 坐标系=%s: Beijing 1954 coordinates need official conversion parameters to CGCS2000 and are not supported", v)
	case strings.Contains(s, "2000") || strings.Contains(s, "CGCS"):
		return nil
	}
	return fmt.Errorf("jzd: 坐标系=%s is not supported; only 2000国家大地坐标系 (CGCS2000) is", v)
}

// leadingInt returns the leading ASCII digits of s after trimming ("3度" → "3").
func leadingInt(s string) string {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}
