package db

import "testing"

// TestLSN: pg_lsn text round-trips and orders like PostgreSQL's.
func TestLSN(t *testing.T) {
	a, err := ParseLSN("16/B374D848")
	if err != nil || a != 0x16B374D848 || FormatLSN(a) != "16/B374D848" {
		t.Fatalf("16/B374D848 → %x %v (%s)", a, err, FormatLSN(a))
	}
	b, _ := ParseLSN("17/0")
	if b <= a {
		t.Fatalf("17/0 (%x) not after 16/B374D848 (%x)", b, a)
	}
	for _, bad := range []string{"", "16", "x/1", "1/100000000"} {
		if _, err := ParseLSN(bad); err == nil {
			t.Errorf("ParseLSN(%q) accepted", bad)
		}
	}
}
