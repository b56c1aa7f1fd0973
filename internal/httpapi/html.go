package httpapi

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"villageplan/internal/features"
	"villageplan/layers"
)

//go:embed templates/*.html
var templateFiles embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"deref": func(p *float64) float64 { return *p },
	// svgattr turns ST_AsSVG point output `cx="…" cy="…"` into attributes.
	"svgattr": func(s string) template.HTMLAttr {
		var b strings.Builder
		for _, part := range strings.Fields(s) {
			k, v, ok := strings.Cut(part, "=")
			if !ok || (k != "cx" && k != "cy") {
				continue
			}
			v = strings.Trim(v, `"`)
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				continue
			}
			fmt.Fprintf(&b, `%s="%s" `, k, v)
		}
		return template.HTMLAttr(b.String())
	},
}).ParseFS(templateFiles, "templates/*.html"))

// pageData is what every HTML page template reads.
type pageData struct {
	Title     string
	Base      string
	JSONQuery string
	Layer     *layers.Layer
	Sample    bool
	Coverage  *coverageSummary
	Classes   []string
	Layers    []*layers.Layer
	// items / item pages
	Fields         []layers.Field
	Rows           []htmlRow
	Row            htmlRow
	From, To       int
	Matched        int64
	Next, Prev     string
	Map            *features.SVGMap
	Fill           string
	Stroke, Radius float64
	// Links are the page's alternates and downloads (links.go), listed
	// at its foot and as <link rel="alternate"> in its head.
	Links []link
}

type htmlRow struct {
	ID     int64
	Values []string
}

func renderHTML(w http.ResponseWriter, name string, d *pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_ = pages.ExecuteTemplate(w, name, d)
}

// jsonQuery returns the request's query string with f=json.
func jsonQuery(r *http.Request) string {
	v := r.URL.Query()
	v.Set("f", "json")
	return v.Encode()
}

// displayValue formats a property for people: code-list values get their
// Chinese name (DLBM 0103 → "0103 旱地"), numbers their unit.
func displayValue(f layers.Field, v any) string {
	if v == nil {
		return ""
	}
	s := fmt.Sprint(v)
	if x, ok := v.(float64); ok {
		s = strconv.FormatFloat(x, 'f', -1, 64)
	}
	if f.CodeList != "" {
		if cl, ok := layers.CodeListByID(f.CodeList); ok {
			if name := cl.Name(s); name != s {
				return s + " " + name
			}
		}
	}
	if f.Unit != "" {
		return s + " " + f.Unit
	}
	return s
}

func rowFrom(raw []byte, fields []layers.Field) htmlRow {
	var feat struct {
		ID         int64          `json:"id"`
		Properties map[string]any `json:"properties"`
	}
	_ = json.Unmarshal(raw, &feat)
	r := htmlRow{ID: feat.ID}
	for _, f := range fields {
		r.Values = append(r.Values, displayValue(f, feat.Properties[f.Name]))
	}
	return r
}

func mapStyle(l *layers.Layer, d *pageData) {
	d.Fill = l.Style.Color
	if d.Fill == "" {
		d.Fill = "#888"
	}
	d.Stroke = 1
	if d.Map != nil && d.Map.Width > 0 {
		d.Radius = d.Map.Width / 120
	}
}

func (fr *featureRoutes) itemsHTML(w http.ResponseWriter, r *http.Request, l *layers.Layer, q *features.Query, page *features.Page, next, prev string) {
	m, err := fr.svc.ItemsSVG(r.Context(), q)
	if err != nil {
		fr.s.serverError(w, r, err)
		return
	}
	fields := q.Properties
	if fields == nil {
		fields = features.VisibleFields(l, false)
	}
	d := &pageData{Title: l.TitleZH, Base: fr.s.baseURL(r), JSONQuery: jsonQuery(r), Layer: l, Fields: fields,
		From: q.Offset + 1, To: q.Offset + len(page.Features), Matched: page.Matched, Map: m,
		Next: htmlLink(next), Prev: htmlLink(prev)}
	for _, raw := range page.Features {
		d.Rows = append(d.Rows, rowFrom(raw, fields))
	}
	mapStyle(l, d)
	d.Links = itemsPageLinks(fr.s.baseURL(r), l, r.URL.Query(), "html")
	renderHTML(w, "items", d)
}

// htmlLink turns a JSON paging link into its HTML twin.
func htmlLink(href string) string {
	if href == "" {
		return ""
	}
	u, err := url.Parse(href)
	if err != nil {
		return ""
	}
	v := u.Query()
	v.Set("f", "html")
	u.RawQuery = v.Encode()
	return u.String()
}

func (fr *featureRoutes) itemHTML(w http.ResponseWriter, r *http.Request, l *layers.Layer, id int64, raw []byte) {
	q := &features.Query{Layer: l, Limit: 1, Where: "t.id = $W1", WhereArgs: []any{id}}
	m, err := fr.svc.ItemsSVG(r.Context(), q)
	if err != nil {
		fr.s.serverError(w, r, err)
		return
	}
	fields := features.VisibleFields(l, false)
	d := &pageData{Title: l.TitleZH, Base: fr.s.baseURL(r), JSONQuery: jsonQuery(r), Layer: l, Fields: fields, Row: rowFrom(raw, fields), Map: m}
	mapStyle(l, d)
	d.Links = itemPageLinks(fr.s.baseURL(r), l, strconv.FormatInt(id, 10), r.URL.Query(), "html")
	renderHTML(w, "item", d)
}
