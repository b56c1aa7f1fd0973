package applications

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"villageplan/internal/auth"
	"villageplan/internal/documents"
	"villageplan/internal/siting"
)

// PrintKind names a printable document of an application (the stable
// ASCII slug of GET /applications/{id}/print/{document}).
type PrintKind string

// The printable documents (package documents renders them, A4 PDF).
const (
	// PrintApplicationForm is the 农村宅基地和建房（规划许可）申请表, in every state.
	PrintApplicationForm PrintKind = "application-form"
	// PrintApprovalForm is the 审批表, from 乡镇受理 on (the department
	// opinions fill in during 联审; the decision once taken).
	PrintApprovalForm PrintKind = "approval-form"
	// PrintCertificate is the 农村宅基地批准书, once approved (批准书号).
	PrintCertificate PrintKind = "certificate"
	// PrintAcceptance is the 验收意见表, once 竣工验收 is recorded.
	PrintAcceptance PrintKind = "acceptance"
)

// PrintSitingReport is the Document of the link to the application's
// current siting check as PDF (GET /siting/checks/{id}/report?f=pdf); it
// is not a route of /print.
const PrintSitingReport PrintKind = "siting-report"

// PrintKinds lists the documents in the order of the steps.
var PrintKinds = []PrintKind{PrintApplicationForm, PrintApprovalForm, PrintCertificate, PrintAcceptance}

var printTitles = map[PrintKind]string{
	PrintApplicationForm: "农村宅基地和建房（规划许可）申请表",
	PrintApprovalForm:    "农村宅基地和建房（规划许可）审批表",
	PrintCertificate:     "农村宅基地批准书",
	PrintAcceptance:      "农村宅基地和建房（规划许可）验收意见表",
}

var printTitlesEN = map[PrintKind]string{
	PrintApplicationForm: "application form (申请表)", PrintApprovalForm: "approval form (审批表)",
	PrintCertificate: "homestead certificate (批准书)", PrintAcceptance: "acceptance form (验收意见表)",
}

// Title is the document's Chinese name ("" for an unknown kind).
func (k PrintKind) Title() string { return printTitles[k] }

// Valid reports whether k is a printable document.
func (k PrintKind) Valid() bool { _, ok := printTitles[k]; return ok }

// PrintLink is a link from an application to one of its printable
// documents (JSON "links" of the application).
type PrintLink struct {
	Href  string `json:"href"`
	Rel   string `json:"rel"`
	Type  string `json:"type"`
	Title string `json:"title"`
	// Document is the PrintKind slug.
	Document PrintKind `json:"document"`
}

// PrintLinks are the links to the documents that exist in the
// application's state, under base (the service's base URL): rel
// "describedby" for the forms and the current check's 选址审查报告,
// "alternate" for the 批准书 (the approval itself), type application/pdf.
func PrintLinks(base string, a *Application) []PrintLink {
	out := []PrintLink{}
	if a == nil {
		return out
	}
	for _, k := range PrintKinds {
		if missingFor(k, a.AcceptedOn != nil, a.ApprovalNumber != nil && a.Steps.Decision != nil && a.Steps.Decision.Approved, a.Steps.Inspection != nil) != nil {
			continue
		}
		rel := "describedby"
		if k == PrintCertificate {
			rel = "alternate"
		}
		out = append(out, PrintLink{Href: fmt.Sprintf("%s/applications/%d/print/%s", base, a.ID, k), Rel: rel,
			Type: "application/pdf", Title: k.Title(), Document: k})
	}
	if a.Check != nil {
		out = append(out, PrintLink{Href: fmt.Sprintf("%s/siting/checks/%d/report?f=pdf", base, a.Check.ID), Rel: "describedby",
			Type: "application/pdf", Title: "宅基地选址审查报告", Document: PrintSitingReport})
	}
	return out
}

// missingFor is what document k lacks, nil when it can be printed.
func missingFor(k PrintKind, accepted, approved, inspected bool) []Missing {
	switch k {
	case PrintApprovalForm:
		if !accepted {
			return []Missing{{ZH: "乡镇受理（审批表自受理起填写）", EN: "the township's acceptance (the approval form starts at 受理)"}}
		}
	case PrintCertificate:
		if !approved {
			return []Missing{{ZH: "乡镇审批批准并编批准书号", EN: "the township's approval with its 批准书号 (approval number)"}}
		}
	case PrintAcceptance:
		if !inspected {
			return []Missing{{ZH: "竣工验收记录", EN: "the completion inspection (竣工验收) record"}}
		}
	}
	return nil
}

// Printout is a rendered document of an application.
type Printout struct {
	Kind PrintKind
	// Filename is the Chinese file name, e.g. 农村宅基地批准书_双营子宅批〔2026〕第0001号.pdf.
	Filename string
	PDF      []byte
	Pages    int
	// Missing are characters the embedded font could not draw (printed as
	// 〔U+XXXX〕, to complete by hand).
	Missing []documents.MissingChar
}

// Print renders document k of application id from the stored data (form,
// steps, the siting check and its map). The principal needs a desk role
// for the application's village, as for Get; the read of personal data is
// audited (application.print). A document that does not exist in the
// application's state is a 409 naming the state and what is missing; an
// unknown k a 404.
func (s *Service) Print(ctx context.Context, id int64, k PrintKind) (*Printout, error) {
	if !k.Valid() {
		return nil, &Error{Status: http.StatusNotFound, Code: "NotFound",
			ZH: fmt.Sprintf("没有可打印的文书 %q（可用：application-form 申请表、approval-form 审批表、certificate 批准书、acceptance 验收意见表）", k),
			EN: fmt.Sprintf("no printable document %q (application-form, approval-form, certificate, acceptance)", k)}
	}
	var a *row
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if a, err = loadRow(ctx, tx, id, false); err != nil {
			return err
		}
		p := auth.FromContext(ctx)
		if !p.HasAnyFor(auth.DeskRoles, a.Village) {
			return scopeErr(p, a.Village, auth.DeskRoles, "查看该申请")
		}
		approved := a.ApprovalNumber != nil && a.Steps.Decision != nil && a.Steps.Decision.Approved
		if miss := missingFor(k, a.AcceptedOn != nil, approved, a.Steps.Inspection != nil); miss != nil {
			zh, en := "尚不能打印《"+k.Title()+"》", "the "+printTitlesEN[k]+" cannot be printed yet"
			if k == PrintCertificate && a.State == Rejected {
				zh, en = "不予批准的申请没有《农村宅基地批准书》", "a refused application has no certificate (批准书)"
			}
			return conflict("DocumentNotAvailable", a, miss, zh, en)
		}
		return auth.Audit(ctx, tx, requestOf(ctx), auth.AuditEntry{Action: "application.print", SubjectKind: "application",
			SubjectID: fmt.Sprint(id), Village: a.Village, PersonalData: true, Details: map[string]any{"document": string(k)}})
	})
	if err != nil {
		return nil, err
	}
	pr, err := s.printData(ctx, a)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	var r *documents.Rendered
	name := k.Title()
	switch k {
	case PrintApplicationForm:
		r, err = documents.WriteApplication(&buf, pr.app)
	case PrintApprovalForm:
		r, err = documents.WriteApprovalForm(&buf, pr.approvalForm(a))
	case PrintCertificate:
		r, err = documents.WriteCertificate(&buf, pr.certificate(a))
		name += "_" + *a.ApprovalNumber
	case PrintAcceptance:
		r, err = documents.WriteAcceptance(&buf, pr.acceptance(a))
	}
	if err != nil {
		return nil, err
	}
	if k != PrintCertificate {
		name += "_" + a.Form.Applicant.Name
	}
	return &Printout{Kind: k, Filename: name + ".pdf", PDF: buf.Bytes(), Pages: r.Pages, Missing: r.Missing}, nil
}

// printed is what every document of one application shares.
type printed struct {
	app    *documents.Application
	siting *documents.SitingReport // nil without a check
	site   documents.Site
	smap   *documents.SiteMap
}

// townshipTitle is the full name of a township for the documents' titles.
func (s *Service) townshipTitle(code string) string {
	if t, ok := printTownships[code]; ok {
		return t
	}
	if n, ok := s.cfg.TownshipNames[code]; ok {
		return n
	}
	return code
}

// printTownships: the township's full name for the printed papers.
var printTownships = map[string]string{"220112203": "长春市双阳区双营子回族乡"}

// printData maps the stored application, its siting check (the one the
// decision saw, else the current one) and the check's map to the structs
// of package documents.
func (s *Service) printData(ctx context.Context, a *row) (*printed, error) {
	f := a.Form
	pr := &printed{}
	pr.site = documents.Site{Address: f.Proposed.Address, East: f.Proposed.East, South: f.Proposed.South,
		West: f.Proposed.West, North: f.Proposed.North}
	if a.SiteAreaM2 != nil {
		pr.site.AreaM2 = *a.SiteAreaM2
	}
	checkID := a.CheckID
	if d := a.Steps.Decision; d != nil && d.CheckID != 0 {
		checkID = &d.CheckID
	}
	if checkID != nil {
		res, err := s.siting.Get(ctx, *checkID)
		if err != nil {
			return nil, fmt.Errorf("application %d: siting check %d: %w", a.ID, *checkID, err)
		}
		md, err := s.siting.MapData(ctx, res)
		if err != nil {
			return nil, fmt.Errorf("application %d: map of siting check %d: %w", a.ID, *checkID, err)
		}
		pr.smap = documents.MapFromSiting(md)
		// FromSiting numbers the 界址点 J1 … from the site on the check's
		// Gauss-Krüger plane (zone stated in the table) and fills the area.
		pr.siting = documents.FromSiting(res, pr.site, pr.smap)
		pr.siting.Township = s.townshipTitle(a.Township) + "人民政府"
		pr.site = pr.siting.Site
	}
	village := f.VillageCode
	if a.VillageName != nil {
		village = *a.VillageName
	}
	person := func(p Person) documents.Person {
		return documents.Person{Name: p.Name, Sex: p.Sex, Age: p.Age, Phone: p.Phone, IDNumber: p.IDNumber, Hukou: p.Hukou, Relation: p.Relation}
	}
	app := &documents.Application{Township: s.townshipTitle(a.Township), Village: village, No: fmt.Sprint(a.ID),
		Applicant: person(f.Applicant), Site: pr.site,
		HousingAreaM2: f.Proposed.HousingLandM2, AncillaryAreaM2: f.Proposed.AncillaryLandM2, AncillaryBuildingM2: f.Proposed.AncillaryBuildingLandM2,
		Case: documents.ConstructionCase(f.Proposed.Situation), Land: documents.LandClass(f.Proposed.LandClass), AgriKind: f.Proposed.LandSubclass,
		FloorAreaM2: f.Proposed.FloorAreaM2, Storeys: f.Proposed.Storeys, HeightM: f.Proposed.HeightM,
		NeighboursConsulted: f.Proposed.NeighboursConsulted, Reason: f.Reason, SignedOn: a.CreatedAt.In(China)}
	for _, m := range f.Members {
		app.Members = append(app.Members, person(m))
	}
	if c := f.Current; c != nil {
		app.CurrentAreaM2, app.CurrentFloorAreaM2, app.CurrentCertNo = c.LandAreaM2, c.FloorAreaM2, c.CertificateNo
		app.Disposal = map[string]documents.Disposal{DisposalKeep: documents.DisposalKeep, DisposalReturn: documents.DisposalReturn, DisposalOther: documents.DisposalOther}[c.Disposal]
		app.KeepAreaM2, app.DisposalNote = c.KeepM2, c.DisposalNote
	}
	if g := a.Steps.Group; g != nil {
		app.GroupOpinion = documents.Opinion{Text: groupText(g), Head: g.GroupLeader, Date: day(g.DecidedOn)}
		if app.GroupOpinion.Date.IsZero() && a.Steps.Village != nil {
			app.GroupOpinion.Date = day(g.PublicityEnd)
		}
	}
	if v := a.Steps.Village; v != nil {
		app.VillageOpinion = documents.Opinion{Text: v.Opinion, Head: v.Reviewer, Date: day(v.On)}
	}
	pr.app = app
	return pr, nil
}

// day reads a stored YYYY-MM-DD as a day in China time (zero when empty).
func day(s string) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, s, China)
	if err != nil {
		return time.Time{}
	}
	return t
}

func dateZH(s string) string {
	t := day(s)
	if t.IsZero() {
		return "—"
	}
	return t.Format("2006年01月02日")
}

// groupText is the 村民小组意见: meeting, 公示 period, objections and how
// they were resolved, and the opinion.
func groupText(g *GroupStep) string {
	var b strings.Builder
	if g.MeetingDate != "" {
		fmt.Fprintf(&b, "经%s村民小组会议讨论，", dateZH(g.MeetingDate))
	}
	if g.PublicityStart != "" {
		fmt.Fprintf(&b, "于%s至%s在本集体经济组织范围内公示", dateZH(g.PublicityStart), dateZH(g.PublicityEnd))
		if g.PublicityWorkdays > 0 {
			fmt.Fprintf(&b, "（%d个工作日）", g.PublicityWorkdays)
		}
		b.WriteString("。")
	}
	if len(g.Objections) == 0 {
		if g.Opinion != "" || g.DecidedOn != "" {
			b.WriteString("公示期间无异议。")
		}
	} else {
		b.WriteString("公示期间异议及处理：")
		for i, o := range g.Objections {
			if i > 0 {
				b.WriteString("；")
			}
			fmt.Fprintf(&b, "%d. %s（处理：%s）", i+1, o.Objection, o.Resolution)
		}
		b.WriteString("。")
	}
	if g.Opinion != "" {
		b.WriteString("意见：" + g.Opinion)
	}
	return b.String()
}

func (pr *printed) summary() *documents.SitingSummary {
	if pr.siting == nil {
		return nil
	}
	return pr.siting.Summary()
}

func deptOpinion(o *DeptOpinion) documents.Opinion {
	if o == nil {
		return documents.Opinion{}
	}
	head := "■同意  □不同意"
	if !o.Agree {
		head = "□同意  ■不同意"
	}
	text := head
	if o.Opinion != "" {
		text += "\n" + o.Opinion
	}
	return documents.Opinion{Text: text, Head: o.Reviewer, Date: day(o.On)}
}

func (pr *printed) approvalForm(a *row) *documents.ApprovalForm {
	f := &documents.ApprovalForm{Application: pr.app, Siting: pr.summary(), Map: pr.smap,
		Review: documents.JointReview{Agriculture: deptOpinion(a.Steps.Opinions[Agriculture]),
			NaturalResources: deptOpinion(a.Steps.Opinions[NaturalResources]), Planning: deptOpinion(a.Steps.Opinions[Planning])}}
	d := a.Steps.Decision
	if d == nil {
		f.Outcome = documents.Decision{Pending: true}
		return f
	}
	f.Outcome = documents.Decision{Approved: d.Approved, CertificateNo: d.ApprovalNumber, Opinion: documents.Opinion{Date: day(d.On)}}
	if d.Approved {
		f.Outcome.Opinion.Text = "同意批准。" + d.Note
	} else {
		f.Outcome.Opinion.Text = "不予批准。理由：" + strings.Join(d.Reasons, "；") + "。" + d.Note
	}
	return f
}

func (pr *printed) certificate(a *row) *documents.Certificate {
	f := a.Form
	c := &documents.Certificate{No: *a.ApprovalNumber, Township: pr.app.Township + "人民政府", Holder: f.Applicant.Name,
		IDNumber: f.Applicant.IDNumber, Village: pr.app.Village, Site: pr.site, Map: pr.smap, Owner: pr.app.Village + "农民集体",
		Use: "农村宅基地", HousingM2: f.Proposed.HousingLandM2, FloorM2: f.Proposed.FloorAreaM2, Storeys: f.Proposed.Storeys,
		HeightM: f.Proposed.HeightM, Case: pr.app.Case, Land: pr.app.Land}
	if a.ApprovedOn != nil {
		c.IssuedOn = a.ApprovedOn.In(China)
	}
	if cur := f.Current; cur != nil {
		switch cur.Disposal {
		case DisposalReturn:
			c.Notes = "原宅基地退给村集体"
		case DisposalKeep:
			c.Notes = fmt.Sprintf("原宅基地保留 %.2f 平方米", cur.KeepM2)
		case DisposalOther:
			c.Notes = "原宅基地：" + cur.DisposalNote
		}
	}
	return c
}

func (pr *printed) acceptance(a *row) *documents.Acceptance {
	st := a.Steps
	acc := &documents.Acceptance{Application: pr.app}
	if a.ApprovalNumber != nil {
		acc.CertificateNo = *a.ApprovalNumber
	}
	if c := st.Construction; c != nil {
		acc.StartedOn = day(c.StartedOn)
	}
	if s := st.Staking; s != nil {
		dev := s.DeviationM
		acc.Visits = append(acc.Visits, documents.SiteVisit{Kind: "丈量批放", Date: day(s.On), DeviationM: &dev,
			Findings: fmt.Sprintf("实地丈量批放用地 %.2f 平方米。", s.AreaM2)})
	}
	if in := st.Inspection; in != nil {
		acc.CompletedOn = day(in.On)
		acc.BuiltAreaM2 = in.BuiltAreaM2
		acc.Passed = in.Passed
		find := fmt.Sprintf("实测占地 %.2f 平方米", in.BuiltAreaM2)
		if in.OutsideM2 > 0 {
			find += fmt.Sprintf("，超出批准用地 %.2f 平方米（最远 %.2f 米）", in.OutsideM2, in.OutsideM)
		} else {
			find += "，均在批准用地范围内"
		}
		acc.Visits = append(acc.Visits, documents.SiteVisit{Kind: "竣工验收", Date: day(in.On), Findings: find + "。" + in.Opinion})
		verdict := "验收合格。"
		if !in.Passed {
			verdict = "验收不合格。"
		}
		acc.Township = documents.Opinion{Text: verdict + in.Opinion, Date: day(in.On)}
	}
	if r := st.Registration; r != nil && a.Form.Current != nil && a.Form.Current.Disposal == DisposalReturn {
		ret := r.OldReturned
		acc.OldSiteReturned = &ret
	}
	return acc
}

// SitingReportPDF renders a stored siting check as the PDF 宅基地选址审查报告
// (documents.WriteSitingReport) with its map and 界址点坐标表. The caller
// has checked that the principal may read the check and audited the read.
func SitingReportPDF(ctx context.Context, svc *siting.Service, res *siting.Result) ([]byte, error) {
	md, err := svc.MapData(ctx, res)
	if err != nil {
		return nil, err
	}
	rep := documents.FromSiting(res, documents.Site{}, documents.MapFromSiting(md))
	code := res.Site.VillageCode
	if len(code) >= 9 {
		if t, ok := printTownships[code[:9]]; ok {
			rep.Township = t + "人民政府"
		}
	}
	var buf bytes.Buffer
	if _, err := documents.WriteSitingReport(&buf, rep); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
