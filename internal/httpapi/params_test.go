package httpapi_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"villageplan/internal/auth"
	"villageplan/internal/httpapi"
)

// TestParamsRefused: NUL bytes, invalid UTF-8, over-long values, bad
// percent-encoding and too many values in any query parameter or path
// variable give a 400 JSON body naming the parameter, on every kind of
// route; values at the limit pass the check.
func TestParamsRefused(t *testing.T) {
	ts, pool := homesteadFixture(t)
	// The check routes need a desk account: the parameter check runs
	// after the permission check.
	desk := map[string]string{"Authorization": bearerFor(t, pool, "window", auth.Grant{Role: auth.TownshipWindow})}
	long := strings.Repeat("a", httpapi.MaxParamBytes+1)
	longFilter := "zl = '" + strings.Repeat("大", (httpapi.MaxFilterParamBytes-7)/3+1) + "'"
	many := strings.Repeat("zl=a&", httpapi.MaxQueryParams+1)
	cases := []struct{ path, param, what string }{
		{"/collections/homesteads/items?zl=a%00b", "parameter zl", "NUL"},
		{"/collections/homesteads/items?filter=zl%3D%27%00%27", "parameter filter", "NUL"},
		{"/collections/homesteads/items?filter=zl%3D%27%FF%27", "parameter filter", "UTF-8"},
		{"/collections/homesteads/items?f=%C3", "parameter f", "UTF-8"},
		{"/collections/homesteads/items?bbox-crs=" + long, "parameter bbox-crs", "8192"},
		{"/collections/homesteads/items?filter=" + url.QueryEscape(longFilter), "parameter filter", "16384"},
		{"/collections/homesteads/items?" + many, "parameter query string", "more than the limit of 100"},
		{"/collections/homesteads/items?a%00b=1", `parameter "a\x00b"`, "the parameter name contains a NUL"},
		{"/collections/homesteads/items?zl=%zz", "parameter query string", "percent-encoding"},
		{"/collections/home%00steads/items", "parameter path variable collectionId", "NUL"},
		{"/collections/homesteads/items/1%FF", "parameter path variable featureId", "UTF-8"},
		{"/collections/homesteads/queryables?x=%00", "parameter x", "NUL"},
		{"/siting/checks/%00", "parameter path variable id", "NUL"},
		{"/tiles/homesteads/14/1%00/2.mvt", "parameter path variable x", "NUL"},
		{"/tiles/homesteads.json?status=%FE", "parameter status", "UTF-8"},
		{"/map/villages?q=%00", "parameter q", "NUL"},
		{"/healthz?x=%00", "parameter x", "NUL"},
		{"/web/%FF.js", "parameter path", "UTF-8"},
	}
	for _, c := range cases {
		var hdr map[string]string
		if strings.HasPrefix(c.path, "/siting/") {
			hdr = desk
		}
		resp, b := fetch(t, "GET", ts.URL+c.path, hdr)
		var body struct{ Code, Description string }
		if resp.StatusCode != 400 || json.Unmarshal(b, &body) != nil || body.Code != "InvalidParameterValue" ||
			!strings.Contains(body.Description, c.param) || !strings.Contains(body.Description, c.what) || !strings.Contains(body.Description, "参数") {
			t.Errorf("GET %.80s = %d %s, want 400 naming %s (%s)", c.path, resp.StatusCode, b, c.param, c.what)
		}
	}
	// At the limits: the check lets them through to the handler.
	okFilter := "zl = '" + strings.Repeat("a", httpapi.MaxFilterParamBytes-7) + "'"
	if len(okFilter) != httpapi.MaxFilterParamBytes {
		t.Fatalf("filter of %d bytes", len(okFilter))
	}
	if got := items(t, ts.URL+"/collections/homesteads/items?filter="+url.QueryEscape(okFilter)); got.NumberReturned != 0 {
		t.Errorf("16 KiB filter: %d features", got.NumberReturned)
	}
	if got := items(t, ts.URL+"/collections/homesteads/items?zl="+strings.Repeat("a", httpapi.MaxParamBytes)); got.NumberReturned != 0 {
		t.Errorf("8 KiB value: %d features", got.NumberReturned)
	}
	if got := items(t, ts.URL+"/collections/homesteads/items?"+strings.Repeat("zl=%E5%A4%A7%E8%90%A5%E6%9D%911%E5%8F%B7&", httpapi.MaxQueryParams-1)); got.NumberReturned != 1 {
		t.Errorf("%d values of zl: %d features", httpapi.MaxQueryParams-1, got.NumberReturned)
	}
}
