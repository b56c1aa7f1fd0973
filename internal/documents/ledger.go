package documents

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// LedgerRow is one approval in the 宅基地审批台账 that the township keeps and
// reports (备案) to the county 农业农村 and 自然资源 offices
// (农经发〔2019〕6号). Areas in m²; dates are calendar days (China time), the
// zero time is an empty cell.
type LedgerRow struct {
	ApplicationNo string // 申请编号
	Village       string // 村
	Applicant     string // 申请人 (personal)
	IDNumber      string // 身份证号 (personal; masked unless the reader is entitled)
	Address       string // 坐落
	SiteAreaM2    float64
	FloorAreaM2   float64
	Storeys       int
	Case          ConstructionCase
	Land          LandClass
	AgriKind      string    // with LandAgricultural
	AcceptedOn    time.Time // 受理日期
	ApprovedOn    time.Time // 批准日期
	CertificateNo string    // 批准书号
	State         string    // 状态, in Chinese (e.g. 已批准, 已竣工验收)
	StakedOn      time.Time // 丈量批放日期
	StartedOn     time.Time // 开工日期
	AcceptedBuilt time.Time // 竣工验收日期
	RegisteredOn  time.Time // 登记日期
}

// LedgerHeader is the title of a ledger: township, year and the filters
// that chose the rows, and whether the reader may see personal data.
type LedgerHeader struct {
	Township string // e.g. 长春市双阳区双营子回族乡
	Year     int    // 0: all years
	Village  string // filter, "" = 全部村
	State    string // filter, "" = 全部状态
	// Entitled readers get names and 身份证号 in full; for everyone else
	// the 身份证号 is masked (MaskID) and the name shows the surname only
	// (MaskName). The caller decides it from the reader's role and
	// villages, and audits the read when true.
	Entitled bool
	// Made is the production time printed in the title (zero: now).
	Made time.Time
}

var ledgerCols = []struct {
	name  string
	width float64
}{
	{"序号", 6}, {"申请编号", 16}, {"村", 10}, {"申请人", 10}, {"身份证号", 21}, {"坐落", 28},
	{"宅基地面积（平方米）", 12}, {"建筑面积（平方米）", 12}, {"层数", 6}, {"建设情形", 18}, {"地类", 12},
	{"受理日期", 12}, {"批准日期", 12}, {"批准书号", 22}, {"状态", 12},
	{"丈量批放日期", 12}, {"开工日期", 12}, {"竣工验收日期", 12}, {"登记日期", 12},
}

func (h LedgerHeader) title() string {
	y := "全部年度"
	if h.Year > 0 {
		y = fmt.Sprintf("%d年度", h.Year)
	}
	return fmt.Sprintf("%s宅基地审批台账（%s）", h.Township, y)
}

func (h LedgerHeader) filters() string {
	v, s := h.Village, h.State
	if v == "" {
		v = "全部村"
	}
	if s == "" {
		s = "全部状态"
	}
	made := h.Made
	if made.IsZero() {
		made = time.Now()
	}
	p := "个人信息已脱敏"
	if h.Entitled {
		p = "含个人信息，仅限备案使用"
	}
	return fmt.Sprintf("筛选：%s；%s。%s。制表时间：%s", v, s, p, made.In(cst).Format("2006年01月02日 15:04"))
}

func (h LedgerHeader) person(r *LedgerRow) (string, string) {
	if h.Entitled {
		return r.Applicant, r.IDNumber
	}
	return MaskName(r.Applicant), MaskID(r.IDNumber)
}

// MaskID masks a 身份证号 for readers not entitled to personal data: the
// first 4 (province and city) and last 4 characters stay, e.g.
// 2201**********4312. Shorter values become all asterisks.
func MaskID(id string) string {
	r := []rune(id)
	if len(r) <= 8 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:4]) + strings.Repeat("*", len(r)-8) + string(r[len(r)-4:])
}

// MaskName keeps the first character (the surname) of a name: 马国强 → 马**.
func MaskName(n string) string {
	if n == "" {
		return ""
	}
	_, size := utf8.DecodeRuneInString(n)
	return n[:size] + strings.Repeat("*", utf8.RuneCountInString(n)-1)
}

func day0(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	c := t.In(cst)
	return time.Date(c.Year(), c.Month(), c.Day(), 0, 0, 0, 0, time.UTC)
}

// WriteLedgerXLSX streams the ledger as an .xlsx workbook (one sheet 台账):
// row 1 the title (township, year), row 2 the filters and the time it was
// made, row 3 the header (frozen, with an auto-filter), then one row per
// approval. Areas are numbers with two decimals, dates real Excel dates
// (yyyy-mm-dd), 层数 an integer. excelize's StreamWriter keeps memory flat
// for tens of thousands of rows. rows stops at its first error, which is
// returned.
func WriteLedgerXLSX(w io.Writer, h LedgerHeader, rows iter.Seq2[*LedgerRow, error]) (err error) {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "台账"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	border := []excelize.Border{{Type: "left", Color: "999999", Style: 1}, {Type: "right", Color: "999999", Style: 1}, {Type: "top", Color: "999999", Style: 1}, {Type: "bottom", Color: "999999", Style: 1}}
	style := func(s *excelize.Style) int {
		if err != nil {
			return 0
		}
		var id int
		id, err = f.NewStyle(s)
		return id
	}
	titleS := style(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 16}, Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}})
	noteS := style(&excelize.Style{Font: &excelize.Font{Size: 10, Color: "555555"}})
	headS := style(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"E8E8E8"}},
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}, Border: border})
	textS := style(&excelize.Style{Border: border})
	areaS := style(&excelize.Style{NumFmt: 4, Border: border}) // #,##0.00
	intS := style(&excelize.Style{NumFmt: 1, Border: border, Alignment: &excelize.Alignment{Horizontal: "center"}})
	dateFmt := "yyyy-mm-dd"
	dateS := style(&excelize.Style{CustomNumFmt: &dateFmt, Border: border, Alignment: &excelize.Alignment{Horizontal: "center"}})
	if err != nil {
		return err
	}
	for i, c := range ledgerCols {
		if err := sw.SetColWidth(i+1, i+1, c.width); err != nil {
			return err
		}
	}
	last, _ := excelize.ColumnNumberToName(len(ledgerCols))
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 3, TopLeftCell: "A4", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if err := sw.SetRow("A1", []any{excelize.Cell{StyleID: titleS, Value: h.title()}}, excelize.RowOpts{Height: 30}); err != nil {
		return err
	}
	if err := sw.SetRow("A2", []any{excelize.Cell{StyleID: noteS, Value: h.filters()}}); err != nil {
		return err
	}
	hdr := make([]any, len(ledgerCols))
	for i, c := range ledgerCols {
		hdr[i] = excelize.Cell{StyleID: headS, Value: c.name}
	}
	if err := sw.SetRow("A3", hdr, excelize.RowOpts{Height: 32}); err != nil {
		return err
	}
	if err := sw.MergeCell("A1", last+"1"); err != nil {
		return err
	}
	if err := sw.MergeCell("A2", last+"2"); err != nil {
		return err
	}
	n := 0
	vals := make([]any, len(ledgerCols))
	date := func(t time.Time) any {
		if t.IsZero() {
			return excelize.Cell{StyleID: dateS}
		}
		return excelize.Cell{StyleID: dateS, Value: day0(t)}
	}
	for r, rerr := range rows {
		if rerr != nil {
			return rerr
		}
		n++
		name, id := h.person(r)
		vals[0] = excelize.Cell{StyleID: intS, Value: n}
		vals[1] = excelize.Cell{StyleID: textS, Value: r.ApplicationNo}
		vals[2] = excelize.Cell{StyleID: textS, Value: r.Village}
		vals[3] = excelize.Cell{StyleID: textS, Value: name}
		vals[4] = excelize.Cell{StyleID: textS, Value: id} // text: 18 digits would lose precision as a number
		vals[5] = excelize.Cell{StyleID: textS, Value: r.Address}
		vals[6] = excelize.Cell{StyleID: areaS, Value: r.SiteAreaM2}
		vals[7] = excelize.Cell{StyleID: areaS, Value: r.FloorAreaM2}
		vals[8] = excelize.Cell{StyleID: intS, Value: r.Storeys}
		vals[9] = excelize.Cell{StyleID: textS, Value: r.Case.String()}
		vals[10] = excelize.Cell{StyleID: textS, Value: landText(r.Land, r.AgriKind)}
		vals[11] = date(r.AcceptedOn)
		vals[12] = date(r.ApprovedOn)
		vals[13] = excelize.Cell{StyleID: textS, Value: r.CertificateNo}
		vals[14] = excelize.Cell{StyleID: textS, Value: r.State}
		vals[15] = date(r.StakedOn)
		vals[16] = date(r.StartedOn)
		vals[17] = date(r.AcceptedBuilt)
		vals[18] = date(r.RegisteredOn)
		if err := sw.SetRow("A"+strconv.Itoa(n+3), vals); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	if err := f.AutoFilter(sheet, fmt.Sprintf("A3:%s%d", last, n+3), nil); err != nil {
		return err
	}
	return f.Write(w)
}

// WriteLedgerCSV streams the ledger as CSV: UTF-8 with a byte-order mark,
// CRLF line ends, the header row first (no title rows, so that the file
// loads as a table). The BOM is there because Excel on Chinese Windows
// opens a CSV without one as GBK and shows UTF-8 Chinese as mojibake; with
// it Excel, WPS and LibreOffice all read UTF-8. Dates are yyyy-mm-dd, areas
// two decimals; personal data as in WriteLedgerXLSX.
func WriteLedgerCSV(w io.Writer, h LedgerHeader, rows iter.Seq2[*LedgerRow, error]) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString("\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	rec := make([]string, len(ledgerCols))
	for i, c := range ledgerCols {
		rec[i] = c.name
	}
	if err := cw.Write(rec); err != nil {
		return err
	}
	d := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(cst).Format("2006-01-02")
	}
	n := 0
	for r, rerr := range rows {
		if rerr != nil {
			return rerr
		}
		n++
		name, id := h.person(r)
		rec = append(rec[:0], strconv.Itoa(n), noFormula(r.ApplicationNo), noFormula(r.Village), noFormula(name), noFormula(id), noFormula(r.Address),
			strconv.FormatFloat(r.SiteAreaM2, 'f', 2, 64), strconv.FormatFloat(r.FloorAreaM2, 'f', 2, 64), strconv.Itoa(r.Storeys),
			r.Case.String(), noFormula(landText(r.Land, r.AgriKind)), d(r.AcceptedOn), d(r.ApprovedOn), noFormula(r.CertificateNo), noFormula(r.State),
			d(r.StakedOn), d(r.StartedOn), d(r.AcceptedBuilt), d(r.RegisteredOn))
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// noFormula keeps a spreadsheet from running a text cell as a formula (CSV
// injection): a value starting with = + - @ or a tab/CR gets a leading '.
func noFormula(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
