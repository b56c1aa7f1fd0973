package features

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// CQL2-JSON (OGC 21-065, the JSON encoding of CQL2) is read by turning it
// into the equivalent CQL2 text, which TranslateCQL2 then checks and
// translates: one type checker and one SQL generator for both encodings.
//
// The JSON forms read: {"op": …, "args": […]} for and, or, not, the
// comparisons (=, <>, <, >, <=, >=), like, between, in (second argument an
// array), isNull, casei, accenti, the arithmetic operators (+ - * / % div),
// the spatial predicates (s_intersects … s_contains, s_dwithin) and the
// temporal ones (t_before … t_during); {"property": name}; strings,
// numbers, booleans; {"date": "YYYY-MM-DD"}, {"timestamp": "…Z"},
// {"interval": [start, end]} ('..' for an open end); GeoJSON geometries
// (in the filter CRS, as WKT literals are) and {"bbox": [4 numbers]}.
// Anything else is a *FilterError whose Span is the JSON path of the
// offending member (e.g. "args[1].op").

// CQL2JSONToText returns the CQL2 text equivalent of a CQL2-JSON filter
// of at most maxLen bytes (0: MaxFilterLength).
func CQL2JSONToText(filter string, maxLen int) (string, error) {
	if maxLen <= 0 {
		maxLen = MaxFilterLength
	}
	if len(filter) > maxLen {
		return "", jsonErr("", fmt.Sprintf("过滤条件超过 %d 字节", maxLen), fmt.Sprintf("filter longer than %d bytes", maxLen))
	}
	dec := json.NewDecoder(strings.NewReader(filter))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", jsonErr("", "过滤条件不是有效的 JSON："+err.Error(), "the filter is not valid JSON: "+err.Error())
	}
	if dec.More() {
		return "", jsonErr("", "JSON 过滤条件后面还有内容", "unexpected text after the JSON filter")
	}
	var b strings.Builder
	if err := cqlJSON(&b, v, "", 0); err != nil {
		return "", err
	}
	return b.String(), nil
}

// jsonErr is a FilterError located by a JSON path rather than a character.
func jsonErr(path, zh, en string) *FilterError {
	if path == "" {
		path = "$"
	}
	return &FilterError{Span: path, ZH: zh, EN: en, jsonPath: true}
}

var cqlJSONOps = map[string]string{
	"=": "=", "<>": "<>", "<": "<", ">": ">", "<=": "<=", ">=": ">=",
	"+": "+", "-": "-", "*": "*", "/": "/", "%": "%", "div": "DIV",
}

func cqlJSON(b *strings.Builder, v any, path string, depth int) error {
	if depth > MaxFilterDepth*2 {
		return jsonErr(path, fmt.Sprintf("嵌套超过 %d 层", MaxFilterDepth), fmt.Sprintf("nested deeper than %d levels", MaxFilterDepth))
	}
	switch x := v.(type) {
	case bool:
		b.WriteString(strings.ToUpper(strconv.FormatBool(x)))
		return nil
	case json.Number:
		f, err := x.Float64()
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return jsonErr(path, fmt.Sprintf("%s 不是有限的数字", x), fmt.Sprintf("%s is not a finite number", x))
		}
		b.WriteString(x.String())
		return nil
	case string:
		b.WriteString("'" + strings.ReplaceAll(x, "'", "''") + "'")
		return nil
	case nil:
		return jsonErr(path, "与 null 比较请用 isNull", "to test for null use the isNull operator")
	case []any:
		return jsonErr(path, "这里不能是数组（数组只用于 in 的值列表）", "an array is not allowed here (arrays are only the value list of in)")
	case map[string]any:
		return cqlJSONObject(b, x, path, depth)
	}
	return jsonErr(path, "不认识的 JSON 值", "unexpected JSON value")
}

func member(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func cqlJSONObject(b *strings.Builder, o map[string]any, path string, depth int) error {
	if p, ok := o["property"]; ok {
		name, ok := p.(string)
		if !ok || name == "" || strings.ContainsAny(name, "\"\x00") {
			return jsonErr(member(path, "property"), "属性名应为非空文本，不含双引号", "a property name is non-empty text without double quotes")
		}
		b.WriteString(`"` + name + `"`)
		return nil
	}
	for _, k := range []string{"date", "timestamp"} {
		if d, ok := o[k]; ok {
			s, ok := d.(string)
			if !ok {
				return jsonErr(member(path, k), k+" 的值应为文本", "the value of "+k+" is a string")
			}
			b.WriteString(strings.ToUpper(k) + "('" + strings.ReplaceAll(s, "'", "''") + "')")
			return nil
		}
	}
	if iv, ok := o["interval"]; ok {
		a, ok := iv.([]any)
		if !ok || len(a) != 2 {
			return jsonErr(member(path, "interval"), "interval 应为两个端点的数组", "interval is an array of two ends")
		}
		b.WriteString("INTERVAL(")
		for i, e := range a {
			if i > 0 {
				b.WriteString(", ")
			}
			p := fmt.Sprintf("%s[%d]", member(path, "interval"), i)
			switch e := e.(type) {
			case string:
				b.WriteString("'" + strings.ReplaceAll(e, "'", "''") + "'")
			case map[string]any:
				if err := cqlJSONObject(b, e, p, depth+1); err != nil {
					return err
				}
			default:
				return jsonErr(p, "区间端点应为日期文本、'..' 或 {\"date\": …}", "an interval end is a date string, '..' or {\"date\": …}")
			}
		}
		b.WriteString(")")
		return nil
	}
	if bb, ok := o["bbox"]; ok {
		a, ok := bb.([]any)
		if !ok || len(a) != 4 && len(a) != 6 {
			return jsonErr(member(path, "bbox"), "bbox 应为 4 个（或 6 个）数字", "bbox is an array of 4 (or 6) numbers")
		}
		nums, err := jsonNumbers(a, member(path, "bbox"))
		if err != nil {
			return err
		}
		b.WriteString("BBOX(" + strings.Join(nums, ", ") + ")")
		return nil
	}
	if t, ok := o["type"].(string); ok {
		if t == "Feature" || t == "FeatureCollection" {
			return jsonErr(member(path, "type"), "这里应为 GeoJSON 几何，不是要素", "a GeoJSON geometry is expected here, not a feature")
		}
		return geoJSONToWKT(b, o, path, depth)
	}
	opv, ok := o["op"]
	if !ok {
		return jsonErr(path, "对象应有 op、property、date、timestamp、interval、bbox 或 GeoJSON 的 type 成员", "an object needs an op, property, date, timestamp, interval, bbox or GeoJSON type member")
	}
	op, ok := opv.(string)
	if !ok {
		return jsonErr(member(path, "op"), "op 应为文本", "op is a string")
	}
	argsv, ok := o["args"]
	if !ok {
		return jsonErr(member(path, "args"), "缺少 args", "args is missing")
	}
	args, ok := argsv.([]any)
	if !ok {
		return jsonErr(member(path, "args"), "args 应为数组", "args is an array")
	}
	argPath := func(i int) string { return fmt.Sprintf("%s[%d]", member(path, "args"), i) }
	arg := func(i int) error { return cqlJSON(b, args[i], argPath(i), depth+1) }
	need := func(n int) error {
		if len(args) != n {
			return jsonErr(member(path, "args"), fmt.Sprintf("%s 需要 %d 个参数，却有 %d 个", op, n, len(args)), fmt.Sprintf("%s takes %d arguments, not %d", op, n, len(args)))
		}
		return nil
	}
	lop := strings.ToLower(op)
	switch {
	case lop == "and" || lop == "or":
		if len(args) < 2 {
			return jsonErr(member(path, "args"), lop+" 至少需要 2 个参数", lop+" takes at least 2 arguments")
		}
		b.WriteString("(")
		for i := range args {
			if i > 0 {
				b.WriteString(" " + strings.ToUpper(lop) + " ")
			}
			if err := arg(i); err != nil {
				return err
			}
		}
		b.WriteString(")")
		return nil
	case lop == "not":
		if err := need(1); err != nil {
			return err
		}
		b.WriteString("NOT (")
		if err := arg(0); err != nil {
			return err
		}
		b.WriteString(")")
		return nil
	case cqlJSONOps[lop] != "":
		if err := need(2); err != nil {
			return err
		}
		b.WriteString("(")
		if err := arg(0); err != nil {
			return err
		}
		b.WriteString(" " + cqlJSONOps[lop] + " ")
		if err := arg(1); err != nil {
			return err
		}
		b.WriteString(")")
		return nil
	case lop == "like":
		if err := need(2); err != nil {
			return err
		}
		if err := arg(0); err != nil {
			return err
		}
		b.WriteString(" LIKE ")
		return arg(1)
	case lop == "between":
		if err := need(3); err != nil {
			return err
		}
		for i, sep := range []string{" BETWEEN ", " AND ", ""} {
			if err := arg(i); err != nil {
				return err
			}
			b.WriteString(sep)
		}
		return nil
	case lop == "in":
		if err := need(2); err != nil {
			return err
		}
		list, ok := args[1].([]any)
		if !ok || len(list) == 0 {
			return jsonErr(argPath(1), "in 的第二个参数应为非空数组", "the second argument of in is a non-empty array")
		}
		if err := arg(0); err != nil {
			return err
		}
		b.WriteString(" IN (")
		for i, e := range list {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := cqlJSON(b, e, fmt.Sprintf("%s[%d]", argPath(1), i), depth+1); err != nil {
				return err
			}
		}
		b.WriteString(")")
		return nil
	case lop == "isnull":
		if err := need(1); err != nil {
			return err
		}
		if err := arg(0); err != nil {
			return err
		}
		b.WriteString(" IS NULL")
		return nil
	case lop == "casei" || lop == "accenti":
		if err := need(1); err != nil {
			return err
		}
		b.WriteString(strings.ToUpper(lop) + "(")
		if err := arg(0); err != nil {
			return err
		}
		b.WriteString(")")
		return nil
	}
	up := strings.ToUpper(lop)
	_, spatial := spatialPredicates[up]
	if spatial || temporalPredicates[up] != "" || up == "S_DWITHIN" {
		if up == "S_DWITHIN" && len(args) != 3 && len(args) != 4 {
			return jsonErr(member(path, "args"), "s_dwithin 需要 3 或 4 个参数", "s_dwithin takes 3 or 4 arguments")
		} else if up != "S_DWITHIN" {
			if err := need(2); err != nil {
				return err
			}
		}
		b.WriteString(up + "(")
		for i := range args {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := arg(i); err != nil {
				return err
			}
		}
		b.WriteString(")")
		return nil
	}
	return jsonErr(member(path, "op"), fmt.Sprintf("不支持的运算 %q", op), fmt.Sprintf("unsupported op %q", op))
}

func jsonNumbers(a []any, path string) ([]string, error) {
	out := make([]string, len(a))
	for i, e := range a {
		n, ok := e.(json.Number)
		if !ok {
			return nil, jsonErr(fmt.Sprintf("%s[%d]", path, i), "这里应为数字", "a number is expected here")
		}
		out[i] = n.String()
	}
	return out, nil
}

// geoJSONToWKT writes a GeoJSON geometry (RFC 7946 shapes; coordinates in
// the filter CRS) as a WKT literal; the text checker then validates it.
func geoJSONToWKT(b *strings.Builder, o map[string]any, path string, depth int) error {
	t := o["type"].(string)
	if t == "GeometryCollection" {
		gs, ok := o["geometries"].([]any)
		if !ok {
			return jsonErr(member(path, "geometries"), "GeometryCollection 需要 geometries 数组", "a GeometryCollection needs a geometries array")
		}
		if len(gs) == 0 {
			b.WriteString("GEOMETRYCOLLECTION EMPTY")
			return nil
		}
		b.WriteString("GEOMETRYCOLLECTION(")
		for i, g := range gs {
			if i > 0 {
				b.WriteString(", ")
			}
			p := fmt.Sprintf("%s[%d]", member(path, "geometries"), i)
			m, ok := g.(map[string]any)
			if _, typed := m["type"].(string); !ok || !typed {
				return jsonErr(p, "这里应为 GeoJSON 几何", "a GeoJSON geometry is expected here")
			}
			if err := geoJSONToWKT(b, m, p, depth+1); err != nil {
				return err
			}
		}
		b.WriteString(")")
		return nil
	}
	levels := map[string]int{"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2, "MultiPolygon": 3}
	lv, ok := levels[t]
	if !ok {
		return jsonErr(member(path, "type"), fmt.Sprintf("不认识的 GeoJSON 几何类型 %q", t), fmt.Sprintf("unknown GeoJSON geometry type %q", t))
	}
	c, ok := o["coordinates"]
	if !ok {
		return jsonErr(member(path, "coordinates"), "缺少 coordinates", "coordinates is missing")
	}
	var w bytes.Buffer
	if arr, isArr := c.([]any); isArr && len(arr) == 0 {
		b.WriteString(strings.ToUpper(t) + " EMPTY")
		return nil
	}
	if err := coordsWKT(&w, c, lv, member(path, "coordinates")); err != nil {
		return err
	}
	s := w.String()
	if lv == 0 {
		s = "(" + s + ")"
	}
	b.WriteString(strings.ToUpper(t) + s)
	return nil
}

// coordsWKT writes nested coordinate arrays: level 0 is one position.
func coordsWKT(w *bytes.Buffer, c any, level int, path string) error {
	a, ok := c.([]any)
	if !ok {
		return jsonErr(path, "这里应为坐标数组", "a coordinate array is expected here")
	}
	if level == 0 {
		nums, err := jsonNumbers(a, path)
		if err != nil {
			return err
		}
		w.WriteString(strings.Join(nums, " "))
		return nil
	}
	w.WriteString("(")
	for i, e := range a {
		if i > 0 {
			w.WriteString(", ")
		}
		if err := coordsWKT(w, e, level-1, fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return err
		}
	}
	w.WriteString(")")
	return nil
}
