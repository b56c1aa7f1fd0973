package httpapi

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"villageplan/layers"
)

// OpenAPIExcluded exposes the routes /api leaves out on purpose to the
// completeness test of package httpapi_test.
var OpenAPIExcluded = openAPIExcluded

// TestOpenAPIRoutedOnlyAppearWithTheirRow: the operations documented ahead
// of their routes (apiOp.routedOnly) stay out of /api until the
// PermissionTable has their row, and then are valid operations.
func TestOpenAPIRoutedOnlyAppearWithTheirRow(t *testing.T) {
	cat := layers.Default()
	without := buildOpenAPI(cat, "http://x", PermissionTable)
	if without.Paths.Value("/collections/homesteads/changes") != nil {
		t.Fatal("/changes documented without its route")
	}
	table := append(slices.Clone(PermissionTable),
		RoutePermission{get, "/collections/{collectionId}/changes", signedIn, ""},
		RoutePermission{get, "/applications/{id}/print/{document}", desk, ""})
	doc := buildOpenAPI(cat, "http://x", table)
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	loaded, err := loader.LoadFromData(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := loaded.Validate(loader.Context); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/collections/homesteads/changes", "/applications/{id}/print/{document}"} {
		item := loaded.Paths.Value(p)
		if item == nil || item.Get == nil || item.Head == nil || item.Get.Security == nil || len(*item.Get.Security) == 0 {
			t.Errorf("%s: not documented as a signed-in GET and HEAD once routed", p)
		}
	}
}
