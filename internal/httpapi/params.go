package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"villageplan/internal/exchange"
	"villageplan/internal/features"
)

// Limits on the query parameters and path variables of every route,
// enforced by checkParams before any handler runs.
const (
	// MaxParamBytes bounds each query-parameter value and path variable
	// (8 KiB).
	MaxParamBytes = 8 << 10
	// MaxFilterParamBytes bounds the CQL2 filter parameter (16 KiB).
	MaxFilterParamBytes = features.MaxFilterLength
	// MaxPostFilterBytes bounds the filter of a POST query
	// (/collections/{id}/query, 256 KiB): long IN lists and detailed
	// polygons that do not fit in a URL.
	MaxPostFilterBytes = 256 << 10
	// MaxParamNameBytes bounds a query-parameter name.
	MaxParamNameBytes = 256
	// MaxQueryParams bounds the number of query-parameter values.
	MaxQueryParams = 100
)

// checkParams refuses, with a 400 naming the parameter, a request whose
// query string is not valid percent-encoding, has more than MaxQueryParams
// values, or whose parameter names, values or path variables contain a NUL
// byte, are not valid UTF-8, or are longer than their limit. Handlers may
// then hand any parameter to PostgreSQL, which refuses NUL and invalid
// UTF-8 with an error that would otherwise become a 500.
func checkParams(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if pe := paramProblem(r); pe != nil {
			WriteError(w, http.StatusBadRequest, "InvalidParameterValue", pe.Error())
			return
		}
		next.ServeHTTP(w, r)
	})
}

func paramProblem(r *http.Request) *paramError {
	vars := mux.Vars(r)
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if pe := checkValue("path variable "+k, vars[k], MaxParamBytes); pe != nil {
			return pe
		}
	}
	if pe := checkValue("path", r.URL.Path, MaxParamBytes); pe != nil {
		return pe
	}
	values, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return &paramError{param: "query string",
			zh:  "查询字符串的编码无效（" + err.Error() + "）；用 & 分隔参数，特殊字符按 %XX 编码",
			msg: "is not valid percent-encoding (" + err.Error() + "); separate parameters with & and encode special characters as %XX"}
	}
	return checkValues(values, MaxFilterParamBytes)
}

// checkValues applies the limits to a set of parameters (the query string,
// or the form body of a POST query with filterLimit MaxPostFilterBytes).
func checkValues(values url.Values, filterLimit int) *paramError {
	n := 0
	for _, vs := range values {
		n += len(vs)
	}
	if n > MaxQueryParams {
		return &paramError{param: "query string",
			zh:  fmt.Sprintf("有 %d 个参数值，超过上限 %d", n, MaxQueryParams),
			msg: fmt.Sprintf("has %d parameter values, more than the limit of %d", n, MaxQueryParams)}
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if pe := checkValue("name", k, MaxParamNameBytes); pe != nil {
			pe.param = strconv.Quote(k)
			pe.zh = "参数名" + strings.TrimPrefix(pe.zh, "值")
			pe.msg = "the parameter name" + strings.TrimPrefix(pe.msg, "the value")
			return pe
		}
		limit := MaxParamBytes
		if k == "filter" {
			limit = filterLimit
		}
		for _, v := range values[k] {
			if pe := checkValue(k, v, limit); pe != nil {
				return pe
			}
		}
	}
	return nil
}

// checkValue checks one value for NUL bytes, invalid UTF-8 and length.
func checkValue(param, v string, limit int) *paramError {
	if len(v) > limit {
		return &paramError{param: param,
			zh:  fmt.Sprintf("值长 %d 字节，超过上限 %d 字节", len(v), limit),
			msg: fmt.Sprintf("the value is %d bytes long, more than the limit of %d bytes", len(v), limit)}
	}
	if i := strings.IndexByte(v, 0); i >= 0 {
		return &paramError{param: param,
			zh:  fmt.Sprintf("值在第 %d 个字节处含有 NUL 字符（%%00）", i+1),
			msg: fmt.Sprintf("the value contains a NUL byte (%%00) at byte %d", i+1)}
	}
	if i := exchange.InvalidUTF8At(v); i >= 0 {
		return &paramError{param: param,
			zh:  fmt.Sprintf("值从第 %d 个字节起不是有效的 UTF-8 文本（字节 %%%02X）", i+1, v[i]),
			msg: fmt.Sprintf("the value is not valid UTF-8 from byte %d on (byte %%%02X)", i+1, v[i])}
	}
	return nil
}
