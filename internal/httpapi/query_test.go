package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestPostQuery: a filter longer than a URL allows (an IN list of 2,000
// parcel codes, about 44 KiB) is refused on GET and answered on POST
// /collections/{id}/query, as a form or as CQL2-JSON, anonymously; other
// media types, downloads and oversized bodies are 4xx with JSON bodies.
func TestPostQuery(t *testing.T) {
	ts, _ := homesteadFixture(t)
	codes := []string{"'220112203300JC00002'"}
	for i := 0; i < 2000; i++ {
		codes = append(codes, "'220112203300JX"+strings.Repeat("9", 5)+string(rune('A'+i%26))+"'")
	}
	filter := "zddm IN (" + strings.Join(codes, ", ") + ")"
	if len(filter) < 20<<10 {
		t.Fatalf("filter of %d bytes is not longer than a GET allows", len(filter))
	}
	if resp, body := fetch(t, "GET", ts.URL+"/collections/homesteads/items?filter="+url.QueryEscape(filter), nil); resp.StatusCode != 400 || !strings.Contains(string(body), "filter") {
		t.Errorf("GET with a %d-byte filter: %d %s", len(filter), resp.StatusCode, body)
	}
	post := func(ct, body string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("POST", ts.URL+"/collections/homesteads/query?sortby=zl", strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b := new(strings.Builder)
		_, _ = io_copy(b, resp)
		return resp, []byte(b.String())
	}
	zls := func(b []byte) string {
		var out fc
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%v: %s", err, b)
		}
		var got []string
		for _, f := range out.Features {
			got = append(got, f.Properties["zl"].(string))
		}
		return strings.Join(got, ",")
	}
	form := url.Values{"filter": {filter}, "limit": {"10"}}
	if resp, body := post("application/x-www-form-urlencoded", form.Encode()); resp.StatusCode != 200 || zls(body) != "大营村2号" {
		t.Errorf("POST form query: %d %.300s", resp.StatusCode, body)
	}
	if resp, body := post("application/x-www-form-urlencoded", url.Values{"filter": {"status = '已登记'"}}.Encode()); resp.StatusCode != 200 || zls(body) != "大营村1号,大营村3号" {
		t.Errorf("POST form query with sortby from the URL: %d %.300s", resp.StatusCode, body)
	}
	cj := `{"op":"=","args":[{"property":"status"},"闲置"]}`
	if resp, body := post("application/query-cql-json", cj); resp.StatusCode != 200 || zls(body) != "大营村2号" {
		t.Errorf("POST CQL2-JSON query: %d %.300s", resp.StatusCode, body)
	}
	for _, c := range []struct {
		ct, body string
		code     int
		want     string
	}{
		{"text/plain", "status = '闲置'", 415, "x-www-form-urlencoded"},
		{"application/x-www-form-urlencoded", "f=gpkg&filter=status%20%3D%20%27%E9%97%B2%E7%BD%AE%27", 400, "GET"},
		{"application/x-www-form-urlencoded", "filter=nope%20%3D%201", 400, "nope"},
		{"application/x-www-form-urlencoded", "filter=%zz", 400, "form"},
		{"application/query-cql-json", `{"op":"bogus","args":[]}`, 400, "unsupported op"},
		{"application/x-www-form-urlencoded", "filter=" + strings.Repeat("x", 1<<20), 413, "1 MiB"},
	} {
		resp, body := post(c.ct, c.body)
		if resp.StatusCode != c.code || !strings.Contains(string(body), c.want) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("POST %s %.40q: %d %.200s, want %d mentioning %q", c.ct, c.body, resp.StatusCode, body, c.code, c.want)
		}
	}
	// Nothing was written: the layer still has its three parcels.
	if all := items(t, ts.URL+"/collections/homesteads/items"); all.NumberReturned != 3 {
		t.Errorf("after the queries: %d features", all.NumberReturned)
	}
}

func io_copy(b *strings.Builder, resp *http.Response) (int64, error) {
	buf := make([]byte, 32<<10)
	var n int64
	for {
		k, err := resp.Body.Read(buf)
		b.Write(buf[:k])
		n += int64(k)
		if err != nil {
			return n, nil
		}
	}
}
