package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"villageplan/internal/httpapi"
)

// noRateLimits turns the per-client limits off: these tests send many
// requests from one client on purpose.
var noRateLimits = httpapi.Options{RateLimits: map[string]httpapi.RateLimit{"siting": {}, "download": {}, "write": {}}}

// bodyAnswer is the error body of the siting routes.
type bodyAnswer struct {
	Code          string `json:"code"`
	Description   string `json:"description"`
	DescriptionZH string `json:"description_zh"`
	Field         string `json:"field"`
}

func postBody(t testing.TB, u, ctype string, body io.Reader) (int, bodyAnswer, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var a bodyAnswer
	_ = json.Unmarshal(b, &a)
	return resp.StatusCode, a, b, resp.Header
}

// jzdParcel is a 界址点 file of one 10 m square parcel of the siting
// fixture (zone 42 with prefix), named name.
func jzdParcel(name string) string {
	return "[属性描述]\n坐标系=2000国家大地坐标系\n几度分带=3\n带号=42\n[地块坐标]\n5,0.0100,1," + name + ",面,,,,@\n" +
		"J1,1,4829040.000,42480700.000\nJ2,1,4829040.000,42480710.000\nJ3,1,4829050.000,42480710.000\nJ4,1,4829050.000,42480700.000\nJ1,1,4829040.000,42480700.000\n"
}

// TestSitingBodyRefused: every malformed body of POST /siting/checks and
// POST /desk/preview is a 4xx with the siting error body (code, English
// and Chinese description, the field at fault), never a 500, and nothing
// is stored.
func TestSitingBodyRefused(t *testing.T) {
	ts, count := sitingServerWith(t, noRateLimits)
	site := `"site":` + gkSquare(700, 40, 10) + `,"crs":"EPSG:4551"`
	// The valid forms are accepted, so the refusals below are about what
	// they change.
	for _, c := range []struct{ path, ctype, body string }{
		{"/desk/preview", "application/json", `{` + site + `,"household_id":"H1","village_code":"220112203301","storeys":2,"floor_area_m2":180.5}`},
		{"/desk/preview", "text/plain; charset=utf-8", jzdParcel("鲁家村5号")},
	} {
		if code, _, b, _ := postBody(t, ts.URL+c.path, c.ctype, strings.NewReader(c.body)); code != 200 {
			t.Fatalf("valid %s body = %d %s", c.ctype, code, b)
		}
	}
	stored := count("siting_checks")
	deep := `{` + site + `,"household_id":"H1","x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`
	for _, c := range []struct {
		name, query, ctype, body string
		status                   int
		code, field, want        string
	}{
		{"trailing object", "", "application/json", `{` + site + `}{"household_id":"H2"}`, 400, "InvalidSite", "", "after its JSON value"},
		{"trailing garbage", "", "application/json", `{` + site + `} x`, 400, "InvalidSite", "", "after its JSON value"},
		{"trailing brace", "", "application/json", `{` + site + `}}`, 400, "InvalidSite", "", "after its JSON value"},
		{"cut off", "", "application/json", `{` + site + `,"household_id":"H`, 400, "InvalidSite", "household_id", "not valid JSON"},
		{"NUL escape", "", "application/json", `{` + site + `,"household_id":"H\u0000"}`, 400, "InvalidSite", "household_id", "NUL"},
		{"NUL byte", "", "application/json", `{` + site + `,"household_id":"H` + "\x00" + `"}`, 400, "InvalidSite", "household_id", "not valid JSON"},
		{"invalid UTF-8", "", "application/json", `{` + site + `,"household_id":"H` + "\xff\xfe" + `"}`, 400, "InvalidSite", "household_id", "UTF-8"},
		{"invalid UTF-8 in site", "", "application/json",
			`{"crs":"EPSG:4551","site":{"type":"Feature","properties":{"名称":"` + "\xc3\x28" + `"},"geometry":` + gkSquare(700, 40, 10) + `}}`,
			400, "InvalidSite", "site.properties.名称", "UTF-8"},
		{"NUL in key", "", "application/json", `{"crs":"EPSG:4551","site":{"type":"Feature","properties":{"a\u0000":1},"geometry":` + gkSquare(700, 40, 10) + `}}`,
			400, "InvalidSite", "site.properties.a\x00", "(the key)"},
		{"NUL in crs", "", "application/json", `{"site":` + gkSquare(700, 40, 10) + `,"crs":"EPSG:4551\u0000"}`, 400, "InvalidSite", "crs", "NUL"},
		{"over-long crs", "", "application/json", `{"site":` + gkSquare(700, 40, 10) + `,"crs":"` + strings.Repeat("x", 300) + `"}`, 400, "InvalidSite", "crs", "256"},
		{"over-long household", "", "application/json", `{` + site + `,"household_id":"` + strings.Repeat("户", 22) + `"}`, 400, "InvalidSite", "household_id", "64 bytes"},
		{"village code", "", "application/json", `{` + site + `,"village_code":"22011220330X"}`, 400, "InvalidSite", "village_code", "12-digit"},
		{"negative storeys", "", "application/json", `{` + site + `,"storeys":-1}`, 400, "InvalidSite", "storeys", "-1"},
		{"too many storeys", "", "application/json", `{` + site + `,"storeys":1000000}`, 400, "InvalidSite", "storeys", "9 storeys"},
		{"huge storeys", "", "application/json", `{` + site + `,"storeys":1e308}`, 400, "InvalidSite", "storeys", "an integer"},
		{"fractional storeys", "", "application/json", `{` + site + `,"storeys":1.5}`, 400, "InvalidSite", "storeys", "an integer"},
		{"negative floor area", "", "application/json", `{` + site + `,"floor_area_m2":-1e308}`, 400, "InvalidSite", "floor_area_m2", "m²"},
		{"floor area overflow", "", "application/json", `{` + site + `,"floor_area_m2":1e400}`, 400, "InvalidSite", "floor_area_m2", "finite number"},
		{"floor area as text", "", "application/json", `{` + site + `,"floor_area_m2":"100"}`, 400, "InvalidSite", "floor_area_m2", "string"},
		{"flag as text", "", "application/json", `{` + site + `,"returns_old_homestead":"yes"}`, 400, "InvalidSite", "returns_old_homestead", "true or false"},
		{"unknown field", "", "application/json", `{` + site + `,"colour":"red"}`, 400, "InvalidSite", "colour", "not a field"},
		{"too deep", "", "application/json", deep, 400, "InvalidSite", "x" + strings.Repeat("[0]", 32), "deeper than 32"},
		{"not an object", "", "application/json", `"site"`, 400, "InvalidSite", "", "not valid JSON"},
		{"jzd long label", "", "text/plain", jzdParcel(strings.Repeat("村", 90)), 400, "InvalidSite", "label", "256 bytes"},
		{"jzd NUL label", "", "text/plain", jzdParcel("鲁家\x00村"), 400, "InvalidSite", "label", "NUL"},
		{"jzd flag", "?returns_old_homestead=maybe", "text/plain", jzdParcel("鲁家村5号"), 400, "InvalidSite", "returns_old_homestead", "boolean"},
		{"jzd village code", "?village_code=1", "text/plain", jzdParcel("鲁家村5号"), 400, "InvalidSite", "village_code", "12-digit"},
		{"jzd long household", "?household_id=" + strings.Repeat("9", 65), "text/plain", jzdParcel("鲁家村5号"), 400, "InvalidSite", "household_id", "64 bytes"},
		{"jzd NUL household", "?household_id=H%00", "text/plain", jzdParcel("鲁家村5号"), 400, "InvalidParameterValue", "", "NUL"},
		{"junk content type", "", ";;;", `{` + site + `}`, 400, "InvalidSite", "Content-Type", "Content-Type"},
		{"junk content type 2", "", "text/\xff", `{` + site + `}`, 400, "InvalidSite", "Content-Type", "Content-Type"},
		{"other content type", "", "image/png", `{` + site + `}`, 415, "UnsupportedMediaType", "Content-Type", "text/plain"},
	} {
		for _, path := range []string{"/siting/checks", "/desk/preview"} {
			code, a, b, hdr := postBody(t, ts.URL+path+c.query, c.ctype, strings.NewReader(c.body))
			if code != c.status || a.Code != c.code || a.Field != c.field || !strings.Contains(a.Description, c.want) ||
				!strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
				t.Errorf("%s %s: %d %s\nwant %d %s field %q mentioning %q", c.name, path, code, b, c.status, c.code, c.field, c.want)
				continue
			}
			if c.code != "InvalidParameterValue" && (a.DescriptionZH == "" || a.DescriptionZH == a.Description) {
				t.Errorf("%s %s: no Chinese description: %s", c.name, path, b)
			}
		}
	}
	if n := count("siting_checks"); n != stored {
		t.Errorf("refused requests stored %d checks", n-stored)
	}
}

// TestSitingBodyTooLarge: a body over MaxSiteBody is 413 with the JSON
// body naming the limit, whether the client declares its length or sends
// it chunked, and nothing is stored.
func TestSitingBodyTooLarge(t *testing.T) {
	ts, count := sitingServerWith(t, noRateLimits)
	stored := count("siting_checks")
	big := bytes.Repeat([]byte(" "), httpapi.MaxSiteBody+1)
	copy(big, `{"site":`+gkSquare(700, 40, 10)+`,"crs":"EPSG:4551"}`)
	// A new reader for every request: the transport may still be reading
	// the previous one when the early 413 arrives.
	for _, c := range []struct {
		name string
		body func() io.Reader
	}{
		{"with Content-Length", func() io.Reader { return bytes.NewReader(big) }},
		{"chunked", func() io.Reader { return io.MultiReader(bytes.NewReader(big)) }}, // not a *bytes.Reader: no Content-Length
	} {
		for _, path := range []string{"/siting/checks", "/desk/preview"} {
			code, a, b, _ := postBody(t, ts.URL+path, "application/json", c.body())
			if code != 413 || a.Code != "TooLarge" || !strings.Contains(a.Description, fmt.Sprint(httpapi.MaxSiteBody)) || a.DescriptionZH == "" {
				t.Errorf("%s %s: %d %s", c.name, path, code, b)
			}
		}
	}
	// Exactly at the limit is read (and then judged on its content).
	code, _, b, _ := postBody(t, ts.URL+"/desk/preview", "application/json", bytes.NewReader(big[:httpapi.MaxSiteBody]))
	if code != 200 {
		t.Errorf("a body of exactly %d bytes = %d %s", httpapi.MaxSiteBody, code, b)
	}
	if n := count("siting_checks"); n != stored {
		t.Errorf("refused requests stored %d checks", n-stored)
	}
}

// TestJunkHeadersNever500: the request headers that handlers read
// (Accept, Accept-Encoding, If-None-Match, Content-Type) with junk values
// get a normal answer or a JSON 4xx, never a 5xx.
func TestJunkHeadersNever500(t *testing.T) {
	ts, _ := sitingServerWith(t, noRateLimits)
	junk := []string{"", "\xff\xfe", ";;;", "*/*;q=abc", "application/geo+json;q=1e999", "text/html;q=-1, application/json;q=NaN",
		`"`, `W/`, `W/"x`, `*`, strings.Repeat(`"a",`, 2000), "gzip;q=NaN", "gzip;q=1e999", "*;q=-1, gzip;q=0", "identity;q=0, *;q=0",
		"\t", strings.Repeat("x", 6000)}
	gets := []string{"/collections/homesteads/items?limit=2", "/collections/homesteads/items?f=html&limit=2", "/collections/villages",
		"/collections", "/tiles/map/14/13917/6022.mvt", "/tiles/villages/14/13917/6022.mvt", "/tiles/map.json", "/styles/default.json",
		"/map/views/streetlight-coverage.geojson", "/siting/ruleset", "/", "/conformance", "/readyz"}
	client := &http.Client{Timeout: time.Minute}
	n := 0
	for _, h := range []string{"Accept", "Accept-Encoding", "If-None-Match", "Content-Type"} {
		for _, v := range junk {
			for _, p := range gets {
				req, _ := http.NewRequest(http.MethodGet, ts.URL+p, nil)
				req.Header.Set(h, v)
				resp, err := client.Do(req)
				if err != nil {
					t.Fatalf("%s: %q: %v", p, v, err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				n++
				if resp.StatusCode >= 500 {
					t.Errorf("GET %s with %s %q = %d %.200s", p, h, v, resp.StatusCode, b)
				}
				if resp.StatusCode >= 400 && !json.Valid(b) {
					t.Errorf("GET %s with %s %q = %d without a JSON body: %.200s", p, h, v, resp.StatusCode, b)
				}
			}
			code, _, b, _ := postBody(t, ts.URL+"/desk/preview", v, strings.NewReader(`{"site":`+gkSquare(700, 40, 10)+`,"crs":"EPSG:4551"}`))
			if code >= 500 || code >= 400 && !json.Valid(b) {
				t.Errorf("POST /desk/preview with Content-Type %q = %d %.200s", v, code, b)
			}
		}
	}
	// A NUL byte or a line break in a header value never reaches a
	// handler: net/http itself answers 400. The Go client refuses to send
	// such a header, so this one goes over a raw connection.
	for _, v := range []string{"a\x00b", "a\x7fb"} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(ts.URL)
		fmt.Fprintf(conn, "GET /collections HTTP/1.1\r\nHost: %s\r\nIf-None-Match: %s\r\nConnection: close\r\n\r\n", u.Host, v)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		conn.Close()
		if resp.StatusCode != 400 {
			t.Errorf("If-None-Match %q = %d, want net/http's 400", v, resp.StatusCode)
		}
	}
	t.Logf("%d requests with junk headers, none 5xx", n)
}

// FuzzSitingBody posts arbitrary bodies, Content-Types and query strings
// to POST /siting/checks and /desk/preview of a real PostGIS: the answer
// is 200/201, or a 4xx with a JSON error body (code and description; the
// siting routes' own errors also in Chinese), never a 5xx; a refused
// request and every preview store nothing. The seeds run with every
// `go test`; `make fuzz` explores.
func FuzzSitingBody(f *testing.F) {
	site := `"site":` + gkSquare(700, 40, 10) + `,"crs":"EPSG:4551"`
	for _, s := range []string{
		`{` + site + `,"household_id":"H1","village_code":"220112203301","storeys":2,"floor_area_m2":180.5}`,
		`{` + site + `}{}`, `{` + site + `,"household_id":"H\u0000"}`, `{` + site + `,"household_id":"` + "\xff" + `"}`,
		`{` + site + `,"storeys":-1,"floor_area_m2":-1e308}`, `{"site":{"type":"Feature","properties":{"a":"b"},"geometry":` + gkSquare(700, 40, 10) + `},"crs":"EPSG:4551"}`,
		`{"site":{"type":"Polygon","coordinates":[[[125.7502,43.6015],[125.7503,43.6015],[125.7503,43.6016],[125.7502,43.6015]]]}}`,
		`{"site":{"type":"Polygon","coordinates":[[[480700,4829100],[480720,4829120],[480720,4829100],[480700,4829120],[480700,4829100]]]},"crs":"EPSG:4551"}`,
		`{"site":null}`, `[]`, `{"site":` + strings.Repeat("[", 40), "",
	} {
		f.Add([]byte(s), uint8(0), "", false)
		f.Add([]byte(s), uint8(1), "", true)
	}
	for _, q := range []string{"", "household_id=H1&returns_old_homestead=true", "rebuild_in_place=2", "village_code=%FF", "household_id=" + strings.Repeat("9", 65)} {
		f.Add([]byte(jzdParcel("鲁家村5号")), uint8(2), q, false)
		f.Add([]byte(jzdParcel("鲁家村5号")), uint8(2), q, true)
	}
	f.Add([]byte(jzdParcel("鲁家\x00村")), uint8(2), "", false)
	f.Add([]byte("x"), uint8(4), "", false)
	ts, count := sitingServerWith(f, noRateLimits)
	ctypes := []string{"application/json", "application/geo+json; charset=utf-8", "text/plain", "", "image/png", ";;;", "text/plain; charset=gbk"}
	f.Fuzz(func(t *testing.T, body []byte, ctype uint8, query string, preview bool) {
		path := "/siting/checks"
		if preview {
			path = "/desk/preview"
		}
		u := ts.URL + path
		if query != "" {
			u += "?" + query
		}
		if _, err := url.Parse(u); err != nil || strings.IndexFunc(query, func(r rune) bool { return r <= ' ' || r >= 0x7f }) >= 0 {
			return // not a request line a client can send (net/http itself answers 400 to it)
		}
		before := count("siting_checks")
		code, a, b, hdr := postBody(t, u, ctypes[int(ctype)%len(ctypes)], bytes.NewReader(body))
		after := count("siting_checks")
		switch {
		case code == 200 && preview, code == 201 && !preview:
		case code >= 400 && code < 500:
			if !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") || a.Code == "" || a.Description == "" {
				t.Fatalf("%s %q: %d without the JSON error body: %s", path, body, code, b)
			}
			if a.Code != "InvalidParameterValue" && a.DescriptionZH == "" {
				t.Fatalf("%s %q: %d without a Chinese description: %s", path, body, code, b)
			}
		default:
			t.Fatalf("%s %q (Content-Type %q, query %q) = %d %s", path, body, ctypes[int(ctype)%len(ctypes)], query, code, b)
		}
		if stored := after - before; (code != 201 && stored != 0) || (code == 201 && stored < 1) {
			t.Fatalf("%s %q = %d and stored %d checks", path, body, code, stored)
		}
	})
}
