package documents

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
)

// Page geometry of every document: A4 portrait, millimetres.
const (
	pageW, pageH = 210.0, 297.0
	marginL      = 18.0
	marginR      = 15.0
	marginT      = 15.0
	marginB      = 16.0
	contentW     = pageW - marginL - marginR
	lineH        = 5.2 // height of one text line at 10 pt, mm
)

// cst is China Standard Time; every date of the documents is printed in it.
var cst = time.FixedZone("CST", 8*3600)

// Rendered tells what a rendering produced besides the PDF bytes.
type Rendered struct {
	// Pages is the number of A4 pages.
	Pages int
	// Missing lists the characters the embedded font (GB 2312) cannot
	// draw. Each is printed as 〔U+XXXX〕 in the PDF; the desk should tell
	// the clerk to complete it by hand (e.g. a rare character in a name).
	Missing []MissingChar
}

// doc wraps fpdf with the layout primitives of the forms.
type doc struct {
	f       *fpdf.Fpdf
	miss    missingSet
	widthOf map[rune]float64
	size    float64 // current font size, pt
	footer  string
}

func newDoc(title string) *doc {
	f := fpdf.New("P", "mm", "A4", "")
	f.SetMargins(marginL, marginT, marginR)
	f.SetAutoPageBreak(false, marginB)
	f.AddUTF8FontFromBytes(fontFamily, "", fontTTF)
	f.SetTitle(title, true)
	f.SetCreator("villageplan", true)
	f.SetProducer("villageplan", true)
	f.SetCompression(true)
	d := &doc{f: f, widthOf: map[rune]float64{}}
	f.AliasNbPages("{nb}")
	f.SetFooterFunc(func() {
		f.SetY(pageH - marginB + 5)
		d.setSize(8)
		f.SetTextColor(80, 80, 80)
		f.CellFormat(contentW/2, 4, d.miss.clean(d.footer), "", 0, "L", false, 0, "")
		f.CellFormat(contentW/2, 4, fmt.Sprintf("第 %d 页 共 {nb} 页", f.PageNo()), "", 0, "R", false, 0, "")
		f.SetTextColor(0, 0, 0)
	})
	d.addPage()
	return d
}

func (d *doc) addPage() {
	d.f.AddPage()
	d.setSize(10)
	d.f.SetLineWidth(0.25)
	d.f.SetDrawColor(0, 0, 0)
}

func (d *doc) setSize(pt float64) {
	d.f.SetFont(fontFamily, "", pt)
	d.size = pt
	d.widthOf = map[rune]float64{}
}

// finish writes the PDF to w.
func (d *doc) finish(w io.Writer) (*Rendered, error) {
	if err := d.f.Error(); err != nil {
		return nil, fmt.Errorf("PDF 生成失败 / PDF rendering failed: %w", err)
	}
	var buf bytes.Buffer
	if err := d.f.Output(&buf); err != nil {
		return nil, fmt.Errorf("PDF 生成失败 / PDF rendering failed: %w", err)
	}
	r := &Rendered{Pages: d.f.PageNo(), Missing: d.miss.list}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return nil, err
	}
	return r, nil
}

func (d *doc) runeW(r rune) float64 {
	if w, ok := d.widthOf[r]; ok {
		return w
	}
	w := d.f.GetStringWidth(string(r))
	d.widthOf[r] = w
	return w
}

// wrap splits s (already cleaned) into lines no wider than w mm. It breaks
// anywhere between CJK characters and at spaces in Latin text, and never
// drops a character (fpdf's SplitText loses the one it breaks at).
func (d *doc) wrap(s string, w float64) []string {
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		rs := []rune(para)
		start, width, lastSpace := 0, 0.0, -1
		for i := 0; i < len(rs); i++ {
			cw := d.runeW(rs[i])
			if rs[i] == ' ' {
				lastSpace = i
			}
			if width+cw > w && i > start {
				cut := i
				if lastSpace > start && rs[i] != ' ' && isLatin(rs[i]) && isLatin(rs[i-1]) {
					cut = lastSpace + 1
				} else if cut-1 > start && strings.ContainsRune(noLineStart, rs[cut]) {
					cut-- // a closing mark never starts a line: take the character before it along
				}
				lines = append(lines, strings.TrimRight(string(rs[start:cut]), " "))
				start, lastSpace = cut, -1
				width = 0
				for j := start; j < i; j++ {
					width += d.runeW(rs[j])
				}
			}
			width += cw
		}
		lines = append(lines, string(rs[start:]))
	}
	return lines
}

// noLineStart are the marks that may not begin a line (禁则).
const noLineStart = "）】》」』〕，。；：、！？”’.,;:!?)"

func isLatin(r rune) bool { return r < 0x2E80 && r != ' ' }

// text writes a wrapped paragraph over the content width.
func (d *doc) para(s string, size float64, align string) {
	d.setSize(size)
	s = d.miss.clean(s)
	h := size * 0.5
	for _, l := range d.wrap(s, contentW) {
		d.need(h)
		d.f.SetX(marginL)
		d.f.CellFormat(contentW, h, l, "", 1, align, false, 0, "")
	}
	d.setSize(10)
}

// title writes the centred document title and a subtitle line.
func (d *doc) title(t, sub string) {
	d.f.SetY(marginT)
	d.setSize(17)
	d.f.CellFormat(contentW, 10, d.miss.clean(t), "", 1, "C", false, 0, "")
	if sub != "" {
		d.setSize(9.5)
		d.f.CellFormat(contentW, 6, d.miss.clean(sub), "", 1, "C", false, 0, "")
	}
	d.setSize(10)
	d.f.Ln(1.5)
}

// need starts a new page when h mm do not fit above the bottom margin.
func (d *doc) need(h float64) {
	if d.f.GetY()+h > pageH-marginB {
		d.addPage()
	}
}

// cell is one cell of a table row: w in mm; label cells are shaded.
type cell struct {
	w     float64
	text  string
	label bool
	align string // L (default), C, R
	size  float64
	minH  float64 // minimum height of the row, mm
}

func lab(w float64, s string) cell { return cell{w: w, text: s, label: true, align: "C"} }
func val(w float64, s string) cell { return cell{w: w, text: s} }

// row draws one table row of cells whose widths add up to contentW; the
// row is as tall as its tallest wrapped cell (and minH).
func (d *doc) row(cells ...cell) {
	type laid struct {
		lines []string
		size  float64
	}
	ls := make([]laid, len(cells))
	h := 0.0
	for i, c := range cells {
		size := c.size
		if size == 0 {
			size = 10
			if c.label {
				size = 9.5
			}
		}
		d.setSize(size)
		lines := d.wrap(d.miss.clean(c.text), c.w-2.4)
		ls[i] = laid{lines, size}
		ch := float64(len(lines))*size*0.46 + 2.6
		if c.minH > ch {
			ch = c.minH
		}
		if ch > h {
			h = ch
		}
	}
	if h < 7.5 {
		h = 7.5
	}
	if full := pageH - marginT - marginB; h > full {
		// Taller than a page: split every cell's lines into page-sized
		// pieces, each drawn as a row of its own, so nothing runs off the
		// page or is cut.
		d.need(full / 3)
		maxLH := 0.0
		for _, l := range ls {
			maxLH = math.Max(maxLH, l.size*0.46)
		}
		for k := 0; ; {
			n := int((pageH - marginB - d.f.GetY() - 2.6) / maxLH)
			if n < 1 {
				d.addPage()
				continue
			}
			part := make([]cell, len(cells))
			more := false
			for i, c := range cells {
				lines := ls[i].lines
				lo, hi := min(k, len(lines)), min(k+n, len(lines))
				part[i] = c
				part[i].text = strings.Join(lines[lo:hi], "\n")
				part[i].minH = 0
				more = more || hi < len(lines)
			}
			d.row(part...)
			if !more {
				return
			}
			k += n
		}
	}
	d.need(h)
	x, y := marginL, d.f.GetY()
	for i, c := range cells {
		if c.label {
			d.f.SetFillColor(238, 238, 238)
			d.f.Rect(x, y, c.w, h, "FD")
		} else {
			d.f.Rect(x, y, c.w, h, "D")
		}
		d.setSize(ls[i].size)
		lh := ls[i].size * 0.46
		th := float64(len(ls[i].lines)) * lh
		ty := y + (h-th)/2
		if !c.label && len(ls[i].lines) > 1 {
			ty = y + 1.3
		}
		align := c.align
		if align == "" {
			align = "L"
		}
		for j, l := range ls[i].lines {
			d.f.SetXY(x+1.2, ty+float64(j)*lh)
			d.f.CellFormat(c.w-2.4, lh, l, "", 0, align, false, 0, "")
		}
		x += c.w
	}
	d.f.SetXY(marginL, y+h)
	d.setSize(10)
}

// opinion draws a signed opinion block: a label column, the opinion text,
// and at the bottom right the signer line, the seal area (when seal) and
// the date. height is the block's minimum height in mm; a seal needs ≥ 42
// mm (the township's round seal is 42 mm across).
func (d *doc) opinion(label, text, headLabel, head string, date time.Time, seal bool, height float64) {
	d.setSize(10)
	text = d.miss.clean(text)
	lw := 34.0
	lines := d.wrap(text, contentW-lw-4)
	h := float64(len(lines))*lineH + 18
	if h < height {
		h = height
	}
	if h > pageH-marginT-marginB-10 {
		// A text longer than a page: the text as rows that split across
		// pages, then the signature block on its own.
		d.row(cell{w: lw, text: label, label: true, align: "C"}, val(contentW-lw, text))
		d.opinion(label+"（续）", "", headLabel, head, date, seal, height)
		return
	}
	d.need(h)
	x, y := marginL, d.f.GetY()
	d.f.SetFillColor(238, 238, 238)
	d.f.Rect(x, y, lw, h, "FD")
	d.f.Rect(x+lw, y, contentW-lw, h, "D")
	d.setSize(9.5)
	ll := d.wrap(d.miss.clean(label), lw-3)
	for j, l := range ll {
		d.f.SetXY(x+1.5, y+(h-float64(len(ll))*4.6)/2+float64(j)*4.6)
		d.f.CellFormat(lw-3, 4.6, l, "", 0, "C", false, 0, "")
	}
	d.setSize(10)
	for j, l := range lines {
		d.f.SetXY(x+lw+2, y+2+float64(j)*lineH)
		d.f.CellFormat(contentW-lw-4, lineH, l, "", 0, "L", false, 0, "")
	}
	if seal {
		// The seal area: a dashed 40 mm circle outline to stamp over.
		d.f.SetDrawColor(170, 170, 170)
		d.f.SetDashPattern([]float64{1, 1}, 0)
		d.f.Circle(x+contentW-30, y+h-24, 18, "D")
		d.f.SetDashPattern(nil, 0)
		d.f.SetDrawColor(0, 0, 0)
		d.f.SetTextColor(130, 130, 130)
		d.setSize(9)
		d.f.SetXY(x+contentW-48, y+h-26)
		d.f.CellFormat(36, 4, "（盖章）", "", 0, "C", false, 0, "")
		d.f.SetTextColor(0, 0, 0)
		d.setSize(10)
	}
	d.f.SetXY(x+lw+2, y+h-7)
	d.f.CellFormat(70, 5, d.miss.clean(headLabel+"："+head), "", 0, "L", false, 0, "")
	d.f.SetXY(x+contentW-62, y+h-7)
	d.f.CellFormat(60, 5, "日期："+dateZH(date), "", 0, "R", false, 0, "")
	d.f.SetXY(marginL, y+h)
}

// section writes a bold-looking section heading.
func (d *doc) section(s string) {
	d.need(32) // a heading never ends a page alone
	d.f.Ln(2)
	d.setSize(11.5)
	d.f.SetTextRenderingMode(2) // fill + stroke: a faux bold for the one-weight font
	d.f.SetLineWidth(0.15)
	d.f.CellFormat(contentW, 7, d.miss.clean(s), "", 1, "L", false, 0, "")
	d.f.SetTextRenderingMode(0)
	d.f.SetLineWidth(0.25)
	d.setSize(10)
}

// dateZH prints a date as 2026年03月05日 (China time); the zero time gives
// the blank "    年    月    日" to fill in by hand.
func dateZH(t time.Time) string {
	if t.IsZero() {
		return "      年    月    日"
	}
	return t.In(cst).Format("2006年01月02日")
}

// check renders a choice list: ■ for the chosen option, □ for the others.
func check(options []string, chosen int) string {
	var b strings.Builder
	for i, o := range options {
		if i > 0 {
			b.WriteString("  ")
		}
		if i+1 == chosen {
			b.WriteString("■")
		} else {
			b.WriteString("□")
		}
		b.WriteString(o)
	}
	return b.String()
}

// m2 formats an area in square metres with two decimals; 0 prints "—".
func m2(v float64) string {
	if v == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f 平方米", v)
}

func metres(v float64) string {
	if v == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f 米", v)
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "■是  □否"
	}
	return "□是  ■否"
}
