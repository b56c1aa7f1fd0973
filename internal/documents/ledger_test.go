package documents

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

func sampleRows() []*LedgerRow {
	return []*LedgerRow{
		{ApplicationNo: "SYZ-2026-0158", Village: "大营村", Applicant: "马国强", IDNumber: "220112199203154312", Address: "双阳区双营子回族乡大营村三组",
			SiteAreaM2: 444, FloorAreaM2: 132.5, Storeys: 1, Case: CaseNewSite, Land: LandConstruction,
			AcceptedOn: day(2026, 9, 15), ApprovedOn: day(2026, 10, 9), CertificateNo: "双营子〔2026〕第0012号", State: "已登记",
			StakedOn: day(2027, 4, 8), StartedOn: day(2027, 4, 10), AcceptedBuilt: day(2027, 9, 3), RegisteredOn: day(2027, 10, 20)},
		{ApplicationNo: "SYZ-2026-0163", Village: "大营村", Applicant: "李淑芬", IDNumber: "22011219780612462X", Address: "=HYPERLINK(\"x\")大营村一组",
			SiteAreaM2: 312.456, FloorAreaM2: 98, Storeys: 2, Case: CaseOnOldSite, Land: LandAgricultural, AgriKind: "耕地",
			AcceptedOn: day(2026, 10, 2), State: "联审中"},
	}
}

func seq(rows []*LedgerRow) iter.Seq2[*LedgerRow, error] {
	return func(yield func(*LedgerRow, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}
}

var made = time.Date(2026, 12, 2, 14, 0, 0, 0, cst)

func TestLedgerXLSX(t *testing.T) {
	for _, entitled := range []bool{false, true} {
		var buf bytes.Buffer
		h := LedgerHeader{Township: "长春市双阳区双营子回族乡", Year: 2026, Village: "大营村", Entitled: entitled, Made: made}
		if err := WriteLedgerXLSX(&buf, h, seq(sampleRows())); err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		const sh = "台账"
		get := func(c string) string {
			v, err := f.GetCellValue(sh, c)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		raw := func(c string) string {
			v, err := f.GetCellValue(sh, c, excelize.Options{RawCellValue: true})
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		if v := get("A1"); v != "长春市双阳区双营子回族乡宅基地审批台账（2026年度）" {
			t.Errorf("title %q", v)
		}
		if v := get("A2"); !strings.Contains(v, "筛选：大营村；全部状态") || !strings.Contains(v, "2026年12月02日 14:00") {
			t.Errorf("filters %q", v)
		}
		for i, c := range ledgerCols {
			name, _ := excelize.CoordinatesToCellName(i+1, 3)
			if v := get(name); v != c.name {
				t.Errorf("header %s = %q, want %q", name, v, c.name)
			}
			col, _ := excelize.ColumnNumberToName(i + 1)
			if w, _ := f.GetColWidth(sh, col); w != c.width {
				t.Errorf("column %s width %v, want %v", col, w, c.width)
			}
		}
		panes, err := f.GetPanes(sh)
		if err != nil || !panes.Freeze || panes.YSplit != 3 || panes.TopLeftCell != "A4" {
			t.Errorf("header not frozen: %+v %v", panes, err)
		}
		// numbers are numbers, formatted with two decimals
		if raw("G5") != "312.456" || get("G5") != "312.46" || get("G4") != "444.00" || raw("I5") != "2" {
			t.Errorf("areas: G5 raw %q shown %q, G4 %q, I5 %q", raw("G5"), get("G5"), get("G4"), raw("I5"))
		}
		if ty, _ := f.GetCellType(sh, "G4"); ty == excelize.CellTypeSharedString || ty == excelize.CellTypeInlineString {
			t.Errorf("area stored as text (%v)", ty)
		}
		// dates are serial numbers shown as yyyy-mm-dd; a missing date is empty
		if raw("L4") != "46280" || get("L4") != "2026-09-15" || get("S4") != "2027-10-20" || get("M5") != "" || raw("M5") != "" {
			t.Errorf("dates: L4 raw %q shown %q, S4 %q, M5 %q", raw("L4"), get("L4"), get("S4"), get("M5"))
		}
		if get("J5") != "利用原宅基地建设" || get("K5") != "农用地（耕地）" || get("N4") != "双营子〔2026〕第0012号" || get("O5") != "联审中" {
			t.Errorf("texts: %q %q %q %q", get("J5"), get("K5"), get("N4"), get("O5"))
		}
		// text that looks like a formula stays text in the workbook
		if fm, _ := f.GetCellFormula(sh, "F5"); fm != "" || get("F5") != "=HYPERLINK(\"x\")大营村一组" {
			t.Errorf("F5 formula %q value %q", fm, get("F5"))
		}
		wantName, wantID := "马**", "2201**********4312"
		if entitled {
			wantName, wantID = "马国强", "220112199203154312"
		}
		if get("D4") != wantName || get("E4") != wantID || get("E5") != map[bool]string{false: "2201**********462X", true: "22011219780612462X"}[entitled] {
			t.Errorf("entitled=%v: %q %q %q", entitled, get("D4"), get("E4"), get("E5"))
		}
		rows, _ := f.GetRows(sh)
		if len(rows) != 5 {
			t.Errorf("%d rows, want title, filters, header and 2", len(rows))
		}
		f.Close()
	}
}

func TestLedgerCSV(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteLedgerCSV(&buf, LedgerHeader{Township: "双营子回族乡", Year: 2026}, seq(sampleRows())); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if !bytes.HasPrefix(b, []byte("\xEF\xBB\xBF")) {
		t.Fatal("no UTF-8 byte-order mark")
	}
	if !bytes.Contains(b, []byte("\r\n")) {
		t.Error("lines do not end in CRLF")
	}
	recs, err := csv.NewReader(bytes.NewReader(b[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || len(recs[0]) != len(ledgerCols) || recs[0][0] != "序号" || recs[0][6] != "宅基地面积（平方米）" {
		t.Fatalf("records %v", recs)
	}
	r1, r2 := recs[1], recs[2]
	want1 := []string{"1", "SYZ-2026-0158", "大营村", "马**", "2201**********4312", "双阳区双营子回族乡大营村三组", "444.00", "132.50", "1",
		"新申请宅基地建设", "建设用地", "2026-09-15", "2026-10-09", "双营子〔2026〕第0012号", "已登记", "2027-04-08", "2027-04-10", "2027-09-03", "2027-10-20"}
	if fmt.Sprint(r1) != fmt.Sprint(want1) {
		t.Errorf("row 1\n got %q\nwant %q", r1, want1)
	}
	if r2[5] != "'=HYPERLINK(\"x\")大营村一组" || r2[6] != "312.46" || r2[12] != "" || r2[10] != "农用地（耕地）" {
		t.Errorf("row 2 %q", r2)
	}
}

func TestLedgerStopsAtError(t *testing.T) {
	bad := func(yield func(*LedgerRow, error) bool) {
		if !yield(sampleRows()[0], nil) {
			return
		}
		yield(nil, fmt.Errorf("database gone"))
	}
	for name, fn := range map[string]func(io.Writer, LedgerHeader, iter.Seq2[*LedgerRow, error]) error{"xlsx": WriteLedgerXLSX, "csv": WriteLedgerCSV} {
		if err := fn(io.Discard, LedgerHeader{}, bad); err == nil || err.Error() != "database gone" {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{"220112199203154312": "2201**********4312", "1234": "****", "": ""} {
		if got := MaskID(in); got != want {
			t.Errorf("MaskID(%q) = %q", in, got)
		}
	}
	for in, want := range map[string]string{"马国强": "马**", "欧阳娜娜": "欧***", "": ""} {
		if got := MaskName(in); got != want {
			t.Errorf("MaskName(%q) = %q", in, got)
		}
	}
}

// 20 000 generated approvals, the county-scale year of issue 12.
func benchRows(n int) iter.Seq2[*LedgerRow, error] {
	villages := []string{"大营村", "小营村", "双营子村", "石门村", "新胜村"}
	return func(yield func(*LedgerRow, error) bool) {
		r := &LedgerRow{}
		for i := 0; i < n; i++ {
			*r = LedgerRow{ApplicationNo: fmt.Sprintf("SYZ-2026-%05d", i), Village: villages[i%5], Applicant: "马国强",
				IDNumber: "220112199203154312", Address: "双阳区双营子回族乡" + villages[i%5] + fmt.Sprintf("%d组", i%9+1),
				SiteAreaM2: 200 + float64(i%250), FloorAreaM2: 90 + float64(i%60), Storeys: 1 + i%2, Case: ConstructionCase(1 + i%3), Land: LandClass(1 + i%3),
				AcceptedOn: day(2026, 1+i%12, 1+i%28), ApprovedOn: day(2026, 1+i%12, 1+i%28).AddDate(0, 0, 15),
				CertificateNo: fmt.Sprintf("双营子〔2026〕第%05d号", i), State: "已批准", StakedOn: day(2026, 1+i%12, 1+i%28).AddDate(0, 0, 30)}
			if !yield(r, nil) {
				return
			}
		}
	}
}

func BenchmarkLedgerXLSX20000(b *testing.B) {
	h := LedgerHeader{Township: "长春市双阳区双营子回族乡", Year: 2026, Made: made}
	for b.Loop() {
		var buf bytes.Buffer
		if err := WriteLedgerXLSX(&buf, h, benchRows(20000)); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(buf.Len()), "bytes/file")
	}
}

func BenchmarkLedgerCSV20000(b *testing.B) {
	h := LedgerHeader{Township: "长春市双阳区双营子回族乡", Year: 2026, Made: made}
	for b.Loop() {
		if err := WriteLedgerCSV(io.Discard, h, benchRows(20000)); err != nil {
			b.Fatal(err)
		}
	}
}
