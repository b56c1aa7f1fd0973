package httpapi

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"villageplan/internal/applications"
	"villageplan/internal/documents"
	"villageplan/internal/siting"
)

// forms serves the printable A4 documents of an application (package
// documents) from its stored data: GET /applications/{id}/forms/{form} with
// form application (申请表), approval (审批表), certificate (农村宅基地批准书,
// once approved), acceptance (验收意见表, once inspected) or siting (选址审查
// 报告 of the current check). The read is the audited read of the
// application (desk roles of its village); a form whose step is not reached
// is a 409 naming the state.
func (ar *applicationRoutes) forms(w http.ResponseWriter, r *http.Request) {
	id, perr := appPathID(r, "id")
	if perr != nil {
		ar.fail(w, r, perr)
		return
	}
	form := mux.Vars(r)["form"]
	names := map[string]string{"application": "申请表", "approval": "审批表", "certificate": "农村宅基地批准书", "acceptance": "验收意见表", "siting": "选址审查报告"}
	if names[form] == "" {
		ar.fail(w, r, &applications.Error{Status: http.StatusNotFound, Code: "NotFound", Field: "form",
			ZH: fmt.Sprintf("没有文书 %q（可用：application 申请表、approval 审批表、certificate 批准书、acceptance 验收意见表、siting 选址审查报告）", form),
			EN: fmt.Sprintf("no form %q (application, approval, certificate, acceptance, siting)", form)})
		return
	}
	ctx := applications.WithRequest(r.Context(), r)
	a, err := ar.svc.Get(ctx, id)
	if err != nil {
		ar.fail(w, r, err)
		return
	}
	notYet := func(zh, en string) {
		ar.fail(w, r, &applications.Error{Status: http.StatusConflict, Code: "NotYet", State: a.State, StateLabel: a.StateLabel, Version: a.Version,
			ZH: fmt.Sprintf("申请 %d 当前状态为「%s」：%s", a.ID, a.StateLabel, zh), EN: fmt.Sprintf("application %d is in state %s: %s", a.ID, a.State, en)})
	}
	var res *siting.Result
	var m *documents.SiteMap
	if a.Check != nil {
		if res, err = ar.sit.Get(r.Context(), a.Check.ID); err != nil {
			ar.s.serverError(w, r, err)
			return
		}
		md, err := ar.sit.MapData(r.Context(), res)
		if err != nil {
			ar.s.serverError(w, r, err)
			return
		}
		m = documents.MapFromSiting(md)
	}
	da := documentApplication(a, res, m, ar.svc.Config())
	var buf bytes.Buffer
	var rendered *documents.Rendered
	switch form {
	case "application":
		rendered, err = documents.WriteApplication(&buf, da)
	case "siting":
		if res == nil {
			notYet("没有选址审查结果", "no siting check")
			return
		}
		rendered, err = documents.WriteSitingReport(&buf, documents.FromSiting(res, da.Site, m))
	case "approval":
		rendered, err = documents.WriteApprovalForm(&buf, documentApproval(a, da, res, m))
	case "certificate":
		if a.ApprovalNumber == nil {
			notYet("尚未批准，没有批准书", "not approved: no certificate")
			return
		}
		rendered, err = documents.WriteCertificate(&buf, documentCertificate(a, da, m, ar.svc.Config()))
	case "acceptance":
		if a.Steps.Inspection == nil {
			notYet("尚未竣工验收", "not inspected yet")
			return
		}
		rendered, err = documents.WriteAcceptance(&buf, documentAcceptance(a, da))
	}
	if err != nil {
		ar.s.serverError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(fmt.Sprintf("%s-%d.pdf", names[form], a.ID)))
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	if rendered != nil && len(rendered.Missing) > 0 {
		// characters the font lacks are printed as 〔U+XXXX〕: complete by hand
		h.Set("X-Missing-Characters", strconv.Itoa(len(rendered.Missing)))
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

func chinaDay(s string) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, s, applications.China)
	if err != nil {
		return time.Time{}
	}
	return t
}

func chinaDayPtr(s *string) time.Time {
	if s == nil {
		return time.Time{}
	}
	return chinaDay(*s)
}

func documentPerson(p applications.Person) documents.Person {
	return documents.Person{Name: p.Name, Sex: p.Sex, Age: p.Age, Phone: p.Phone, IDNumber: p.IDNumber, Hukou: p.Hukou, Relation: p.Relation}
}

// documentApplication is the 申请表 of a as package documents prints it.
func documentApplication(a *applications.Application, res *siting.Result, m *documents.SiteMap, cfg applications.Config) *documents.Application {
	f := a.Form
	p := f.Proposed
	da := &documents.Application{Township: cfg.TownshipTitles[a.Township], Village: a.VillageName, No: strconv.FormatInt(a.ID, 10),
		Applicant: documentPerson(f.Applicant), HousingAreaM2: p.HousingLandM2, AncillaryAreaM2: p.AncillaryLandM2,
		AncillaryBuildingM2: p.AncillaryBuildingLandM2, Case: documents.ConstructionCase(p.Situation), Land: documents.LandClass(p.LandClass),
		AgriKind: p.LandSubclass, FloorAreaM2: p.FloorAreaM2, Storeys: p.Storeys, HeightM: p.HeightM, NeighboursConsulted: p.NeighboursConsulted,
		Reason: f.Reason, SignedOn: a.CreatedAt.In(applications.China),
		Site: documents.Site{Address: p.Address, East: p.East, South: p.South, West: p.West, North: p.North}}
	for _, mem := range f.Members {
		da.Members = append(da.Members, documentPerson(mem))
	}
	if c := f.Current; c != nil {
		da.CurrentAreaM2, da.CurrentFloorAreaM2, da.CurrentCertNo = c.LandAreaM2, c.FloorAreaM2, c.CertificateNo
		da.Disposal = map[string]documents.Disposal{applications.DisposalKeep: documents.DisposalKeep,
			applications.DisposalReturn: documents.DisposalReturn, applications.DisposalOther: documents.DisposalOther}[c.Disposal]
		da.KeepAreaM2, da.DisposalNote = c.KeepM2, c.DisposalNote
	}
	if res != nil {
		da.Site.AreaM2, da.Site.EPSG = res.Site.AreaM2, res.Site.MeasureEPSG
	}
	if m != nil {
		da.Site.Points = documents.PointsFromGeometry(m.Site)
	}
	if g := a.Steps.Group; g != nil && g.DecidedOn != "" {
		da.GroupOpinion = documents.Opinion{Text: g.Opinion, Head: g.GroupLeader, Date: chinaDay(g.DecidedOn)}
	}
	if v := a.Steps.Village; v != nil {
		da.VillageOpinion = documents.Opinion{Text: v.Opinion, Head: v.Reviewer, Date: chinaDay(v.On)}
	}
	return da
}

func deptOpinion(o *applications.DeptOpinion) documents.Opinion {
	if o == nil {
		return documents.Opinion{}
	}
	head := o.Reviewer
	if head == "" {
		head = o.By
	}
	text := o.Opinion
	if !o.Agree && text != "" {
		text = "不同意：" + text
	}
	return documents.Opinion{Text: text, Head: head, Date: chinaDay(o.On)}
}

// documentApproval is the 审批表.
func documentApproval(a *applications.Application, da *documents.Application, res *siting.Result, m *documents.SiteMap) *documents.ApprovalForm {
	f := &documents.ApprovalForm{Application: da, Map: m, Review: documents.JointReview{
		Agriculture:      deptOpinion(a.Steps.Opinions[applications.Agriculture]),
		NaturalResources: deptOpinion(a.Steps.Opinions[applications.NaturalResources]),
		Planning:         deptOpinion(a.Steps.Opinions[applications.Planning])}}
	if res != nil {
		s := &documents.SitingSummary{Verdict: res.Verdict, CheckedAt: res.CreatedAt}
		for _, sev := range []siting.Outcome{siting.Block, siting.PermitPath, siting.Review} {
			for _, rr := range res.Rules {
				if rr.Outcome == sev {
					s.Reasons = append(s.Reasons, rr.TitleZH+"："+rr.MessageZH)
				}
			}
		}
		f.Siting = s
	}
	if d := a.Steps.Decision; d != nil {
		text := d.Note
		if !d.Approved {
			for i, r := range d.Reasons {
				if i > 0 {
					text += "；"
				}
				text += r
			}
		}
		f.Outcome = documents.Decision{Approved: d.Approved, CertificateNo: d.ApprovalNumber, Opinion: documents.Opinion{Text: text, Date: chinaDay(d.On)}}
	}
	return f
}

// documentCertificate is the 农村宅基地批准书.
func documentCertificate(a *applications.Application, da *documents.Application, m *documents.SiteMap, cfg applications.Config) *documents.Certificate {
	p := a.Form.Proposed
	c := &documents.Certificate{No: *a.ApprovalNumber, Township: cfg.TownshipTitles[a.Township] + "人民政府", Holder: a.Form.Applicant.Name,
		IDNumber: a.Form.Applicant.IDNumber, Village: a.VillageName, Site: da.Site, Map: m, Owner: a.VillageName + "农民集体",
		Use: "农村宅基地", HousingM2: p.HousingLandM2, FloorM2: p.FloorAreaM2, Storeys: p.Storeys, HeightM: p.HeightM,
		Case: da.Case, Land: da.Land, IssuedOn: chinaDayPtr(a.ApprovedOn)}
	if d := a.Steps.Decision; d != nil {
		c.Handler = d.By
	}
	if cur := a.Form.Current; cur != nil && cur.Disposal == applications.DisposalReturn {
		c.Notes = "原宅基地退回村集体"
	}
	return c
}

// documentAcceptance is the 验收意见表.
func documentAcceptance(a *applications.Application, da *documents.Application) *documents.Acceptance {
	st := a.Steps
	ins := st.Inspection
	acc := &documents.Acceptance{Application: da, CompletedOn: chinaDay(ins.On), BuiltAreaM2: ins.BuiltAreaM2, Passed: ins.Passed,
		BuiltStoreys: a.Form.Proposed.Storeys, BuiltHeightM: a.Form.Proposed.HeightM,
		Agriculture: documents.Opinion{Text: ins.Opinion, Date: chinaDay(ins.On)}, NaturalResources: documents.Opinion{Text: ins.Opinion, Date: chinaDay(ins.On)}}
	if a.ApprovalNumber != nil {
		acc.CertificateNo = *a.ApprovalNumber
	}
	if st.Construction != nil {
		acc.StartedOn = chinaDay(st.Construction.StartedOn)
	}
	if st.Staking != nil {
		dev := st.Staking.DeviationM
		acc.Visits = append(acc.Visits, documents.SiteVisit{Kind: "丈量批放", Date: chinaDay(st.Staking.On), Staff: []string{st.Staking.By}, DeviationM: &dev})
	}
	out := ins.OutsideM
	acc.Visits = append(acc.Visits, documents.SiteVisit{Kind: "竣工验收", Date: chinaDay(ins.On), Staff: []string{ins.By}, Findings: ins.Opinion, DeviationM: &out})
	if cur := a.Form.Current; cur != nil && cur.Disposal == applications.DisposalReturn {
		returned := st.Registration != nil && st.Registration.OldReturned
		acc.OldSiteReturned = &returned
	}
	return acc
}
