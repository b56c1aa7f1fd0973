package documents

import (
	"fmt"
	"math"

	"villageplan/geo/crs"
)

// BoundaryPoint is one 界址点 of a site in the survey convention of DOMAIN.md
// §6: X is the northing and Y the easting, in metres, in the site's
// CGCS2000 Gauss-Krüger CRS (Site.EPSG; Y carries the zone number when that
// CRS does). No is the point number as surveyed ("J1", "1" …); Ring is the
// 圈号 (1 = outer ring). The closing point is not repeated: the table adds it.
type BoundaryPoint struct {
	No   string
	Ring int
	X, Y float64
}

// Site is a homestead site as the documents print it.
type Site struct {
	// Address is the 坐落 (e.g. "双营子回族乡大营村三组").
	Address string
	// East, South, West, North are the 四至 (what borders the site).
	East, South, West, North string
	// AreaM2 is the site area in m² on the Gauss-Krüger plane.
	AreaM2 float64
	// EPSG is the CGCS2000 Gauss-Krüger CRS of Points: 4513–4533 (3° zones
	// with the zone number in Y), 4534–4554 (3° by central meridian), or the
	// 6° codes 4491–4512. The coordinate table states zone and meridian.
	EPSG int
	// Points are the 界址点 in order along each ring.
	Points []BoundaryPoint
}

// crsZH describes a CRS in Chinese, e.g. "2000国家大地坐标系，高斯-克吕格投影，
// 3度分带第42带（中央经线东经126°），Y坐标含带号（EPSG:4530）".
func crsZH(epsg int) string {
	if epsg == 0 {
		return "未注明"
	}
	c, ok := crs.Lookup(epsg)
	if !ok || c.Kind != crs.GaussKruger {
		return fmt.Sprintf("EPSG:%d（非高斯-克吕格投影坐标系，请核对）", epsg)
	}
	s := fmt.Sprintf("2000国家大地坐标系，高斯-克吕格投影，%d度分带第%d带（中央经线东经%.0f°）", c.ZoneWidth, c.Zone, c.CentralMeridian)
	if c.ZonePrefix {
		s += "，Y坐标含带号"
	} else {
		s += "，Y坐标不含带号"
	}
	return s + fmt.Sprintf("（EPSG:%d）", epsg)
}

// coordTable draws the 界址点坐标表: point no., X (north), Y (east), the
// length of the edge to the next point, ring by ring with the first point
// repeated at the end, under a line stating the CRS and the area.
func (d *doc) coordTable(s Site) {
	d.section("界址点坐标表")
	d.para(fmt.Sprintf("坐标系：%s；单位：米。宗地面积：%s。", crsZH(s.EPSG), m2(s.AreaM2)), 9, "L")
	if len(s.Points) == 0 {
		d.row(val(contentW, "（未提供界址点坐标）"))
		return
	}
	multi := false
	for _, p := range s.Points {
		if p.Ring > 1 {
			multi = true
		}
	}
	w := []float64{22, 22, 48, 48, 40}
	hdr := []cell{lab(w[0], "序号"), lab(w[1], "点号"), lab(w[2], "X（北坐标）"), lab(w[3], "Y（东坐标）"), lab(w[4], "边长（米）")}
	if multi {
		hdr[0] = lab(w[0], "圈号")
	}
	d.row(hdr...)
	// rings in order of appearance
	var rings [][]BoundaryPoint
	idx := map[int]int{}
	for _, p := range s.Points {
		r := p.Ring
		if r == 0 {
			r = 1
		}
		i, ok := idx[r]
		if !ok {
			i = len(rings)
			idx[r] = i
			rings = append(rings, nil)
		}
		rings[i] = append(rings[i], p)
	}
	n := 0
	for ri, ring := range rings {
		for i := 0; i <= len(ring); i++ {
			p := ring[i%len(ring)]
			edge := ""
			if i < len(ring) {
				q := ring[(i+1)%len(ring)]
				edge = fmt.Sprintf("%.2f", math.Hypot(q.X-p.X, q.Y-p.Y))
			}
			first := ""
			if multi {
				first = fmt.Sprint(ri + 1)
			} else if i < len(ring) {
				n++
				first = fmt.Sprint(n)
			}
			c := []cell{
				{w: w[0], text: first, align: "C", minH: 6.2, size: 9.5},
				{w: w[1], text: p.No, align: "C", size: 9.5},
				{w: w[2], text: fmt.Sprintf("%.3f", p.X), align: "R", size: 9.5},
				{w: w[3], text: fmt.Sprintf("%.3f", p.Y), align: "R", size: 9.5},
				{w: w[4], text: edge, align: "R", size: 9.5},
			}
			if d.f.GetY()+6.2 > pageH-marginB {
				d.addPage()
				d.row(hdr...) // the header again on the new page
			}
			d.smallRow(c...)
		}
	}
}

// smallRow is row with a fixed 6.2 mm height (coordinate tables).
func (d *doc) smallRow(cells ...cell) {
	h := 6.2
	d.need(h)
	x, y := marginL, d.f.GetY()
	d.setSize(9.5)
	for _, c := range cells {
		d.f.Rect(x, y, c.w, h, "D")
		d.f.SetXY(x+1.2, y+0.6)
		d.f.CellFormat(c.w-2.4, h-1.2, d.miss.clean(c.text), "", 0, c.align, false, 0, "")
		x += c.w
	}
	d.f.SetXY(marginL, y+h)
	d.setSize(10)
}

// fourSides is the 四至 row pair.
func (d *doc) fourSides(s Site) {
	d.row(lab(22, "东至"), val(68, orDash(s.East)), lab(22, "南至"), val(contentW-112, orDash(s.South)))
	d.row(lab(22, "西至"), val(68, orDash(s.West)), lab(22, "北至"), val(contentW-112, orDash(s.North)))
}
