package documents

import (
	"fmt"
	"math"

	"github.com/go-pdf/fpdf"
	"github.com/paulmach/orb"
)

// SiteMap is the input of the location map drawn into a document: every
// geometry in the same projected CRS (a CGCS2000 Gauss-Krüger plane, metres;
// orb order X = easting, Y = northing — note that this is the reverse of the
// X/Y of BoundaryPoint), already cut to what should be shown.
type SiteMap struct {
	// EPSG of the plane (stated under the map).
	EPSG int
	// Site is the applied-for site: orb.Polygon or orb.MultiPolygon.
	Site orb.Geometry
	// Overlaps are the parts of blocking layers that intersect the site
	// (the intersection, not the whole feature): they are the only things
	// highlighted, in red. Label names the layer in Chinese (永久基本农田 …).
	Overlaps []MapFeature
	// Context are a few surrounding features drawn in grey (homesteads,
	// roads, power lines, pipes) for orientation.
	Context []MapFeature
	// Points labels the site's vertices with their 界址点 numbers (optional;
	// X/Y as in BoundaryPoint: X north, Y east).
	Points []BoundaryPoint
}

// MapFeature is one geometry of a map: polygons are filled, lines
// stroked, points drawn as dots. Label is a short Chinese name shown at the
// feature (context) or in the legend (overlaps).
type MapFeature struct {
	Geom  orb.Geometry
	Label string
}

// drawMap draws m into a box of w×h mm at the current position: a white
// window around the site (site extent + 40 % margin, at least 15 m), the
// context in grey, the overlaps in red, the site outlined in a black
// dashed line with its 界址点 numbers, a north arrow (the plane's grid
// north: Gauss-Krüger Y up) and a scale bar; then a legend line.
func (d *doc) drawMap(m *SiteMap, w, h float64) {
	if m == nil || m.Site == nil {
		return
	}
	d.need(h + 12)
	x0, y0 := marginL, d.f.GetY()
	b := m.Site.Bound()
	cx, cy := (b.Min[0]+b.Max[0])/2, (b.Min[1]+b.Max[1])/2
	ew, eh := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	pad := math.Max(15, 0.7*math.Max(ew, eh))
	ew, eh = ew+2*pad, eh+2*pad
	// mm per metre, fitting both directions
	k := math.Min(w/ew, h/eh)
	tx := func(p orb.Point) (float64, float64) {
		return x0 + w/2 + (p[0]-cx)*k, y0 + h/2 - (p[1]-cy)*k
	}
	f := d.f
	f.SetFillColor(255, 255, 255)
	f.Rect(x0, y0, w, h, "D")
	f.ClipRect(x0, y0, w, h, false)

	f.SetLineWidth(0.5)
	for _, c := range m.Context {
		f.SetDrawColor(110, 110, 110)
		f.SetFillColor(222, 222, 222)
		d.geom(c.Geom, tx, "DF*")
	}
	f.SetLineWidth(0.25)
	f.SetAlpha(0.55, "Normal")
	f.SetFillColor(225, 30, 30)
	f.SetDrawColor(190, 0, 0)
	for _, o := range m.Overlaps {
		d.geom(o.Geom, tx, "DF*")
	}
	f.SetAlpha(1, "Normal")
	f.SetDrawColor(0, 0, 0)
	f.SetLineWidth(0.6)
	f.SetDashPattern([]float64{2.2, 1.2}, 0)
	d.geom(m.Site, tx, "D")
	f.SetDashPattern(nil, 0)
	f.SetLineWidth(0.25)
	// context labels
	d.setSize(7)
	f.SetTextColor(90, 90, 90)
	for _, c := range m.Context {
		if c.Label == "" || c.Geom == nil {
			continue
		}
		px, py := tx(c.Geom.Bound().Center())
		lw := f.GetStringWidth(d.miss.clean(c.Label))
		f.Text(px-lw/2, py+1, d.miss.clean(c.Label))
	}
	f.SetTextColor(0, 0, 0)
	// 界址点 numbers, pushed outward from the site centre
	d.setSize(7.5)
	f.SetFillColor(0, 0, 0)
	for _, p := range m.Points {
		pt := orb.Point{p.Y, p.X}
		px, py := tx(pt)
		f.Circle(px, py, 0.5, "F")
		dx, dy := px-(x0+w/2), py-(y0+h/2)
		n := math.Hypot(dx, dy)
		if n == 0 {
			n = 1
		}
		s := d.miss.clean(p.No)
		lw := f.GetStringWidth(s)
		f.Text(px+dx/n*3-lw/2, py+dy/n*3+1.2, s)
	}
	f.ClipEnd()
	// north arrow, top right
	ax, ay := x0+w-9, y0+4
	f.SetFillColor(0, 0, 0)
	pt := func(x, y float64) fpdf.PointType { return fpdf.PointType{X: x, Y: y} }
	f.Polygon([]fpdf.PointType{pt(ax, ay), pt(ax+3, ay+9), pt(ax, ay+7)}, "F")
	f.SetFillColor(255, 255, 255)
	f.Polygon([]fpdf.PointType{pt(ax, ay), pt(ax-3, ay+9), pt(ax, ay+7)}, "FD")
	d.setSize(9)
	f.Text(ax-1.6, ay+13.5, "北")
	// scale bar, bottom left: a nice length near a quarter of the width
	sm := niceLength(w / 4 / k)
	sw := sm * k
	bx, by := x0+5, y0+h-6
	f.SetFillColor(255, 255, 255)
	f.Rect(bx-2, by-5.5, sw+16, 9, "F")
	for i := 0; i < 4; i++ {
		if i%2 == 0 {
			f.SetFillColor(0, 0, 0)
		} else {
			f.SetFillColor(255, 255, 255)
		}
		f.Rect(bx+float64(i)*sw/4, by, sw/4, 1.4, "FD")
	}
	d.setSize(7.5)
	f.Text(bx-0.8, by-1, "0")
	lbl := fmt.Sprintf("%g 米", sm)
	f.Text(bx+sw-f.GetStringWidth(fmt.Sprintf("%g", sm))/2, by-1, lbl)
	scale := niceScale(1000 / k)
	f.Text(bx, by+4.5, fmt.Sprintf("1:%d", scale))
	f.SetXY(marginL, y0+h+1)
	leg := "图例：黑色虚线为申请宅基地范围，圆点及编号为界址点；灰色为周边宅基地、道路、管线等；"
	if len(m.Overlaps) > 0 {
		seen := map[string]bool{}
		var names []string
		for _, o := range m.Overlaps {
			if o.Label != "" && !seen[o.Label] {
				seen[o.Label] = true
				names = append(names, o.Label)
			}
		}
		leg += "红色为与" + joinZH(names) + "重叠的部分；"
	} else {
		leg += "无与禁止建设图层重叠的部分；"
	}
	leg += "坐标系：" + crsZH(m.EPSG) + "，图上方为坐标北。"
	d.para(leg, 8.5, "L")
	d.setSize(10)
}

// geom draws one orb geometry with the given fpdf path style.
func (d *doc) geom(g orb.Geometry, tx func(orb.Point) (float64, float64), style string) {
	f := d.f
	ring := func(r []orb.Point, closed bool) {
		for i, p := range r {
			x, y := tx(p)
			if i == 0 {
				f.MoveTo(x, y)
			} else {
				f.LineTo(x, y)
			}
		}
		if closed {
			f.ClosePath()
		}
	}
	switch g := g.(type) {
	case orb.Polygon:
		if len(g) == 0 {
			return
		}
		for _, r := range g {
			ring(r, true)
		}
		f.DrawPath(style)
	case orb.MultiPolygon:
		for _, p := range g {
			d.geom(p, tx, style)
		}
	case orb.Ring:
		d.geom(orb.Polygon{g}, tx, style)
	case orb.LineString:
		if len(g) < 2 {
			return
		}
		ring(g, false)
		f.DrawPath("D")
	case orb.MultiLineString:
		for _, l := range g {
			d.geom(l, tx, style)
		}
	case orb.Point:
		x, y := tx(g)
		f.Circle(x, y, 0.8, "FD")
	case orb.MultiPoint:
		for _, p := range g {
			d.geom(p, tx, style)
		}
	case orb.Collection:
		for _, c := range g {
			d.geom(c, tx, style)
		}
	}
}

// niceLength rounds a length down to 1, 2 or 5 × 10ⁿ metres.
func niceLength(x float64) float64 {
	if x <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, f := range []float64{5, 2, 1} {
		if f*p <= x {
			return f * p
		}
	}
	return p
}

// niceScale rounds a scale denominator to two significant digits.
func niceScale(x float64) int {
	if x <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x))-1)
	return int(math.Round(x/p) * p)
}

func joinZH(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += "、"
		}
		out += x
	}
	return out
}
