package exchange

import (
	"testing"

	"villageplan/layers"
)

func TestEncodings(t *testing.T) {
	for in, want := range map[string]string{"utf8": UTF8, "UTF-8": UTF8, "936": GBK, "cp936": GBK, "GB2312": GBK, "gb18030": GB18030, "": ""} {
		if got, err := NormalizeEncoding(in); err != nil || got != want {
			t.Errorf("NormalizeEncoding(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := NormalizeEncoding("latin1"); err == nil {
		t.Error("latin1 accepted")
	}
	gbk, err := Encode(GBK, "长春市")
	if err != nil || len(gbk) != 6 {
		t.Fatalf("GBK 长春市 = %x, %v", gbk, err)
	}
	if Detect(gbk) != GB18030 || Detect([]byte("长春市"), []byte("abc")) != UTF8 {
		t.Error("Detect")
	}
	if s, err := Decode(GBK, gbk); err != nil || s != "长春市" {
		t.Errorf("Decode = %q, %v", s, err)
	}
	if _, err := Decode(UTF8, gbk); err == nil {
		t.Error("GBK bytes accepted as UTF-8")
	}
	if _, err := Encode(GBK, "Straße"); err == nil {
		t.Error("ß encoded in GBK")
	}
	if e, ok := FromCPG([]byte("\xef\xbb\xbf936\r\n")); !ok || e != GBK {
		t.Errorf("FromCPG 936 = %q %v", e, ok)
	}
	if _, ok := FromCPG([]byte("1252")); ok {
		t.Error("FromCPG 1252 accepted")
	}
	if e, ok := FromLDID(0x4D); !ok || e != GBK {
		t.Error("LDID 0x4D")
	}
	b, cut, err := FitBytes(GBK, "双营子回族乡", 7)
	if err != nil || !cut || len(b) != 6 {
		t.Errorf("FitBytes = %x %v %v", b, cut, err)
	}
}

func TestParcelFields(t *testing.T) {
	c := layers.Default()
	hs, _ := c.Layer("homesteads")
	farm, _ := c.Layer("permanent_farmland")
	for _, tc := range []struct {
		l    *layers.Layer
		role ParcelRole
		want string
	}{{hs, RoleNumber, "zddm"}, {hs, RoleName, "zl"}, {hs, RoleArea, "zdmj"}, {farm, RoleNumber, "yjjbnttbbh"}, {farm, RoleDLBM, "dlbm"}, {farm, RoleArea, "yjjbntmj"}} {
		if f, ok := ParcelField(tc.l, tc.role); !ok || f.Name != tc.want {
			t.Errorf("%s %s = %s %v, want %s", tc.l.ID, tc.role, f.Name, ok, tc.want)
		}
	}
	if _, ok := ParcelField(farm, RoleName); ok {
		t.Error("farmland has no name field")
	}
}

func TestInvalidUTF8At(t *testing.T) {
	for s, want := range map[string]int{"": -1, "宅基地": -1, "ab\xffc": 2, "宅\xe5\x9f": 3, "\x80": 0} {
		if got := InvalidUTF8At(s); got != want {
			t.Errorf("InvalidUTF8At(%q) = %d, want %d", s, got, want)
		}
	}
}
