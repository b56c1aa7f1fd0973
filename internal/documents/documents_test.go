package documents

import (
	"bytes"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"villageplan/internal/siting"
)

// render writes a document to t.TempDir() and returns its path and the
// text pdftotext extracts (in reading order, -layout off so that table
// cells come out one after another).
func render(t *testing.T, name string, fn func(*bytes.Buffer) (*Rendered, error)) (string, string, *Rendered) {
	t.Helper()
	var buf bytes.Buffer
	r, err := fn(&buf)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
		t.Fatalf("%s: not a PDF", name)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, name+".pdf")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", p, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext (poppler-utils, installed by make test-deps): %v\n%s", err, out)
	}
	// pdftoppm proves poppler can rasterise every page; DOCUMENTS_PNG_DIR
	// keeps the pictures to look at them.
	png := filepath.Join(dir, name)
	if out, err := exec.Command("pdftoppm", "-png", "-r", "70", p, png).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	pngs, _ := filepath.Glob(png + "*.png")
	if len(pngs) != r.Pages {
		t.Errorf("%s: %d pages rasterised, Rendered.Pages = %d", name, len(pngs), r.Pages)
	}
	if keep := os.Getenv("DOCUMENTS_PNG_DIR"); keep != "" {
		os.MkdirAll(keep, 0o755)
		os.WriteFile(filepath.Join(keep, name+".pdf"), buf.Bytes(), 0o644)
		for _, f := range pngs {
			b, _ := os.ReadFile(f)
			os.WriteFile(filepath.Join(keep, filepath.Base(f)), b, 0o644)
		}
	}
	return p, string(out), r
}

// layoutText is the page text in its physical layout (-layout): cells of
// one row on one line, rows top to bottom, for order assertions.
func layoutText(t *testing.T, p string) string {
	t.Helper()
	out, err := exec.Command("pdftotext", "-layout", "-enc", "UTF-8", p, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext -layout: %v\n%s", err, out)
	}
	return string(out)
}

// squash removes the spaces and line breaks pdftotext puts between table
// cells and wrapped lines.
func squash(s string) string { return strings.Join(strings.Fields(s), "") }

func wantAll(t *testing.T, name, text string, want ...string) {
	t.Helper()
	sq := squash(text)
	for _, w := range want {
		if !strings.Contains(sq, squash(w)) {
			t.Errorf("%s: text lacks %q", name, w)
		}
	}
}

// wantOrder asserts that each string first occurs after the previous one.
func wantOrder(t *testing.T, name, text string, seq ...string) {
	t.Helper()
	sq := squash(text)
	last := -1
	for _, s := range seq {
		i := strings.Index(sq, squash(s))
		if i < 0 {
			t.Errorf("%s: %q missing", name, s)
			return
		}
		if i <= last {
			t.Errorf("%s: %q comes before what should precede it", name, s)
		}
		last = i
	}
}

// englishWords finds Latin words of 3+ letters other than the allowed
// ones: layer ids, outcome codes, function names must not be printed.
var latinWord = regexp.MustCompile(`[A-Za-z_]{3,}`)

func noEnglish(t *testing.T, name, text string, allowed ...string) {
	t.Helper()
	ok := map[string]bool{"EPSG": true}
	for _, a := range allowed {
		ok[a] = true
	}
	for _, w := range latinWord.FindAllString(text, -1) {
		if !ok[w] {
			t.Errorf("%s: English word %q printed", name, w)
		}
	}
}

var pointTable = []string{"界址点坐标表", "第42带", "中央经线东经126°", "J1", "4823430.818", "42461785.204", "J2", "42461809.204", "J3", "4823412.318", "J4", "24.00", "18.50"}

func TestApplicationPDF(t *testing.T) {
	a := sampleApplication()
	_, text, r := render(t, "application", func(b *bytes.Buffer) (*Rendered, error) { return WriteApplication(b, a) })
	wantAll(t, "申请表", text, append([]string{"农村宅基地和建房（规划许可）申请表", "申请户主信息", "马国强", "220112199203154312",
		"家庭成员信息", "李秀兰", "妻子", "现宅基地处置情况", "■退给村集体", "□保留", "拟申请宅基地及建房情况", "444.00 平方米",
		"■新申请宅基地建设", "■建设用地", "132.50 平方米", "1 层", "5.80 米", "东至", "村道", "■是", "申请理由", "兄弟分户后无宅基地",
		"村民小组意见", "已于2026年9月4日至9月10日公示", "刘长青", "2026年09月11日", "村级组织意见", "（盖章）", "王德福", "农经发〔2019〕6号"}, pointTable...)...)
	noEnglish(t, "申请表", text, "SYZ")
	if len(r.Missing) != 0 {
		t.Errorf("missing characters in a GB 2312 text: %v", r.Missing)
	}
	// the table closes the ring: J1 is printed twice
	if n := strings.Count(text, "J1"); n != 2 {
		t.Errorf("J1 printed %d times, want 2 (first and closing point)", n)
	}
}

func TestApprovalFormPDF(t *testing.T) {
	rep := FromSiting(sampleCheck(), sampleSite(), sampleMap())
	f := &ApprovalForm{
		Application: sampleApplication(), Siting: rep.Summary(), Map: rep.Map,
		Visit: &SiteVisit{Kind: "审查", Date: day(2026, 9, 18), Staff: []string{"赵文", "孙立新"}, Findings: "现场与申请一致，北侧为耕地。"},
		Review: JointReview{
			Agriculture:      Opinion{Text: "申请人符合一户一宅条件，面积符合标准，村组程序完备。", Head: "赵文", Date: day(2026, 9, 21)},
			NaturalResources: Opinion{Text: "选址占用永久基本农田，不符合国土空间规划和用途管制要求，不同意。", Head: "孙立新", Date: day(2026, 9, 21)},
			Planning:         Opinion{Text: "请调整选址后重新申请乡村建设规划许可。", Head: "周海", Date: day(2026, 9, 22)},
		},
		Outcome: Decision{Approved: false, Opinion: Opinion{Text: "选址占用永久基本农田，依据土地管理法第六十二条第三款不予批准，请另选址。", Head: "陈立", Date: day(2026, 9, 25)}},
	}
	p, text, _ := render(t, "approval", func(b *bytes.Buffer) (*Rendered, error) { return WriteApprovalForm(b, f) })
	layout := layoutText(t, p)
	wantAll(t, "审批表", text, append([]string{"农村宅基地和建房（规划许可）审批表", "选址审查结论", "禁止——法律禁止在此选址建房",
		"【禁止】不得占用永久基本农田", "【须办理农用地转用】占用耕地须办理农用地转用", "【需审查】地质灾害危险区",
		"实地审查（第一到场）", "赵文、孙立新", "农业农村部门意见", "一户一宅", "自然资源部门意见", "规划建设管理部门意见",
		"乡镇人民政府审批意见", "■不予批准", "陈立", "2026年09月25日", "负责人"}, pointTable...)...)
	wantOrder(t, "审批表", layout, "禁止——法律禁止", "不得占用永久基本农田", "申请人及拟建情况", "选址位置图", "界址点坐标表", "农业农村部门意见", "乡镇人民政府审批意见")
	if strings.Count(squash(text), "（盖章）") < 4 {
		t.Errorf("审批表: want a seal area for each of the three departments and the township")
	}
	noEnglish(t, "审批表", text, "SYZ")
}

func TestCertificatePDF(t *testing.T) {
	a := sampleApplication()
	c := &Certificate{No: "双营子〔2026〕第0012号", Township: "双营子回族乡人民政府", Holder: a.Applicant.Name, IDNumber: MaskID(a.Applicant.IDNumber),
		Village: a.Village, Site: a.Site, Map: &SiteMap{EPSG: 4530, Site: sampleMap().Site, Points: samplePoints(), Context: sampleMap().Context},
		Owner: "大营村农民集体", Use: "农村宅基地", HousingM2: 150, FloorM2: 132.5, Storeys: 1, HeightM: 5.8, Case: CaseNewSite, Land: LandConstruction,
		IssuedOn: day(2026, 10, 9), Notes: "原宅基地180平方米退还村集体", Handler: "赵文", Reviewer: "孙立新"}
	_, text, r := render(t, "certificate", func(b *bytes.Buffer) (*Rendered, error) { return WriteCertificate(b, c) })
	if r.Pages != 1 {
		t.Errorf("批准书 of a 4-point site takes %d pages, want 1", r.Pages)
	}
	wantAll(t, "批准书", text, append([]string{"农村宅基地批准书", "批准书号：双营子〔2026〕第0012号", "马国强", "2201**********4312",
		"大营村农民集体", "农村宅基地", "444.00 平方米", "150.00 平方米", "宅基地坐落平面位置图", "北", "米", "无与禁止建设图层重叠的部分",
		"批准机关", "双营子回族乡人民政府", "（盖章）", "2026年10月09日", "土地管理法第六十二条"}, pointTable...)...)
	if strings.Contains(text, "220112199203154312") {
		t.Error("批准书: the masked 身份证号 was printed in full")
	}
	noEnglish(t, "批准书", text)
}

func TestAcceptancePDF(t *testing.T) {
	dev := 0.18
	ret := true
	a := &Acceptance{Application: sampleApplication(), CertificateNo: "双营子〔2026〕第0012号", PlanningPermitNo: "乡字第220112202600012号",
		StartedOn: day(2027, 4, 10), CompletedOn: day(2027, 8, 30), BuiltAreaM2: 443.2, BuiltFloorAreaM2: 131.9, BuiltStoreys: 1, BuiltHeightM: 5.75,
		Visits: []SiteVisit{
			{Kind: "审查", Date: day(2026, 9, 18), Staff: []string{"赵文", "孙立新"}, Findings: "现场与申请一致。"},
			{Kind: "丈量批放", Date: day(2027, 4, 8), Staff: []string{"赵文", "测量员 何平"}, DeviationM: &dev, Findings: "已按批准界址点放线。"},
			{Kind: "竣工验收", Date: day(2027, 9, 3), Staff: []string{"赵文", "孙立新"}, Findings: "按批准位置、面积和层数建设。"},
		},
		OldSiteReturned: &ret, Passed: true,
		Agriculture:      Opinion{Text: "符合批准要求，旧宅基地已退还。", Head: "赵文", Date: day(2027, 9, 3)},
		NaturalResources: Opinion{Text: "按规划许可建设，同意验收。", Head: "孙立新", Date: day(2027, 9, 3)},
		Township:         Opinion{Text: "验收合格，请办理不动产登记。", Head: "陈立", Date: day(2027, 9, 6)},
	}
	p, text, _ := render(t, "acceptance", func(b *bytes.Buffer) (*Rendered, error) { return WriteAcceptance(b, a) })
	layout := layoutText(t, p)
	wantAll(t, "验收意见表", text, append([]string{"农村宅基地和建房（规划许可）验收意见表", "■验收合格", "批准书号", "双营子〔2026〕第0012号",
		"乡字第220112202600012号", "2027年04月10日", "2027年08月30日", "批准与实测对照", "443.20 平方米", "三到场记录", "丈量批放",
		"最大位置偏差 0.18 米", "竣工验收", "旧宅基地退出", "农业农村部门意见", "自然资源部门意见", "乡镇人民政府意见", "（盖章）"}, pointTable...)...)
	wantOrder(t, "验收意见表", layout, "验收结论", "批准与实测对照", "三到场记录", "界址点坐标表", "农业农村部门意见", "乡镇人民政府意见")
	noEnglish(t, "验收意见表", text, "SYZ")
}

func TestSitingReportPDF(t *testing.T) {
	rep := FromSiting(sampleCheck(), sampleSite(), sampleMap())
	rep.Township = "双营子回族乡人民政府"
	p, text, _ := render(t, "siting", func(b *bytes.Buffer) (*Rendered, error) { return WriteSitingReport(b, rep) })
	layout := layoutText(t, p)
	wantAll(t, "选址报告", text, append([]string{"宅基地选址审查报告", "审查结论", "禁止——法律禁止在此选址建房，不予批准",
		"【禁止】不得占用永久基本农田：占用永久基本农田 61.27 平方米", "暂定", "选址位置图", "红色为与永久基本农田重叠的部分",
		"永久基本农田 图斑编号2201122033000127，重叠 61.27 平方米", "耕地", "逐项审查结果", "须办理农用地转用", "需审查", "通过",
		"基本农田保护条例第十七条", "审查人 / 复核人", "（盖章）", "1:"}, pointTable...)...)
	// The verdict and the rules that caused it come first, then the map
	// and the 界址点 table, then the full rule table.
	wantOrder(t, "选址报告", layout, "审查结论", "禁止", "不得占用永久基本农田", "占用耕地须办理农用地转用", "选址概况", "选址位置图", "界址点坐标表", "逐项审查结果")
	noEnglish(t, "选址报告", text)
	for _, bad := range []string{"permanent_farmland", "land_use", "ST_MakeValid", "BLOCK", "PERMIT", "4411", "90001"} {
		if strings.Contains(text, bad) {
			t.Errorf("选址报告 prints %q (internal id, English id or function name)", bad)
		}
	}
}

// A rare character outside GB 2312 (䶮, U+4DAE, in a name) is never
// silently dropped: the PDF shows its code and Rendered.Missing names it.
func TestMissingGlyph(t *testing.T) {
	a := sampleApplication()
	a.Applicant.Name = "刘䶮"
	if Covered(a.Applicant.Name) || !Covered("马国强 J1 ①〔〕") {
		t.Fatal("Covered is wrong")
	}
	_, text, r := render(t, "rare", func(b *bytes.Buffer) (*Rendered, error) { return WriteApplication(b, a) })
	if len(r.Missing) != 1 || r.Missing[0].Rune != 0x4DAE || r.Missing[0].Text != "刘䶮" {
		t.Fatalf("Missing = %v, want U+4DAE in 刘䶮", r.Missing)
	}
	wantAll(t, "rare", text, "刘〔U+4DAE〕")
}

func TestFontSubset(t *testing.T) {
	n := coveredCount()
	if n < 7400 || n > 8000 {
		t.Errorf("embedded font covers %d characters, want GB 2312 + ASCII ≈ 7 550", n)
	}
	if len(fontTTF) > 3<<20 {
		t.Errorf("embedded font is %d bytes, keep it under 3 MiB", len(fontTTF))
	}
	// every level-2 hanzi of GB 2312 in a sample, and the symbols used
	for _, s := range []string{"齄", "亍", "啊", "〔", "〕", "■", "□", "²", "°", "—", "·", "①", "【", "】", "（", "）", "：", "；"} {
		if !Covered(s) {
			t.Errorf("%q not covered", s)
		}
	}
}

func TestVerdictVocabulary(t *testing.T) {
	for o, want := range map[siting.Outcome]string{siting.Block: "禁止", siting.PermitPath: "须办理农用地转用", siting.Review: "需审查", siting.Pass: "通过"} {
		if o.ZH() != want || !strings.HasPrefix(verdictExplained(o), want+"——") {
			t.Errorf("%s: %q / %q", o, o.ZH(), verdictExplained(o))
		}
	}
}

// redPixels rasterises page 1 and counts the pixels of the overlap fill
// (red at 55 % over white) and stroke.
func redPixels(t *testing.T, pdf string) int {
	t.Helper()
	base := filepath.Join(t.TempDir(), "p")
	if out, err := exec.Command("pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", pdf, base).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	pngs, _ := filepath.Glob(base + "*.png")
	if len(pngs) != 1 {
		t.Fatalf("pdftoppm wrote %v", pngs)
	}
	fh, err := os.Open(pngs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 > 180 && int(r>>8)-int(g>>8) > 60 && int(r>>8)-int(bl>>8) > 60 {
				n++
			}
		}
	}
	return n
}

// Only the overlap is highlighted: the same report without overlaps has
// no red at all; the map states its scale and carries the scale bar's
// length (the 57.6 m × 52.1 m window in 177 × 95 mm gives 1.82 mm/m:
// 1:550, bar 20 m).
func TestMapHighlightsOnlyOverlap(t *testing.T) {
	rep := FromSiting(sampleCheck(), sampleSite(), sampleMap())
	p, text, _ := render(t, "with-overlap", func(b *bytes.Buffer) (*Rendered, error) { return WriteSitingReport(b, rep) })
	wantAll(t, "map", text, "1:550", "20 米", "北")
	with := redPixels(t, p)
	rep.Map.Overlaps = nil
	p, text, _ = render(t, "without-overlap", func(b *bytes.Buffer) (*Rendered, error) { return WriteSitingReport(b, rep) })
	without := redPixels(t, p)
	t.Logf("red pixels at 50 dpi: %d with the overlap, %d without", with, without)
	if with < 30 || without != 0 {
		t.Errorf("red pixels: %d with the overlap (want some), %d without (want none)", with, without)
	}
	wantAll(t, "map", text, "无与禁止建设图层重叠的部分")
}

// A check whose site has no surveyed points: MapFromSiting + FromSiting
// number the polygon's vertices J1… with X north and Y east.
func TestFromSitingMapData(t *testing.T) {
	sm := sampleMap()
	md := &siting.MapData{EPSG: 4530, Site: orb.MultiPolygon{sm.Site.(orb.Polygon)},
		Overlaps: []siting.MapPart{{TitleZH: "永久基本农田", Geom: sm.Overlaps[0].Geom}},
		Context:  []siting.MapPart{{TitleZH: "道路", Geom: sm.Context[1].Geom}}}
	site := sampleSite()
	site.Points = nil
	rep := FromSiting(sampleCheck(), site, MapFromSiting(md))
	if len(rep.Site.Points) != 4 || rep.Site.Points[0] != (BoundaryPoint{No: "J1", Ring: 1, X: 4823430.818, Y: 42461785.204}) ||
		rep.Site.Points[3].No != "J4" || len(rep.Map.Points) != 4 || rep.Map.Overlaps[0].Label != "永久基本农田" || rep.Map.Context[0].Label != "道路" {
		t.Fatalf("report site %+v map %+v", rep.Site.Points, rep.Map)
	}
	_, text, _ := render(t, "from-mapdata", func(b *bytes.Buffer) (*Rendered, error) { return WriteSitingReport(b, rep) })
	wantAll(t, "from-mapdata", text, pointTable...)
}

// Empty structs render (blank forms to fill in by hand) instead of failing.
func TestBlankForms(t *testing.T) {
	app := &Application{}
	for name, fn := range map[string]func(*bytes.Buffer) (*Rendered, error){
		"blank-application": func(b *bytes.Buffer) (*Rendered, error) { return WriteApplication(b, app) },
		"blank-approval":    func(b *bytes.Buffer) (*Rendered, error) { return WriteApprovalForm(b, &ApprovalForm{Application: app}) },
		"blank-certificate": func(b *bytes.Buffer) (*Rendered, error) { return WriteCertificate(b, &Certificate{}) },
		"blank-acceptance":  func(b *bytes.Buffer) (*Rendered, error) { return WriteAcceptance(b, &Acceptance{Application: app}) },
		"blank-siting": func(b *bytes.Buffer) (*Rendered, error) {
			return WriteSitingReport(b, &SitingReport{Map: &SiteMap{Site: orb.Polygon{}}})
		},
	} {
		_, text, _ := render(t, name, fn)
		wantAll(t, name, text, "年 月 日")
	}
	if _, err := WriteApprovalForm(io.Discard, &ApprovalForm{}); err == nil {
		t.Error("an approval form without its application rendered")
	}
}

// A reason and an opinion longer than a page run on over the next pages
// instead of off the paper; every character is still there.
func TestLongTextsSplitAcrossPages(t *testing.T) {
	a := sampleApplication()
	a.Reason = strings.Repeat("家庭人口增加，现住房年久失修，", 260) + "理由结束。"
	a.VillageOpinion.Text = strings.Repeat("经村两委会议研究，", 300) + "意见结束。"
	_, text, r := render(t, "long", func(b *bytes.Buffer) (*Rendered, error) { return WriteApplication(b, a) })
	sq := squash(text)
	// single characters: a phrase cut by a page break has the footer in it
	if r.Pages < 5 || strings.Count(sq, "修") != 260 || strings.Count(sq, "研") != 300 {
		t.Errorf("%d pages, %d × 修 / %d × 研", r.Pages, strings.Count(sq, "修"), strings.Count(sq, "研"))
	}
	wantOrder(t, "long", text, "申请理由", "理由结束。", "村民小组意见", "意见结束。", "村级组织意见（续）", "王德福")
}
