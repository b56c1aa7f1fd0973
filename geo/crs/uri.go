package crs

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseURI identifies a CRS written in any of the forms clients send:
//
//	EPSG:4530                                   (also lower case)
//	http://www.opengis.net/def/crs/EPSG/0/4530  (https and any version segment too)
//	urn:ogc:def:crs:EPSG::4530                  (also urn:ogc:def:crs:EPSG:9.9:4530)
//	[EPSG:4530]                                 (safe CURIE)
//	http://www.opengis.net/def/crs/OGC/1.3/CRS84, urn:ogc:def:crs:OGC:1.3:CRS84,
//	OGC:CRS84, CRS84                            → CRS84()
//
// Surrounding spaces are ignored. Errors: a form not listed above, a code
// that is not a positive integer, or a code outside the supported set
// (see Lookup); the message quotes the input.
func ParseURI(s string) (CRS, error) {
	in := strings.TrimSpace(s)
	v := in
	if strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
		v = v[1 : len(v)-1]
	}
	lower := strings.ToLower(v)

	var auth, code string
	switch {
	case strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://"):
		rest := lower[strings.Index(lower, "://")+3:]
		const host = "www.opengis.net/def/crs/"
		if !strings.HasPrefix(rest, host) {
			return CRS{}, fmt.Errorf("crs: %q is not an OGC CRS URI (http://www.opengis.net/def/crs/...)", in)
		}
		parts := strings.Split(strings.TrimSuffix(rest[len(host):], "/"), "/")
		if len(parts) != 3 {
			return CRS{}, fmt.Errorf("crs: %q: want http://www.opengis.net/def/crs/{authority}/{version}/{code}", in)
		}
		auth, code = parts[0], parts[2]
	case strings.HasPrefix(lower, "urn:ogc:def:crs:"):
		parts := strings.Split(lower[len("urn:ogc:def:crs:"):], ":")
		if len(parts) != 3 {
			return CRS{}, fmt.Errorf("crs: %q: want urn:ogc:def:crs:{authority}:{version}:{code}", in)
		}
		auth, code = parts[0], parts[2]
	case lower == "crs84":
		auth, code = "ogc", "crs84"
	default:
		i := strings.IndexByte(lower, ':')
		if i < 0 {
			return CRS{}, fmt.Errorf("crs: %q is not a CRS identifier; write EPSG:N or an OGC URI", in)
		}
		auth, code = lower[:i], lower[i+1:]
	}

	switch auth {
	case "ogc":
		if code == "crs84" {
			return CRS84(), nil
		}
		return CRS{}, fmt.Errorf("crs: %q: only OGC CRS84 is supported from the OGC authority", in)
	case "epsg":
		n, err := strconv.Atoi(code)
		if err != nil || n <= 0 {
			return CRS{}, fmt.Errorf("crs: %q: EPSG code %q is not a positive integer", in, code)
		}
		c, ok := Lookup(n)
		if !ok {
			return CRS{}, fmt.Errorf("crs: %q: EPSG:%d is not supported (supported: 4326, 4490, 3857, CGCS2000 Gauss-Krüger 4491–4554)", in, n)
		}
		return c, nil
	}
	return CRS{}, fmt.Errorf("crs: %q: authority %q is not supported; use EPSG", in, auth)
}
