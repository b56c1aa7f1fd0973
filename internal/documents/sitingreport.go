package documents

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"villageplan/internal/siting"
	"villageplan/layers"
)

// SitingReport is the 宅基地选址审查报告 as a PDF: the verdict and the rules
// that caused it first, the site, the map, the 界址点坐标表, every rule with
// its legal basis (土地管理法 第六十二条 and the sources of the rule set),
// and the reviewers' signature and seal block. Build it from a stored check
// with FromSiting, or fill it directly.
type SitingReport struct {
	Township  string // e.g. 双阳区双营子回族乡人民政府
	Village   string
	Applicant string // 申请人 (personal; leave empty when not entitled)
	CheckedAt time.Time
	// Verdict is the overall outcome, printed with Outcome.ZH.
	Verdict siting.Outcome
	Rules   []RuleLine
	Site    Site
	Map     *SiteMap
	// Notes are printed under the verdict (provisional values, layers
	// without data at the site …), in Chinese.
	Notes []string
	// Basis says which rule set and data the check used, in Chinese.
	Basis string
}

// RuleLine is one rule of the report, all text in Chinese.
type RuleLine struct {
	Title      string
	Outcome    siting.Outcome
	Measured   string // e.g. "12.30 平方米", "" when nothing was measured
	Limit      string // e.g. "≥ 10.00 米（暂定）"
	Message    string
	LegalBasis string
	// Features describe the features that caused the outcome, e.g.
	// "永久基本农田 图斑编号 220112…，重叠 12.30 平方米".
	Features []string
}

var asciiParen = regexp.MustCompile(`（[A-Za-z0-9_.:/\- ]*[A-Za-z_][A-Za-z0-9_.:/\- ]*）`)

// plainZH removes parenthesised English identifiers (e.g. "（ST_MakeValid）")
// that the rule messages carry for the desk's technicians.
func plainZH(s string) string { return asciiParen.ReplaceAllString(s, "") }

// FromSiting turns a stored check into a report. site gives the 界址点 and
// 坐落 (res carries only the polygon in EPSG:4490); without points they are
// numbered from the map's site polygon (PointsFromGeometry). m is the map
// (MapFromSiting of siting.Service.MapData; nil: no map). Layer ids become their Chinese titles, units Chinese words, and
// feature ids are left out; 宗地代码, 图斑编号 and names are kept.
func FromSiting(res *siting.Result, site Site, m *SiteMap) *SitingReport {
	r := &SitingReport{
		Village: res.Site.VillageName, CheckedAt: res.CreatedAt, Verdict: res.Verdict,
		Site: site, Map: m,
	}
	if r.Site.AreaM2 == 0 {
		r.Site.AreaM2 = res.Site.AreaM2
	}
	if r.Site.EPSG == 0 {
		r.Site.EPSG = res.Site.MeasureEPSG
	}
	if n := res.Site.Neighbors; n != nil {
		if r.Site.East == "" {
			r.Site.East, r.Site.South, r.Site.West, r.Site.North = n["east"], n["south"], n["west"], n["north"]
		}
	}
	if len(r.Site.Points) == 0 && m != nil {
		r.Site.Points = PointsFromGeometry(m.Site)
	}
	if m != nil && len(m.Points) == 0 {
		m.Points = r.Site.Points
	}
	cat := layers.Default()
	for _, rr := range res.Rules {
		l := RuleLine{Title: rr.TitleZH, Outcome: rr.Outcome, Message: plainZH(rr.MessageZH), LegalBasis: rr.LegalBasis}
		unit := map[string]string{"m²": "平方米", "m": "米"}[rr.Unit]
		if rr.Measured != nil {
			l.Measured = fmt.Sprintf("%.2f %s", *rr.Measured, unit)
		}
		if rr.Threshold != nil {
			l.Limit = fmt.Sprintf("%.2f %s", *rr.Threshold, unit)
			if rr.Placeholder {
				l.Limit += "（暂定）"
			}
		}
		for _, h := range rr.Features {
			name := "图斑"
			if lay, ok := cat.Layer(h.Layer); ok {
				name = lay.TitleZH
			}
			for _, k := range []struct{ key, label string }{{"zddm", "宗地代码"}, {"yjjbnttbbh", "图斑编号"}, {"lxbm", "路线编码"}, {"gkbjlxmc", ""}, {"dlmc", ""}, {"name", ""}} {
				if v, ok := h.Attrs[k.key]; ok && v != nil && fmt.Sprint(v) != "" {
					name += " " + k.label + fmt.Sprint(v)
				}
			}
			switch {
			case h.OverlapM2 > 0:
				name += fmt.Sprintf("，重叠 %.2f 平方米", h.OverlapM2)
			case h.DistanceM > 0:
				name += fmt.Sprintf("，距离 %.2f 米", h.DistanceM)
			}
			l.Features = append(l.Features, name)
		}
		r.Rules = append(r.Rules, l)
	}
	if res.Placeholders {
		r.Notes = append(r.Notes, "本报告使用了尚待本地确认的暂定数值（见标注“暂定”的规则），结论须待区农业农村局、自然资源局确认后方可作为最终依据。")
	}
	if res.NoCoverageZH != "" {
		r.Notes = append(r.Notes, plainZH(res.NoCoverageZH)+"。")
	}
	r.Basis = fmt.Sprintf("规则集版本 %s；审查时的图层数据版本已存档。", res.RuleSetVersion)
	return r
}

// Summary is the verdict and its reasons as the 审批表 prints them.
func (r *SitingReport) Summary() *SitingSummary {
	return &SitingSummary{Verdict: r.Verdict, CheckedAt: r.CheckedAt, Reasons: r.reasons()}
}

// reasons are the rules with the verdict's outcome or any non-PASS
// outcome, most severe first.
func (r *SitingReport) reasons() []string {
	var rs []RuleLine
	for _, l := range r.Rules {
		if l.Outcome != siting.Pass {
			rs = append(rs, l)
		}
	}
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].Outcome.Severity() > rs[j].Outcome.Severity() })
	var out []string
	for _, l := range rs {
		out = append(out, fmt.Sprintf("【%s】%s：%s", l.Outcome.ZH(), l.Title, l.Message))
	}
	return out
}

// verdictExplained is the verdict word with what it means for the desk.
func verdictExplained(o siting.Outcome) string {
	switch o {
	case siting.Block:
		return o.ZH() + "——法律禁止在此选址建房，不予批准"
	case siting.PermitPath:
		return o.ZH() + "——须先依法办理农用地转用审批，方可核发乡村建设规划许可"
	case siting.Review:
		return o.ZH() + "——须人工或相关部门审查后再作决定"
	case siting.Pass:
		return o.ZH() + "——符合选址要求"
	}
	return "未知结论"
}

// WriteSitingReport renders r as the A4 选址审查报告 PDF.
func WriteSitingReport(w io.Writer, r *SitingReport) (*Rendered, error) {
	d := newDoc("宅基地选址审查报告")
	d.footer = "宅基地选址审查报告  依据：土地管理法第六十二条、城乡规划法第四十一条"
	d.title("宅基地选址审查报告", strings.TrimSpace(r.Township+" 宅基地审批窗口  审查日期："+dateZH(r.CheckedAt)))
	d.row(lab(34, "审查结论"), cell{w: contentW - 34, text: verdictExplained(r.Verdict), size: 13})
	if rs := r.reasons(); len(rs) > 0 {
		d.row(lab(34, "原因"), val(contentW-34, numbered(rs)))
	}
	for _, n := range r.Notes {
		d.row(lab(34, "注意"), val(contentW-34, n))
	}
	d.section("选址概况")
	d.row(lab(30, "所在村"), val(60, orDash(r.Village)), lab(30, "申请人"), val(contentW-120, orDash(r.Applicant)))
	d.row(lab(30, "坐落"), val(60, orDash(r.Site.Address)), lab(30, "用地面积"), val(contentW-120, m2(r.Site.AreaM2)))
	d.fourSides(r.Site)
	if r.Map != nil {
		d.section("选址位置图")
		d.drawMap(r.Map, contentW, 95)
	}
	d.coordTable(r.Site)
	d.section("逐项审查结果")
	w4 := []float64{36, 22, 72, contentW - 130}
	d.row(lab(w4[0], "审查项"), lab(w4[1], "结论"), lab(w4[2], "测量值 / 限值 / 说明"), lab(w4[3], "法律依据"))
	rules := append([]RuleLine(nil), r.Rules...)
	sort.SliceStable(rules, func(i, j int) bool { return rules[i].Outcome.Severity() > rules[j].Outcome.Severity() })
	for _, l := range rules {
		var b strings.Builder
		if l.Measured != "" {
			b.WriteString("测量值：" + l.Measured + "\n")
		}
		if l.Limit != "" {
			b.WriteString("限值：" + l.Limit + "\n")
		}
		b.WriteString(l.Message)
		for _, f := range l.Features {
			b.WriteString("\n· " + f)
		}
		d.row(val(w4[0], l.Title), cell{w: w4[1], text: l.Outcome.ZH(), align: "C"}, val(w4[2], b.String()), cell{w: w4[3], text: l.LegalBasis, size: 8.5})
	}
	if r.Basis != "" {
		d.para(r.Basis+" 面积与距离在高斯-克吕格投影平面上量算，精确到 0.01。", 8.5, "L")
	}
	d.f.Ln(2)
	d.opinion("审查意见", "", "审查人 / 复核人", "", time.Time{}, true, 46)
	return d.finish(w)
}

// MapFromSiting turns the geometries of a stored check (siting.MapData, on
// the check's Gauss-Krüger plane) into the map of a report or certificate:
// overlaps labelled with their layer's Chinese title, context features
// labelled the same way.
func MapFromSiting(md *siting.MapData) *SiteMap {
	if md == nil {
		return nil
	}
	m := &SiteMap{EPSG: md.EPSG, Site: md.Site}
	for _, o := range md.Overlaps {
		m.Overlaps = append(m.Overlaps, MapFeature{Geom: o.Geom, Label: o.TitleZH})
	}
	for _, c := range md.Context {
		m.Context = append(m.Context, MapFeature{Geom: c.Geom, Label: c.TitleZH})
	}
	return m
}

// PointsFromGeometry numbers the vertices of a site polygon as 界址点 J1,
// J2 … (X north, Y east, as in BoundaryPoint) when no surveyed points are
// at hand: one ring number per ring (exterior rings and holes in order),
// the closing vertex left out. g is on a Gauss-Krüger plane (orb X = east).
func PointsFromGeometry(g orb.Geometry) []BoundaryPoint {
	var polys []orb.Polygon
	switch g := g.(type) {
	case orb.Polygon:
		polys = []orb.Polygon{g}
	case orb.MultiPolygon:
		polys = g
	}
	var out []BoundaryPoint
	n, ring := 0, 0
	for _, p := range polys {
		for _, r := range p {
			ring++
			pts := []orb.Point(r)
			if len(pts) > 1 && pts[0] == pts[len(pts)-1] {
				pts = pts[:len(pts)-1]
			}
			for _, pt := range pts {
				n++
				out = append(out, BoundaryPoint{No: fmt.Sprintf("J%d", n), Ring: ring, X: pt[1], Y: pt[0]})
			}
		}
	}
	return out
}
