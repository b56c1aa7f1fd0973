package documents

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
	"github.com/paulmach/orb"
)

// AssessmentSheet is the input of the one-page 考核评估 sheet of a village
// (package assessment fills it).
type AssessmentSheet struct {
	Year    int
	AsOf    string // the day the indicators are read as of, YYYY-MM-DD
	Closed  bool   // the year is closed (a stored snapshot)
	Village string // XZQDM
	Name    string // 村名
	// Score is 0–100 (nil: no weighted value); Rank among Of villages.
	Score    *float64
	Rank, Of int
	// The previous closed year's score and rank (PrevYear 0: none).
	PrevYear  int
	PrevScore *float64
	PrevRank  int
	Change    *float64
	// Rows are the weighted keys in display order.
	Rows []AssessmentRow
	// Map is the village's small map (nil: none drawn).
	Map *VillageMap
	// Generated is when the sheet was made (printed in the footer).
	Generated time.Time
}

// AssessmentRow is one weighted key of the sheet.
type AssessmentRow struct {
	TitleZH string
	Unit    string
	Value   *float64 // nil: the village has none (the key does not count)
	Score   *float64 // part score 0–100
	Weight  float64
	// Share is Weight as a share of the weights the village has values
	// for, in % (its part of the score).
	Share float64
}

// VillageMap is a village's small map: every geometry in one projected
// CRS (a CGCS2000 Gauss-Krüger plane, metres, X = easting), already cut to
// the village by PostGIS. Layers are drawn in order, bottom first.
type VillageMap struct {
	EPSG     int
	Boundary orb.Geometry
	// Focus, when set, is the part to fit in the box (the settled area);
	// otherwise the whole boundary is shown.
	Focus  orb.Geometry
	Layers []MapLayer
}

// MapLayer is one drawn layer: polygons filled (Fill) or outlined, lines
// stroked, points as dots of Radius mm, in RGB colour.
type MapLayer struct {
	Label   string
	R, G, B int
	Fill    bool
	Width   float64 // line width, mm
	Radius  float64 // point radius, mm
	Geoms   []orb.Geometry
	NoLegnd bool
}

// WriteAssessmentSheet renders the sheet as a one-page A4 PDF: the title,
// the score with rank and change, the village map (vector drawing of its
// layers with north arrow and scale bar) beside a bar chart of the part
// scores, and the table of the weighted indicators (value, part score,
// weight and its share of the score).
func WriteAssessmentSheet(w io.Writer, s *AssessmentSheet) (*Rendered, error) {
	d := newDoc(fmt.Sprintf("%s %d 年度乡村建设考核评估表", s.Name, s.Year))
	state := "年度进行中，按当前数据计算"
	if s.Closed {
		state = "年度已结束（考核快照）"
	}
	d.footer = fmt.Sprintf("villageplan 生成于 %s · 示例数据按图层计算", s.Generated.In(cst).Format("2006-01-02 15:04"))
	d.title(fmt.Sprintf("%s%d年度乡村建设考核评估表", s.Name, s.Year),
		fmt.Sprintf("村代码 %s · 指标截至 %s · %s", s.Village, s.AsOf, state))
	rank := "—"
	if s.Rank > 0 {
		rank = fmt.Sprintf("第 %d 名（共 %d 村）", s.Rank, s.Of)
	}
	prev, change := "无（上一年度未结束考核）", "—"
	if s.PrevYear > 0 && s.PrevScore != nil {
		prev = fmt.Sprintf("%d 年 %s 分，第 %d 名", s.PrevYear, num2(s.PrevScore), s.PrevRank)
		if s.Change != nil {
			change = signed(*s.Change)
		}
	}
	d.row(lab(24, "总分"), cell{w: 40, text: num2(s.Score), size: 15, align: "C"}, lab(24, "排名"), val(contentW-88, rank))
	d.row(lab(24, "上年度"), val(contentW-88, prev), lab(24, "变化"), cell{w: 40, text: change, align: "C"})
	d.f.Ln(3)

	// map (left) and chart (right)
	y0 := d.f.GetY()
	mapW, mapH := 96.0, 82.0
	if s.Map != nil && s.Map.Boundary != nil {
		d.drawVillageMap(s.Map, marginL, y0, mapW, mapH)
	}
	d.drawScoreBars(s.Rows, marginL+mapW+5, y0, contentW-mapW-5, mapH)
	d.f.SetXY(marginL, y0+mapH+1)
	if s.Map != nil {
		var names []string
		for _, l := range s.Map.Layers {
			if !l.NoLegnd && len(l.Geoms) > 0 {
				names = append(names, l.Label)
			}
		}
		d.para("村图："+joinZH(names)+"；黑线为村界。坐标系："+crsZH(s.Map.EPSG)+"，图上方为坐标北。", 8, "L")
	}
	d.f.Ln(2)

	// table
	cols := []float64{64, 24, 24, 24, 0}
	cols[4] = contentW - cols[0] - cols[1] - cols[2] - cols[3]
	d.row(lab(cols[0], "指标"), lab(cols[1], "数值"), lab(cols[2], "单项得分"), lab(cols[3], "权重"), lab(cols[4], "占总分权重"))
	for _, r := range s.Rows {
		v, sc, share := "无数据（不计）", "—", "—"
		if r.Value != nil {
			v = strings.TrimSpace(num2(r.Value) + " " + unitZH(r.Unit))
			sc = num2(r.Score)
			share = fmt.Sprintf("%.1f%%", r.Share)
		}
		d.row(cell{w: cols[0], text: r.TitleZH, size: 9}, cell{w: cols[1], text: v, size: 9, align: "R"},
			cell{w: cols[2], text: sc, size: 9, align: "R"}, cell{w: cols[3], text: fmt.Sprintf("%g", r.Weight), size: 9, align: "R"},
			cell{w: cols[4], text: share, size: 9, align: "R"})
	}
	d.f.Ln(1.5)
	d.para("单项得分：比率（%）越高越好取原值、越低越好取 100 减原值；其他指标按全乡各村最小值至最大值线性换算为 0—100（全部相同时为 100）。总分为有数据各项得分的加权平均，保留两位小数，同分同名次。各项公式见 /assessment/keys 与导出的 xlsx。", 8, "L")
	return d.finish(w)
}

func unitZH(u string) string {
	if u == "%" {
		return "%"
	}
	return u
}

func num2(p *float64) string {
	if p == nil {
		return "—"
	}
	s := fmt.Sprintf("%.2f", *p)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

func signed(x float64) string {
	if x > 0 {
		return "+" + num2(&x)
	}
	return num2(&x)
}

// drawScoreBars draws a horizontal bar chart of the part scores (0–100) in
// the box x, y, w, h: one bar per row, a grid at 0/50/100.
func (d *doc) drawScoreBars(rows []AssessmentRow, x, y, w, h float64) {
	f := d.f
	f.SetDrawColor(0, 0, 0)
	f.Rect(x, y, w, h, "D")
	d.setSize(9)
	f.Text(x+2, y+5, d.miss.clean("各项得分（0—100）"))
	if len(rows) == 0 {
		d.setSize(10)
		return
	}
	labelW := 30.0
	bx, bw := x+labelW+2, w-labelW-10
	top, bottom := y+9, y+h-7
	bh := math.Min(6, (bottom-top)/float64(len(rows)))
	// grid
	f.SetDrawColor(190, 190, 190)
	d.setSize(7)
	for _, g := range []float64{0, 50, 100} {
		gx := bx + bw*g/100
		f.Line(gx, top-1, gx, top+bh*float64(len(rows)))
		lbl := fmt.Sprintf("%g", g)
		f.Text(gx-f.GetStringWidth(lbl)/2, top+bh*float64(len(rows))+3.5, lbl)
	}
	for i, r := range rows {
		ry := top + bh*float64(i)
		d.setSize(7)
		lbl := d.miss.clean(r.TitleZH)
		for f.GetStringWidth(lbl) > labelW && len([]rune(lbl)) > 2 {
			rs := []rune(lbl)
			lbl = string(rs[:len(rs)-2]) + "…"
		}
		f.SetTextColor(0, 0, 0)
		f.Text(x+2, ry+bh*0.65, lbl)
		if r.Score == nil {
			f.SetTextColor(130, 130, 130)
			f.Text(bx+1, ry+bh*0.65, d.miss.clean("无数据"))
			f.SetTextColor(0, 0, 0)
			continue
		}
		sc := math.Max(0, math.Min(100, *r.Score))
		switch {
		case sc >= 80:
			f.SetFillColor(26, 152, 80)
		case sc >= 60:
			f.SetFillColor(145, 207, 96)
		case sc >= 40:
			f.SetFillColor(254, 224, 139)
		default:
			f.SetFillColor(215, 48, 39)
		}
		f.Rect(bx, ry+bh*0.15, bw*sc/100, bh*0.7, "F")
		v := num2(r.Score)
		f.Text(bx+bw*sc/100+1, ry+bh*0.65, v)
	}
	f.SetDrawColor(0, 0, 0)
	d.setSize(10)
}

// drawVillageMap draws m in the box x, y, w, h: the layers clipped to the
// box, the village boundary, a north arrow and a scale bar.
func (d *doc) drawVillageMap(m *VillageMap, x0, y0, w, h float64) {
	f := d.f
	b := m.Boundary.Bound()
	margin := 1.06
	if m.Focus != nil {
		b, margin = m.Focus.Bound(), 1.5
	}
	cx, cy := (b.Min[0]+b.Max[0])/2, (b.Min[1]+b.Max[1])/2
	ew, eh := (b.Max[0]-b.Min[0])*margin, (b.Max[1]-b.Min[1])*margin
	if ew <= 0 || eh <= 0 {
		return
	}
	k := math.Min(w/ew, h/eh)
	tx := func(p orb.Point) (float64, float64) {
		return x0 + w/2 + (p[0]-cx)*k, y0 + h/2 - (p[1]-cy)*k
	}
	f.SetDrawColor(0, 0, 0)
	f.SetFillColor(255, 255, 255)
	f.Rect(x0, y0, w, h, "D")
	f.ClipRect(x0, y0, w, h, false)
	for _, l := range m.Layers {
		f.SetDrawColor(l.R, l.G, l.B)
		f.SetFillColor(l.R, l.G, l.B)
		lw := l.Width
		if lw == 0 {
			lw = 0.2
		}
		f.SetLineWidth(lw)
		style := "D"
		if l.Fill {
			style = "F"
		}
		for _, g := range l.Geoms {
			switch g := g.(type) {
			case orb.Point:
				px, py := tx(g)
				f.Circle(px, py, math.Max(l.Radius, 0.5), "F")
			case orb.MultiPoint:
				for _, p := range g {
					px, py := tx(p)
					f.Circle(px, py, math.Max(l.Radius, 0.5), "F")
				}
			default:
				d.geom(g, tx, style)
			}
		}
	}
	f.SetLineWidth(0.5)
	f.SetDrawColor(0, 0, 0)
	d.geom(m.Boundary, tx, "D")
	f.SetLineWidth(0.25)
	f.ClipEnd()
	// north arrow
	ax, ay := x0+w-7, y0+3
	pt := func(x, y float64) fpdf.PointType { return fpdf.PointType{X: x, Y: y} }
	f.SetFillColor(0, 0, 0)
	f.Polygon([]fpdf.PointType{pt(ax, ay), pt(ax+2.4, ay+7), pt(ax, ay+5.5)}, "F")
	f.SetFillColor(255, 255, 255)
	f.Polygon([]fpdf.PointType{pt(ax, ay), pt(ax-2.4, ay+7), pt(ax, ay+5.5)}, "FD")
	d.setSize(8)
	f.Text(ax-1.4, ay+10.5, "北")
	// scale bar
	sm := niceLength(w / 4 / k)
	sw := sm * k
	bx, by := x0+4, y0+h-5
	f.SetFillColor(255, 255, 255)
	f.Rect(bx-1.5, by-4.5, sw+14, 7.5, "F")
	for i := 0; i < 2; i++ {
		if i == 0 {
			f.SetFillColor(0, 0, 0)
		} else {
			f.SetFillColor(255, 255, 255)
		}
		f.Rect(bx+float64(i)*sw/2, by, sw/2, 1.2, "FD")
	}
	d.setSize(7)
	f.Text(bx-0.8, by-1, "0")
	f.Text(bx+sw-f.GetStringWidth(fmt.Sprintf("%g", sm))/2, by-1, fmt.Sprintf("%g 米", sm))
	d.setSize(10)
}
