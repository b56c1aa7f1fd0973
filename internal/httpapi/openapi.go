package httpapi

import (
	"net/http"
	"sort"

	"villageplan/internal/features"
)

// openAPI serves an OpenAPI 3.0 definition generated from the catalog: one
// items and one feature path per layer, with its queryable properties as
// query parameters.
func (fr *featureRoutes) openAPI(w http.ResponseWriter, r *http.Request) {
	format := wantsFormat(w, r, "json", "html")
	if format == "" {
		return
	}
	errResp := map[string]any{"description": "error (OGC exception: code, description)",
		"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/exception"}}}}
	geojson := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{"application/geo+json": map[string]any{"schema": map[string]any{"type": "object"}}}}
	}
	jsonOK := map[string]any{"description": "OK", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}}
	simple := func(summary string) map[string]any {
		return map[string]any{"get": map[string]any{"summary": summary, "responses": map[string]any{"200": jsonOK, "406": errResp, "500": errResp}}}
	}
	paths := map[string]any{
		"/":            simple("landing page"),
		"/conformance": simple("conformance classes"),
		"/api":         simple("this OpenAPI definition"),
		"/collections": simple("the layers"),
	}
	for _, l := range fr.s.catalog.Layers() {
		base := "/collections/" + l.ID
		params := []any{
			map[string]any{"$ref": "#/components/parameters/bbox"}, map[string]any{"$ref": "#/components/parameters/bbox-crs"},
			map[string]any{"$ref": "#/components/parameters/limit"}, map[string]any{"$ref": "#/components/parameters/offset"},
			map[string]any{"$ref": "#/components/parameters/crs"}, map[string]any{"$ref": "#/components/parameters/f"},
			map[string]any{"name": "properties", "in": "query", "style": "form", "explode": false,
				"description": "comma-separated properties to return", "schema": map[string]any{"type": "array", "items": map[string]any{"type": "string"}}},
			map[string]any{"name": "sortby", "in": "query", "style": "form", "explode": false,
				"description": "comma-separated properties, prefix - for descending", "schema": map[string]any{"type": "array", "items": map[string]any{"type": "string"}}},
		}
		for _, f := range features.VisibleFields(l, false) {
			params = append(params, map[string]any{"name": f.Name, "in": "query", "required": false,
				"description": "equals " + f.TitleZH + " / " + f.TitleEN, "schema": fieldSchema(f)})
		}
		paths[base] = simple(l.TitleZH + " " + l.TitleEN)
		paths[base+"/queryables"] = simple("queryables of " + l.ID)
		paths[base+"/coverage"] = simple("coverage of " + l.ID + ": where its data is complete (GeoJSON Feature, CRS84; 404 when none)")
		paths[base+"/items"] = map[string]any{"get": map[string]any{
			"summary": "features of " + l.TitleZH + " " + l.TitleEN, "operationId": "getItems_" + l.ID, "parameters": params,
			"responses": map[string]any{"200": geojson("a page of features"), "400": errResp, "404": errResp, "406": errResp, "500": errResp}}}
		paths[base+"/items/{featureId}"] = map[string]any{"get": map[string]any{
			"summary": "one feature of " + l.ID, "operationId": "getItem_" + l.ID,
			"parameters": []any{map[string]any{"name": "featureId", "in": "path", "required": true, "schema": map[string]any{"type": "integer"}},
				map[string]any{"$ref": "#/components/parameters/crs"}, map[string]any{"$ref": "#/components/parameters/f"}},
			"responses": map[string]any{"200": geojson("the feature"), "400": errResp, "404": errResp, "500": errResp}}}
		addEditOperations(paths, l.ID, errResp)
	}
	addChangesetPaths(paths, errResp)
	doc := map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "villageplan — 双营子回族乡村庄规划一张图", "version": "1",
			"description": "OGC API – Features over the township's planning layers (stored in CGCS2000, EPSG:4490)."},
		"servers": []any{map[string]any{"url": fr.s.baseURL(r)}},
		"paths":   paths,
		"components": map[string]any{
			"schemas": map[string]any{"exception": map[string]any{"type": "object", "required": []string{"code"},
				"properties": map[string]any{"code": map[string]any{"type": "string"}, "description": map[string]any{"type": "string"}}}},
			"parameters": map[string]any{
				"bbox": map[string]any{"name": "bbox", "in": "query", "style": "form", "explode": false,
					"description": "minimum and maximum of axis 1 and 2 in the axis order of bbox-crs (CRS84: lon,lat)",
					"schema":      map[string]any{"type": "array", "minItems": 4, "maxItems": 6, "items": map[string]any{"type": "number"}}},
				"bbox-crs": map[string]any{"name": "bbox-crs", "in": "query", "schema": map[string]any{"type": "string", "format": "uri"}},
				"crs":      map[string]any{"name": "crs", "in": "query", "schema": map[string]any{"type": "string", "format": "uri"}},
				"limit": map[string]any{"name": "limit", "in": "query",
					"schema": map[string]any{"type": "integer", "minimum": 1, "maximum": features.MaxLimit, "default": features.DefaultLimit}},
				"offset": map[string]any{"name": "offset", "in": "query", "schema": map[string]any{"type": "integer", "minimum": 0, "default": 0}},
				"f":      map[string]any{"name": "f", "in": "query", "schema": map[string]any{"type": "string", "enum": []string{"json", "geojson"}}},
			},
		},
	}
	if format == "html" {
		var list []string
		for p := range paths {
			list = append(list, p)
		}
		sort.Strings(list)
		renderHTML(w, "api", &pageData{Title: "API", Base: fr.s.baseURL(r), JSONQuery: jsonQuery(r), Classes: list})
		return
	}
	WriteJSONTyped(w, http.StatusOK, "application/vnd.oai.openapi+json;version=3.0", doc)
}
