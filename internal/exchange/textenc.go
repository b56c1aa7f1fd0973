// Package exchange holds what the importer and the exporter of villageplan
// share about the files that Chinese land administration exchanges: text
// encodings (UTF-8 and GBK/GB18030, the .cpg sidecar and the DBF language
// driver byte) and the correspondence between the fields of a 界址点坐标
// parcel line and the standard field codes of the layer catalog.
//
// Nothing here touches geometry or the database.
package exchange

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// Text encodings understood by import and export. GBK is what Windows GIS
// and survey tools of mainland China write (code page 936); GB18030 is its
// superset and is used to read files whose encoding was only detected.
const (
	UTF8    = "UTF-8"
	GBK     = "GBK"
	GB18030 = "GB18030"
)

// NormalizeEncoding returns UTF8, GBK or GB18030 for the spellings found
// in .cpg files, DBF headers and command lines ("utf8", "UTF-8", "65001",
// "GBK", "CP936", "936", "GB2312", "GB18030", "54936"). The empty string
// gives "" (not given). Errors: any other name, quoted with the allowed ones.
func NormalizeEncoding(name string) (string, error) {
	n := strings.ToUpper(strings.TrimSpace(name))
	n = strings.NewReplacer("-", "", "_", "", " ", "").Replace(n)
	switch n {
	case "":
		return "", nil
	case "UTF8", "65001", "UTF8BOM":
		return UTF8, nil
	case "GBK", "CP936", "936", "MS936", "WINDOWS936", "GB2312", "EUCCN", "ANSI936":
		return GBK, nil
	case "GB18030", "54936":
		return GB18030, nil
	}
	return "", fmt.Errorf("unknown text encoding %q: use UTF-8 or GBK (also accepted: CP936, 936, GB2312, GB18030)", name)
}

// Decode converts bytes in encoding enc (UTF8, GBK or GB18030) to a Go
// (UTF-8) string. GBK input is decoded as GB18030, its superset, so that a
// file labelled GBK but written by a GB18030 tool still reads. Errors: a
// byte sequence that is not valid in enc (for UTF-8 the invalid bytes are an
// error, never silently replaced).
func Decode(enc string, b []byte) (string, error) {
	switch enc {
	case UTF8, "":
		if !utf8.Valid(b) {
			return "", fmt.Errorf("bytes %q are not valid UTF-8", truncateBytes(b))
		}
		return string(b), nil
	case GBK, GB18030:
		if isASCII(b) {
			return string(b), nil
		}
		out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
		if err != nil {
			return "", fmt.Errorf("bytes %q are not valid %s: %w", truncateBytes(b), enc, err)
		}
		return string(out), nil
	}
	return "", fmt.Errorf("unknown text encoding %q", enc)
}

// Encode converts a Go string to encoding enc (UTF8, GBK or GB18030).
// Errors: a character that GBK cannot represent (GB18030 can represent all
// of Unicode).
func Encode(enc string, s string) ([]byte, error) {
	switch enc {
	case UTF8, "":
		return []byte(s), nil
	case GBK:
		if isASCII([]byte(s)) {
			return []byte(s), nil
		}
		b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
		if err != nil {
			return nil, fmt.Errorf("%q cannot be written in GBK (export with --encoding UTF-8): %w", s, err)
		}
		return b, nil
	case GB18030:
		return simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
	}
	return nil, fmt.Errorf("unknown text encoding %q", enc)
}

// Detect guesses the encoding of text whose producer did not say: UTF8 when
// every sample is valid UTF-8 (pure ASCII included), otherwise GB18030 (of
// which GBK is a subset). A GBK string of two or more Chinese characters is
// almost never valid UTF-8, so the guess is reliable on real names; it is
// reported to the user so that a wrong guess can be overridden.
func Detect(samples ...[]byte) string {
	for _, s := range samples {
		if !utf8.Valid(s) {
			return GB18030
		}
	}
	return UTF8
}

// FromCPG reads the content of a shapefile .cpg sidecar ("UTF-8", "GBK",
// "936", "CP936", "GB2312", "GB18030"…). ok is false for a code page that
// is not a Chinese or Unicode one (the caller then falls back to the next
// source of the encoding and says so).
func FromCPG(content []byte) (enc string, ok bool) {
	s := strings.TrimSpace(string(bytes.TrimPrefix(content, []byte("\xef\xbb\xbf"))))
	e, err := NormalizeEncoding(s)
	if err != nil || e == "" {
		return "", false
	}
	return e, true
}

// CPG returns the .cpg content written for enc: "UTF-8" or "GBK". Both are
// understood by GDAL (which passes the name to iconv) and QGIS; ArcGIS
// reads "UTF-8" and, with the DBF language driver 0x4D that the exporter
// also writes, GBK.
func CPG(enc string) string {
	if enc == GBK || enc == GB18030 {
		return "GBK"
	}
	return "UTF-8"
}

// DBF language-driver IDs (byte 29 of the DBF header) for Chinese code pages.
const (
	// LDIDGBK is code page 936 (GBK, PRC), written by ArcGIS for GBK data.
	LDIDGBK byte = 0x4D
	// LDIDGBKAlt is the other ID listed for code page 936 in the dBASE
	// tables (used by some FoxPro writers).
	LDIDGBKAlt byte = 0x7A
)

// FromLDID maps a DBF language-driver byte to an encoding. Only the code
// page 936 IDs (0x4D, 0x7A) are mapped: other IDs name Western code pages
// that cannot hold Chinese text, and 0 means "not set".
func FromLDID(b byte) (enc string, ok bool) {
	if b == LDIDGBK || b == LDIDGBKAlt {
		return GBK, true
	}
	return "", false
}

// FitBytes cuts s to at most n bytes in encoding enc without splitting a
// character, and returns the encoded bytes and whether anything was cut.
func FitBytes(enc, s string, n int) ([]byte, bool, error) {
	b, err := Encode(enc, s)
	if err != nil {
		return nil, false, err
	}
	if len(b) <= n {
		return b, false, nil
	}
	runes := []rune(s)
	for len(runes) > 0 {
		runes = runes[:len(runes)-1]
		b, err = Encode(enc, string(runes))
		if err != nil {
			return nil, false, err
		}
		if len(b) <= n {
			return b, true, nil
		}
	}
	return nil, true, nil
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

func truncateBytes(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}

// InvalidUTF8At returns the byte offset of the first byte of s that does
// not begin a valid UTF-8 sequence, or -1 when s is valid UTF-8. Error
// messages use it to say where a value stops being text.
func InvalidUTF8At(s string) int {
	if utf8.ValidString(s) {
		return -1
	}
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && w == 1 {
			return i
		}
		i += w
	}
	return -1
}
