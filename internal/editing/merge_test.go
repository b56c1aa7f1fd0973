package editing

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"villageplan/internal/features"
)

// TestMergePatchRFC7396 runs the examples of RFC 7396 Appendix A.
func TestMergePatchRFC7396(t *testing.T) {
	cases := [][3]string{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`["a","b"]`, `["c","d"]`, `["c","d"]`},
		{`{"a":"b"}`, `["c"]`, `["c"]`},
		{`{"a":"foo"}`, `null`, `null`},
		{`{"a":"foo"}`, `"bar"`, `"bar"`},
		{`{"e":null}`, `{"a":1}`, `{"e":null,"a":1}`},
		{`[1,2]`, `{"a":"b","c":null}`, `{"a":"b"}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
	}
	for _, c := range cases {
		var target, patch, want any
		for i, p := range []*any{&target, &patch, &want} {
			if err := json.Unmarshal([]byte(c[i]), p); err != nil {
				t.Fatal(err)
			}
		}
		if got := MergePatch(target, patch); !reflect.DeepEqual(got, want) {
			t.Errorf("MergePatch(%s, %s) = %v, want %s", c[0], c[1], got, c[2])
		}
	}
}

func TestETag(t *testing.T) {
	tag := features.ETag(12, "7345")
	id, rev, ok := features.ParseETag(tag)
	if tag != `"12.7345"` || !ok || id != 12 || rev != "7345" {
		t.Fatalf("ETag %s → %d %s %v", tag, id, rev, ok)
	}
	if id, rev, ok := features.ParseETag(features.VariantETag(12, "7345", "a1b2c3")); !ok || id != 12 || rev != "7345" {
		t.Fatalf("variant ETag → %d %s %v", id, rev, ok)
	}
	for _, bad := range []string{``, `*`, `W/"12.7345"`, `12.7345`, `"12"`, `"12."`, `"x.1"`, `"0.1"`, `"12.1x"`, `"12.99999999999"`, `"12.7345", "13.1"`,
		`"12.7345."`, `"12.7345.xyz"`, `"12.7345.a.b"`} {
		if _, _, ok := features.ParseETag(bad); ok {
			t.Errorf("ParseETag(%q) accepted", bad)
		}
	}
}

func TestCheckMessage(t *testing.T) {
	for _, m := range []string{"", "   ", "a\x00b", string([]byte{0xff}), strings.Repeat("x", MaxMessageBytes+1)} {
		if checkMessage(m) == nil {
			t.Errorf("message %q accepted", m)
		}
	}
	if e := checkMessage("修正村界 / fix the village boundary"); e != nil {
		t.Error(e)
	}
}
