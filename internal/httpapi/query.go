package httpapi

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// POST /collections/{collectionId}/query answers what GET
// /collections/{collectionId}/items answers, for queries too long for a
// URL (a filter up to MaxPostFilterBytes instead of MaxFilterParamBytes):
//
//   - Content-Type application/x-www-form-urlencoded: the items parameters
//     (filter, filter-lang, filter-crs, bbox, limit, offset, sortby,
//     properties, crs, datetime, f=json|geojson|html …) in the body, as a
//     form; they override the same parameters of the URL;
//   - Content-Type application/query-cql-json (pygeoapi's name) or
//     application/json: the body is a CQL2-JSON filter; the other
//     parameters come from the URL.
//
// It is a read: open to whoever may read the items, not rate-limited as a
// write, with the items' answers (links for the next page are GET links;
// page with offset in the body instead). Downloads (f=gpkg …) stay on GET.
// Errors: 400 naming the parameter, 413 over MaxQueryBodyBytes, 415 for
// another media type.

// MaxQueryBodyBytes bounds the body of a POST query (1 MiB).
const MaxQueryBodyBytes = 1 << 20

type postFilterKey struct{}

// postFilterLimit is the filter length allowed for the request (0: the
// default of a GET).
func postFilterLimit(ctx context.Context) int {
	if ctx.Value(postFilterKey{}) != nil {
		return MaxPostFilterBytes
	}
	return 0
}

// isQueryPOST reports whether r is a POST query (a read, whatever its
// method).
func isQueryPOST(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/collections/") && strings.HasSuffix(r.URL.Path, "/query")
}

func (fr *featureRoutes) query(w http.ResponseWriter, r *http.Request) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxQueryBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		WriteError(w, http.StatusRequestEntityTooLarge, "RequestTooLarge", "查询请求体超过 1 MiB；请缩小过滤条件。 The query body is larger than 1 MiB; shorten the filter.")
		return
	} else if err != nil {
		WriteError(w, http.StatusBadRequest, "InvalidRequest", "请求体读取失败 / the request body could not be read: "+err.Error())
		return
	}
	v := r.URL.Query()
	switch mt {
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			fr.s.requestError(w, r, &paramError{param: "body",
				zh:  "表单编码无效（" + err.Error() + "）；用 & 分隔参数，特殊字符按 %XX 编码",
				msg: "is not valid form encoding (" + err.Error() + "); separate parameters with & and encode special characters as %XX"})
			return
		}
		for k, vs := range form {
			v[k] = vs
		}
	case "application/query-cql-json", "application/json":
		v.Set("filter", string(body))
		v.Set("filter-lang", "cql2-json")
	default:
		WriteError(w, http.StatusUnsupportedMediaType, "UnsupportedMediaType",
			"查询请求体应为 application/x-www-form-urlencoded（表单参数）或 application/query-cql-json（CQL2-JSON 过滤条件）。 "+
				"The query body must be application/x-www-form-urlencoded (the items parameters) or application/query-cql-json (a CQL2-JSON filter).")
		return
	}
	if f := v.Get("f"); isDownload(f) {
		fr.s.requestError(w, r, &paramError{param: "f", zh: "下载（f=" + f + "）请用 GET /collections/{id}/items", msg: "downloads (f=" + f + ") use GET /collections/{id}/items"})
		return
	}
	if pe := checkValues(v, MaxPostFilterBytes); pe != nil {
		fr.s.requestError(w, r, pe)
		return
	}
	r2 := r.Clone(context.WithValue(r.Context(), postFilterKey{}, true))
	r2.Method = http.MethodGet
	r2.URL.RawQuery = v.Encode()
	r2.Body = http.NoBody
	r2.ContentLength = 0
	fr.items(w, r2)
}
