package documents

import (
	"fmt"
	"io"
	"strings"
	"time"

	"villageplan/internal/siting"
)

// Person is the applicant (户主) or a family member as the 申请表 lists
// them (DOMAIN.md §2). Personal data: the caller decides who may print it
// and passes IDNumber already masked (MaskID) when the reader is not
// entitled.
type Person struct {
	Name     string
	Sex      string // 男 / 女
	Age      int    // years; 0 = not given
	Phone    string
	IDNumber string // 身份证号 (18 characters, or masked)
	Hukou    string // 户口所在地
	Relation string // 与户主关系 (members only)
}

// Disposal is what happens to the current homestead (现宅基地处置情况).
type Disposal int

// Disposals, numbered as on the form.
const (
	DisposalNone   Disposal = 0 // no current homestead / not stated
	DisposalKeep   Disposal = 1 // 保留 (KeepAreaM2 m²)
	DisposalReturn Disposal = 2 // 退给村集体
	DisposalOther  Disposal = 3 // 其他
)

// ConstructionCase is the 建设情形 of the form.
type ConstructionCase int

// Construction cases, numbered as on the form.
const (
	CaseOnOldSite ConstructionCase = 1 // 利用原宅基地建设
	CaseNewSite   ConstructionCase = 2 // 新申请宅基地建设
	CaseChange    ConstructionCase = 3 // 改变、扩大宅基地建设
)

// String is the Chinese wording of the case ("" when unset).
func (c ConstructionCase) String() string {
	return map[ConstructionCase]string{CaseOnOldSite: "利用原宅基地建设", CaseNewSite: "新申请宅基地建设", CaseChange: "改变、扩大宅基地建设"}[c]
}

// LandClass is the 地类 of the proposed site.
type LandClass int

// Land classes, numbered as on the form.
const (
	LandConstruction LandClass = 1 // 建设用地
	LandUnused       LandClass = 2 // 未利用地
	LandAgricultural LandClass = 3 // 农用地 (AgriKind: 耕地/林地/草地/其它)
)

// String is the Chinese wording of the class ("" when unset).
func (l LandClass) String() string {
	return map[LandClass]string{LandConstruction: "建设用地", LandUnused: "未利用地", LandAgricultural: "农用地"}[l]
}

// Opinion is a signed opinion (村民小组, 村级组织, a department or the
// township): the text, the person responsible and the date. A zero Date
// prints a blank date line to fill in by hand.
type Opinion struct {
	Text string
	Head string // 负责人
	Date time.Time
}

// Application is the 农村宅基地和建房（规划许可）申请表 (农经发〔2019〕6号
// annex; fields of DOMAIN.md §2). Areas in m², heights in metres.
type Application struct {
	Township string // 乡镇, e.g. 双阳区双营子回族乡
	Village  string // 村 (name)
	Group    string // 村民小组
	// No is the application number as the township files it (申请编号).
	No        string
	Applicant Person
	Members   []Person

	// Current homestead (现宅基地及农房情况).
	CurrentAreaM2      float64
	CurrentFloorAreaM2 float64
	CurrentCertNo      string // 权属证书号
	Disposal           Disposal
	KeepAreaM2         float64 // with DisposalKeep
	DisposalNote       string  // with DisposalOther

	// Proposed site and house (拟申请宅基地及建房).
	Site                Site
	HousingAreaM2       float64 // 住房用地面积
	AncillaryAreaM2     float64 // 附属设施用地面积 (附属用房, 庭院)
	AncillaryBuildingM2 float64 // 附属用房用地面积
	Case                ConstructionCase
	Land                LandClass
	AgriKind            string // with LandAgricultural: 耕地 / 林地 / 草地 / 其它
	FloorAreaM2         float64
	Storeys             int
	HeightM             float64
	NeighboursConsulted bool // 是否征求相邻权利人意见

	Reason   string    // 申请理由
	SignedOn time.Time // 申请人签字日期

	GroupOpinion   Opinion // 村民小组意见
	VillageOpinion Opinion // 村级组织意见 (盖章)
}

// Department opinions of the township's joint review (联审).
type JointReview struct {
	Agriculture      Opinion // 农业农村部门意见: eligibility, area standard, procedure
	NaturalResources Opinion // 自然资源部门意见: 国土空间规划, 用途管制, 农用地转用
	Planning         Opinion // 规划建设管理部门意见: 乡村建设规划许可
}

// Decision is the township's decision (乡镇政府审批意见).
type Decision struct {
	Approved bool
	Opinion  Opinion // text: the decision; for a refusal the reasons
	// CertificateNo is the 批准书号 when approved.
	CertificateNo string
	// PlanningPermitNo is the 乡村建设规划许可证号 when issued together.
	PlanningPermitNo string
}

// ApprovalForm is the 农村宅基地和建房（规划许可）审批表: the application's
// summary, the siting check's verdict, the three department opinions and
// the township decision (土地管理法 第六十二条第四款; 城乡规划法 第四十一条;
// 农经发〔2019〕6号).
type ApprovalForm struct {
	Application *Application
	// Siting is the stored check of the site (its verdict and the rules
	// that decided it are printed first); nil prints "未审查".
	Siting *SitingSummary
	Review JointReview
	Visit  *SiteVisit // the 审查 visit (第一到场), optional
	// Map is the location map (MapFromSiting of the check); nil: none.
	Map     *SiteMap
	Outcome Decision
}

// SitingSummary is the part of a siting check the forms print.
type SitingSummary struct {
	Verdict   siting.Outcome
	CheckedAt time.Time
	// Reasons are the rules that decided the verdict (titles and messages
	// in Chinese), most severe first; empty when the verdict is 通过.
	Reasons []string
}

// SiteVisit is one of the three site visits (三到场): 审查 (at review), 丈量批放
// (staking out after approval) or 竣工验收 (completion check).
type SiteVisit struct {
	Kind     string // 审查 / 丈量批放 / 竣工验收
	Date     time.Time
	Staff    []string // names of those present
	Findings string
	// DeviationM is the largest distance between the staked or built
	// corners and the approved ones, m (nil: not measured).
	DeviationM *float64
}

// Certificate is the 农村宅基地批准书 (土地管理法 第六十二条第四款;
// 农经发〔2019〕6号 annex): issued by the township with its number.
type Certificate struct {
	No         string // 批准书号, e.g. 双营子〔2026〕第0012号
	Township   string // issuing 乡镇人民政府
	Holder     string // 户主姓名 (personal)
	IDNumber   string // 身份证号 (personal; mask when not entitled)
	Village    string
	Site       Site
	Map        *SiteMap // the 宅基地坐落平面位置图 (optional)
	Owner      string   // 土地所有权人, e.g. 大营村农民集体
	Use        string   // 土地用途, normally 农村宅基地
	HousingM2  float64  // 其中房基占地面积 (住房用地)
	FloorM2    float64  // 批准建筑面积
	Storeys    int
	HeightM    float64
	Case       ConstructionCase
	Land       LandClass
	IssuedOn   time.Time
	ValidUntil time.Time // the approval lapses if building has not started (local rule); zero = not printed
	Notes      string    // 备注, e.g. 原宅基地退回村集体
	Handler    string    // 经办人
	Reviewer   string    // 审核人
}

// Acceptance is the 农村宅基地和建房（规划许可）验收意见表 after 竣工验收.
type Acceptance struct {
	Application      *Application // applicant, village, approved site
	CertificateNo    string
	PlanningPermitNo string
	StartedOn        time.Time // 开工日期
	CompletedOn      time.Time // 竣工日期
	// Built facts measured at the completion visit.
	BuiltAreaM2      float64 // 实测宅基地面积
	BuiltFloorAreaM2 float64
	BuiltStoreys     int
	BuiltHeightM     float64
	Visits           []SiteVisit // the three visits in order
	OldSiteReturned  *bool       // 旧宅基地是否已退出 (nil: not applicable)
	Passed           bool
	Agriculture      Opinion // 农业农村部门验收意见
	NaturalResources Opinion // 自然资源部门验收意见
	Township         Opinion // 乡镇政府意见 (盖章)
}

// WriteApplication renders a as the A4 申请表 PDF.
func WriteApplication(w io.Writer, a *Application) (*Rendered, error) {
	d := newDoc("农村宅基地和建房（规划许可）申请表")
	d.footer = "农村宅基地和建房（规划许可）申请表  依据：农经发〔2019〕6号"
	d.title("农村宅基地和建房（规划许可）申请表", subline(a.Township, a.Village, a.Group, a.No))
	d.applicantBlock(a)
	d.section("拟申请宅基地及建房情况")
	d.proposedBlock(a)
	d.coordTable(a.Site)
	d.section("申请理由")
	d.row(cell{w: contentW, text: orDash(a.Reason), minH: 22})
	d.row(lab(40, "申请人签字"), val(70, ""), lab(30, "日期"), val(contentW-140, dateZH(a.SignedOn)))
	d.section("审核意见")
	d.opinion("村民小组意见", a.GroupOpinion.Text, "负责人（签字）", a.GroupOpinion.Head, a.GroupOpinion.Date, false, 30)
	d.opinion("村级组织意见", a.VillageOpinion.Text, "负责人（签字）", a.VillageOpinion.Head, a.VillageOpinion.Date, true, 46)
	return d.finish(w)
}

func subline(parts ...string) string {
	var out []string
	for i, p := range parts {
		if p == "" {
			continue
		}
		if i == len(parts)-1 {
			p = "编号：" + p
		}
		out = append(out, p)
	}
	return strings.Join(out, "  ")
}

func (d *doc) applicantBlock(a *Application) {
	p := a.Applicant
	d.section("申请户主信息")
	d.row(lab(20, "姓名"), val(34, p.Name), lab(16, "性别"), val(14, orDash(p.Sex)), lab(16, "年龄"), val(18, age(p.Age)), lab(22, "联系电话"), val(contentW-140, orDash(p.Phone)))
	d.row(lab(20, "身份证号"), val(64, orDash(p.IDNumber)), lab(22, "户口所在地"), val(contentW-106, orDash(p.Hukou)))
	d.section("家庭成员信息")
	mw := []float64{30, 18, 26, 52, contentW - 126}
	d.row(lab(mw[0], "姓名"), lab(mw[1], "年龄"), lab(mw[2], "与户主关系"), lab(mw[3], "身份证号"), lab(mw[4], "户口所在地"))
	for _, m := range a.Members {
		d.row(val(mw[0], m.Name), cell{w: mw[1], text: age(m.Age), align: "C"}, cell{w: mw[2], text: m.Relation, align: "C"}, val(mw[3], orDash(m.IDNumber)), val(mw[4], orDash(m.Hukou)))
	}
	if len(a.Members) == 0 {
		d.row(val(contentW, "（无其他家庭成员）"))
	}
	d.section("现宅基地及农房情况")
	d.row(lab(34, "宅基地用地面积"), val(55, m2(a.CurrentAreaM2)), lab(34, "建筑面积"), val(contentW-123, m2(a.CurrentFloorAreaM2)))
	d.row(lab(34, "权属证书号"), val(contentW-34, orDash(a.CurrentCertNo)))
	keep := "保留"
	if a.Disposal == DisposalKeep {
		keep = fmt.Sprintf("保留（%.2f 平方米）", a.KeepAreaM2)
	}
	other := "其他"
	if a.Disposal == DisposalOther && a.DisposalNote != "" {
		other = "其他（" + a.DisposalNote + "）"
	}
	d.row(lab(34, "现宅基地处置情况"), val(contentW-34, check([]string{keep, "退给村集体", other}, int(a.Disposal))))
}

func (d *doc) proposedBlock(a *Application) {
	s := a.Site
	d.row(lab(34, "宅基地用地面积"), val(55, m2(s.AreaM2)), lab(34, "其中住房用地面积"), val(contentW-123, m2(a.HousingAreaM2)))
	d.row(lab(34, "附属设施用地面积"), val(55, m2(a.AncillaryAreaM2)), lab(34, "其中附属用房用地"), val(contentW-123, m2(a.AncillaryBuildingM2)))
	d.row(lab(34, "地址（坐落）"), val(contentW-34, orDash(s.Address)))
	d.fourSides(s)
	d.row(lab(34, "建设情形"), val(contentW-34, check([]string{"利用原宅基地建设", "新申请宅基地建设", "改变、扩大宅基地建设"}, int(a.Case))))
	agri := "农用地"
	if a.Land == LandAgricultural && a.AgriKind != "" {
		agri = "农用地（" + a.AgriKind + "）"
	}
	d.row(lab(34, "地类"), val(contentW-34, check([]string{"建设用地", "未利用地", agri}, int(a.Land))))
	d.row(lab(34, "住宅建筑面积"), val(40, m2(a.FloorAreaM2)), lab(24, "建筑层数"), val(24, storeys(a.Storeys)), lab(24, "建筑高度"), val(contentW-146, metres(a.HeightM)))
	d.row(lab(60, "是否征求相邻权利人意见"), val(contentW-60, yesNo(a.NeighboursConsulted)))
}

func age(n int) string {
	if n <= 0 {
		return "—"
	}
	return fmt.Sprintf("%d 岁", n)
}

func storeys(n int) string {
	if n <= 0 {
		return "—"
	}
	return fmt.Sprintf("%d 层", n)
}

// WriteApprovalForm renders f as the A4 审批表 PDF: the siting verdict and
// its reasons first, then applicant and site, the 界址点坐标表, the three
// department opinions and the township decision with seal areas.
func WriteApprovalForm(w io.Writer, f *ApprovalForm) (*Rendered, error) {
	a := f.Application
	if a == nil {
		return nil, fmt.Errorf("审批表缺少申请信息 / approval form without its application")
	}
	d := newDoc("农村宅基地和建房（规划许可）审批表")
	d.footer = "农村宅基地和建房（规划许可）审批表  依据：土地管理法第六十二条、城乡规划法第四十一条、农经发〔2019〕6号"
	d.title("农村宅基地和建房（规划许可）审批表", subline(a.Township, a.Village, a.Group, a.No))
	d.verdictBox(f.Siting)
	d.section("申请人及拟建情况")
	d.row(lab(20, "申请人"), val(30, a.Applicant.Name), lab(20, "身份证号"), val(58, orDash(a.Applicant.IDNumber)), lab(22, "家庭人口"), val(contentW-150, fmt.Sprintf("%d 人", 1+len(a.Members))))
	d.row(lab(34, "宅基地用地面积"), val(55, m2(a.Site.AreaM2)), lab(34, "其中住房用地面积"), val(contentW-123, m2(a.HousingAreaM2)))
	d.row(lab(34, "坐落"), val(contentW-34, orDash(a.Site.Address)))
	d.row(lab(34, "住宅建筑面积"), val(40, m2(a.FloorAreaM2)), lab(24, "建筑层数"), val(24, storeys(a.Storeys)), lab(24, "建筑高度"), val(contentW-146, metres(a.HeightM)))
	d.row(lab(34, "建设情形"), val(70, orDash(a.Case.String())), lab(20, "地类"), val(contentW-124, orDash(landText(a.Land, a.AgriKind))))
	d.fourSides(a.Site)
	if v := f.Visit; v != nil {
		d.row(lab(34, "实地审查（第一到场）"), val(contentW-34, visitText(v)))
	}
	if f.Map != nil {
		d.section("选址位置图")
		d.drawMap(f.Map, contentW, 70)
	}
	d.coordTable(a.Site)
	d.section("乡镇联审意见")
	d.opinion("农业农村部门意见", f.Review.Agriculture.Text, "负责人", f.Review.Agriculture.Head, f.Review.Agriculture.Date, true, 44)
	d.opinion("自然资源部门意见", f.Review.NaturalResources.Text, "负责人", f.Review.NaturalResources.Head, f.Review.NaturalResources.Date, true, 44)
	d.opinion("规划建设管理部门意见", f.Review.Planning.Text, "负责人", f.Review.Planning.Head, f.Review.Planning.Date, true, 44)
	d.section("乡镇人民政府审批意见")
	o := f.Outcome
	text := o.Opinion.Text
	head := "■批准  □不予批准"
	if !o.Approved {
		head = "□批准  ■不予批准"
	}
	text = head + "\n" + text
	if o.Approved && o.CertificateNo != "" {
		text += "\n农村宅基地批准书号：" + o.CertificateNo
	}
	if o.PlanningPermitNo != "" {
		text += "\n乡村建设规划许可证号：" + o.PlanningPermitNo
	}
	d.opinion("乡镇人民政府审批意见", text, "负责人", o.Opinion.Head, o.Opinion.Date, true, 48)
	return d.finish(w)
}

func landText(l LandClass, agri string) string {
	if l == LandAgricultural && agri != "" {
		return "农用地（" + agri + "）"
	}
	return l.String()
}

func visitText(v *SiteVisit) string {
	s := dateZH(v.Date)
	if len(v.Staff) > 0 {
		s += "，到场人员：" + strings.Join(v.Staff, "、")
	}
	if v.DeviationM != nil {
		s += fmt.Sprintf("，与批准位置最大偏差 %.2f 米", *v.DeviationM)
	}
	if v.Findings != "" {
		s += "。" + v.Findings
	}
	return s
}

// verdictBox prints the siting verdict and its reasons at the top.
func (d *doc) verdictBox(s *SitingSummary) {
	if s == nil {
		d.row(lab(34, "选址审查结论"), val(contentW-34, "未审查（须先进行选址审查）"))
		return
	}
	d.row(lab(34, "选址审查结论"), cell{w: contentW - 34, text: verdictExplained(s.Verdict) + "（审查日期：" + dateZH(s.CheckedAt) + "）", size: 12})
	if len(s.Reasons) > 0 {
		d.row(lab(34, "原因"), val(contentW-34, numbered(s.Reasons)))
	}
}

func numbered(list []string) string {
	var b strings.Builder
	for i, s := range list {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%d. %s", i+1, s)
	}
	return b.String()
}

// WriteCertificate renders c as the A4 农村宅基地批准书 PDF with its number,
// the approved facts, the 四至, the 界址点坐标表 and the location plan.
func WriteCertificate(w io.Writer, c *Certificate) (*Rendered, error) {
	d := newDoc("农村宅基地批准书")
	d.footer = "农村宅基地批准书  依据：土地管理法第六十二条、农经发〔2019〕6号"
	d.title("农村宅基地批准书", "")
	d.setSize(11)
	d.f.CellFormat(contentW, 7, d.miss.clean("批准书号："+orDash(c.No)), "", 1, "R", false, 0, "")
	d.setSize(10)
	d.row(lab(30, "户主姓名"), val(50, c.Holder), lab(26, "身份证号"), val(contentW-106, orDash(c.IDNumber)))
	d.row(lab(30, "坐落"), val(contentW-30, orDash(c.Site.Address)))
	d.row(lab(30, "土地所有权人"), val(50, orDash(c.Owner)), lab(26, "土地用途"), val(contentW-106, orDash(c.Use)))
	d.row(lab(30, "批准用地面积"), val(50, m2(c.Site.AreaM2)), lab(26, "其中房基占地"), val(contentW-106, m2(c.HousingM2)))
	d.row(lab(30, "批准建筑面积"), val(50, m2(c.FloorM2)), lab(26, "层数 / 高度"), val(contentW-106, storeys(c.Storeys)+"，"+metres(c.HeightM)))
	d.row(lab(30, "建设情形"), val(50, orDash(c.Case.String())), lab(26, "地类"), val(contentW-106, orDash(c.Land.String())))
	d.fourSides(c.Site)
	if !c.ValidUntil.IsZero() {
		d.row(lab(30, "有效期"), val(contentW-30, "自批准之日起至 "+dateZH(c.ValidUntil)+" 止，逾期未开工的本批准书失效"))
	}
	d.row(lab(30, "备注"), val(contentW-30, orDash(c.Notes)))
	if c.Map != nil {
		d.section("宅基地坐落平面位置图")
		d.drawMap(c.Map, contentW, 50)
	}
	d.coordTable(c.Site)
	d.f.Ln(1)
	d.opinion("批准机关", "经审核，同意使用上述宅基地建设住宅，请按批准的位置、面积、层数和高度建设，并接受乡镇丈量批放和竣工验收。\n经办人："+orDash(c.Handler)+"    审核人："+orDash(c.Reviewer), "批准机关", c.Township, c.IssuedOn, true, 43)
	return d.finish(w)
}

// WriteAcceptance renders a as the A4 验收意见表 PDF: approval facts against
// the built ones, the three site visits and the signed opinions.
func WriteAcceptance(w io.Writer, a *Acceptance) (*Rendered, error) {
	app := a.Application
	if app == nil {
		return nil, fmt.Errorf("验收意见表缺少申请信息 / acceptance form without its application")
	}
	d := newDoc("农村宅基地和建房（规划许可）验收意见表")
	d.footer = "农村宅基地和建房（规划许可）验收意见表  依据：农经发〔2019〕6号"
	d.title("农村宅基地和建房（规划许可）验收意见表", subline(app.Township, app.Village, app.Group, app.No))
	res := "■验收合格  □验收不合格"
	if !a.Passed {
		res = "□验收合格  ■验收不合格"
	}
	d.row(lab(34, "验收结论"), cell{w: contentW - 34, text: res, size: 12})
	d.row(lab(22, "申请人"), val(40, app.Applicant.Name), lab(22, "身份证号"), val(contentW-84, orDash(app.Applicant.IDNumber)))
	d.row(lab(22, "坐落"), val(contentW-22, orDash(app.Site.Address)))
	d.row(lab(30, "批准书号"), val(60, orDash(a.CertificateNo)), lab(34, "规划许可证号"), val(contentW-124, orDash(a.PlanningPermitNo)))
	d.row(lab(30, "开工日期"), val(60, dateZH(a.StartedOn)), lab(34, "竣工日期"), val(contentW-124, dateZH(a.CompletedOn)))
	d.section("批准与实测对照")
	cw := []float64{40, 45, 45, contentW - 130}
	d.row(lab(cw[0], "项目"), lab(cw[1], "批准"), lab(cw[2], "实测"), lab(cw[3], "是否相符"))
	cmp := func(name, appr, built string, ok bool) {
		d.row(lab(cw[0], name), cell{w: cw[1], text: appr, align: "C"}, cell{w: cw[2], text: built, align: "C"}, cell{w: cw[3], text: yesNo(ok), align: "C"})
	}
	cmp("宅基地面积", m2(app.Site.AreaM2), m2(a.BuiltAreaM2), a.BuiltAreaM2 <= app.Site.AreaM2+0.005)
	cmp("住宅建筑面积", m2(app.FloorAreaM2), m2(a.BuiltFloorAreaM2), a.BuiltFloorAreaM2 <= app.FloorAreaM2+0.005)
	cmp("建筑层数", storeys(app.Storeys), storeys(a.BuiltStoreys), a.BuiltStoreys <= app.Storeys)
	cmp("建筑高度", metres(app.HeightM), metres(a.BuiltHeightM), a.BuiltHeightM <= app.HeightM+0.005)
	if a.OldSiteReturned != nil {
		d.row(lab(cw[0], "旧宅基地退出"), val(contentW-cw[0], yesNo(*a.OldSiteReturned)))
	}
	d.section("三到场记录")
	vw := []float64{26, 32, 40, contentW - 98}
	d.row(lab(vw[0], "到场环节"), lab(vw[1], "日期"), lab(vw[2], "到场人员"), lab(vw[3], "情况"))
	for _, v := range a.Visits {
		find := v.Findings
		if v.DeviationM != nil {
			find = fmt.Sprintf("最大位置偏差 %.2f 米。", *v.DeviationM) + find
		}
		d.row(cell{w: vw[0], text: v.Kind, align: "C"}, cell{w: vw[1], text: dateZH(v.Date), align: "C"}, val(vw[2], strings.Join(v.Staff, "、")), val(vw[3], orDash(find)))
	}
	d.coordTable(app.Site)
	d.section("验收意见")
	d.opinion("农业农村部门意见", a.Agriculture.Text, "验收人", a.Agriculture.Head, a.Agriculture.Date, false, 26)
	d.opinion("自然资源部门意见", a.NaturalResources.Text, "验收人", a.NaturalResources.Head, a.NaturalResources.Date, false, 26)
	d.opinion("乡镇人民政府意见", a.Township.Text, "负责人", a.Township.Head, a.Township.Date, true, 46)
	return d.finish(w)
}
