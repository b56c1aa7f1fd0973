package httpapi

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/gorilla/mux"

	"villageplan/internal/applications"
	"villageplan/internal/siting"
)

// The printable papers of an application (package documents, A4 PDF with
// an embedded CJK font):
//
//	GET /applications/{id}/print/application-form  申请表 (every state)
//	GET /applications/{id}/print/approval-form     审批表 (from 乡镇受理)
//	GET /applications/{id}/print/certificate       农村宅基地批准书 (once 批准)
//	GET /applications/{id}/print/acceptance        验收意见表 (once 竣工验收)
//
// Scope and audit as GET /applications/{id} (applications.Service.Print);
// a document that does not exist in the application's state is a 409
// naming the state and what is missing.

// routePrinting mounts the print routes next to the application routes.
func (ar *applicationRoutes) routePrinting() {
	ar.s.router.HandleFunc("/applications/{id}/print/{document}", ar.print).Methods(http.MethodGet, http.MethodHead)
}

func (ar *applicationRoutes) print(w http.ResponseWriter, r *http.Request) {
	id, perr := appPathID(r, "id")
	if perr != nil {
		ar.fail(w, r, perr)
		return
	}
	p, err := ar.svc.Print(applications.WithRequest(r.Context(), r), id, applications.PrintKind(mux.Vars(r)["document"]))
	if err != nil {
		ar.fail(w, r, err)
		return
	}
	if len(p.Missing) > 0 {
		// Characters outside the font are printed as 〔U+XXXX〕: tell the
		// desk (the page can warn the clerk to complete them by hand).
		var s string
		for _, m := range p.Missing {
			s += m.String() + " "
		}
		w.Header().Set("X-Missing-Glyphs", url.PathEscape(s))
	}
	writePDF(w, r, p.Filename, p.PDF)
}

// writePDF answers a PDF, inline (opens in the browser's viewer) with its
// Chinese file name (RFC 6266 filename*, and an ASCII fallback).
func writePDF(w http.ResponseWriter, r *http.Request, filename string, pdf []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Length", strconv.Itoa(len(pdf)))
	h.Set("Content-Disposition", `inline; filename="document.pdf"; filename*=UTF-8''`+url.PathEscape(filename))
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(pdf)
	}
}

// withLinks adds the links to the printable documents of a.
func (ar *applicationRoutes) withLinks(r *http.Request, a *applications.Application) *applications.Application {
	if a != nil {
		a.Links = applications.PrintLinks(ar.s.baseURL(r), a)
	}
	return a
}

// reportPDF answers GET /siting/checks/{id}/report?f=pdf: the PDF twin of
// the HTML report (already scoped and audited by load).
func (sr *sitingRoutes) reportPDF(w http.ResponseWriter, r *http.Request, res *siting.Result) {
	pdf, err := applications.SitingReportPDF(r.Context(), sr.svc, res)
	if err != nil {
		sr.s.serverError(w, r, err)
		return
	}
	name := "宅基地选址审查报告"
	if res.Site.VillageName != "" {
		name += "_" + res.Site.VillageName
	}
	writePDF(w, r, name+"_"+res.CreatedAt.In(applications.China).Format("20060102")+".pdf", pdf)
}
