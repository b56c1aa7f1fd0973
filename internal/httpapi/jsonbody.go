package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"villageplan/internal/exchange"
	"villageplan/internal/siting"
)

// MaxJSONDepth bounds the nesting of a JSON request body (a GeoJSON
// MultiPolygon Feature inside a siting request needs 7 levels).
const MaxJSONDepth = 32

// jsonBodyProblem checks a JSON request body for what encoding/json
// either lets through or reports without saying where: invalid UTF-8 in a
// string or key (encoding/json silently replaces it with U+FFFD), a NUL
// character in a string or key (\u0000, which PostgreSQL text and jsonb
// refuse), nesting deeper than MaxJSONDepth, a syntax error, and anything
// but white space after the value. The error names the field by its path
// (household_id, site.properties.名称, site.coordinates[0][3]) and the byte
// offset, in Chinese and English; nil when the body is fine.
func jsonBodyProblem(body []byte) *siting.InputError {
	type frame struct {
		obj     bool
		wantKey bool
		key     string
		idx     int
	}
	var stack []frame
	path := func() string {
		var b strings.Builder
		for _, f := range stack {
			switch {
			case f.obj && !f.wantKey:
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			case !f.obj:
				b.WriteString("[" + strconv.Itoa(f.idx) + "]")
			}
		}
		if b.Len() == 0 {
			return "(the request body)"
		}
		return b.String()
	}
	valueDone := func() {
		if len(stack) == 0 {
			return
		}
		if top := &stack[len(stack)-1]; top.obj {
			top.wantKey = true
		} else {
			top.idx++
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	for started := false; ; started = true {
		if started && len(stack) == 0 {
			break
		}
		off0 := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				err = errors.New("the body ends before the JSON value does")
			}
			field := path()
			return &siting.InputError{
				ZH:    fmt.Sprintf("请求不是有效的 JSON（字段 %s，第 %d 字节附近）：%v", field, dec.InputOffset()+1, err),
				EN:    fmt.Sprintf("the request is not valid JSON (field %s, near byte %d): %v", field, dec.InputOffset()+1, err),
				Field: field}
		}
		raw := body[off0:dec.InputOffset()]
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				stack = append(stack, frame{obj: v == '{', wantKey: true})
				if len(stack) > MaxJSONDepth {
					field := path()
					return &siting.InputError{
						ZH:    fmt.Sprintf("请求 JSON 嵌套超过 %d 层（字段 %s）", MaxJSONDepth, field),
						EN:    fmt.Sprintf("the request JSON is nested deeper than %d levels (field %s)", MaxJSONDepth, field),
						Field: field}
				}
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			top := len(stack) - 1
			isKey := top >= 0 && stack[top].obj && stack[top].wantKey
			if isKey {
				stack[top].key, stack[top].wantKey = v, false
			}
			if !utf8.Valid(raw) || strings.IndexByte(v, 0) >= 0 {
				field := path()
				e := siting.TextProblem(field, v, 0)
				if i := exchange.InvalidUTF8At(string(raw)); i >= 0 {
					at := off0 + int64(i) + 1
					e = siting.FieldError(field, fmt.Sprintf("含有无效的 UTF-8 字节（请求第 %d 字节，0x%02X）；请以 UTF-8 编码提交", at, raw[i]),
						fmt.Sprintf("holds a byte that is not valid UTF-8 (byte %d of the body, 0x%02X); send UTF-8", at, raw[i]))
				}
				if isKey {
					e.ZH, e.EN = "（键名）"+e.ZH, "(the key) "+e.EN
				}
				return e
			}
			if !isKey {
				valueDone()
			}
		default:
			valueDone()
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		at := dec.InputOffset()
		return &siting.InputError{
			ZH: fmt.Sprintf("请求的 JSON 值之后还有多余内容（第 %d 字节附近）；请只提交一个 JSON 对象", at+1),
			EN: fmt.Sprintf("the request has data after its JSON value (near byte %d); send exactly one JSON object", at+1)}
	}
	return nil
}
