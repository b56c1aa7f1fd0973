package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"villageplan/internal/applications"
	"villageplan/layers"
)

// getPDF downloads path as token; it must be a 200 application/pdf that
// poppler reads. It returns the text (spaces and line breaks squashed)
// and the Content-Disposition file name.
func (c deskClient) getPDF(token, path, name string) (string, string) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.ts.URL+path, nil)
	req.Header.Set("Authorization", c.tokens[token])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(b, []byte("%PDF-")) {
		c.t.Fatalf("GET %s as %s = %d %s %.300q", path, token, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	cd := resp.Header.Get("Content-Disposition")
	_, enc, ok := strings.Cut(cd, "filename*=UTF-8''")
	filename, err := url.PathUnescape(enc)
	if !ok || err != nil {
		c.t.Errorf("GET %s: Content-Disposition %q has no UTF-8 filename*", path, cd)
	}
	p := filepath.Join(c.t.TempDir(), name+".pdf")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		c.t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", p, "-").CombinedOutput()
	if err != nil {
		c.t.Fatalf("pdftotext %s: %v\n%s", path, err, out)
	}
	if keep := os.Getenv("DOCUMENTS_PNG_DIR"); keep != "" {
		_ = os.MkdirAll(keep, 0o755)
		_ = os.WriteFile(filepath.Join(keep, name+".pdf"), b, 0o644)
	}
	return strings.Join(strings.Fields(string(out)), ""), filename
}

// wantText checks that text holds every want.
func wantText(t *testing.T, what, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

// noInternals checks that a printed text carries no English layer id, no
// verdict code and no code-list bracket.
func noInternals(t *testing.T, what, text string) {
	t.Helper()
	for _, l := range layers.Default().Layers() {
		if strings.Contains(text, l.ID) {
			t.Errorf("%s prints the layer id %q", what, l.ID)
		}
	}
	if m := regexp.MustCompile(`BLOCK|PERMIT_PATH|REVIEW|PASS|[a-z]+_[a-z_]+|EPSG:4490`).FindString(text); m != "" {
		t.Errorf("%s prints the internal code %q", what, m)
	}
}

// TestPrintDocuments takes one application through its states and prints
// each document as it comes to exist: 申请表 from the start, 审批表 from 受理,
// 批准书 after 批准 (409 before), 验收意见表 after 竣工验收; each is a PDF
// with the applicant's name and the state's content, in Chinese only;
// another village's clerk is refused as on GET /applications/{id}; the
// application JSON links the documents that exist; every print is audited.
func TestPrintDocuments(t *testing.T) {
	ts, pool, tokens := deskServer(t, applications.Config{})
	c := deskClient{t, ts, tokens}
	id, a := c.create(7, rect(200, 100, 15, 18), nil)
	v := int(a["version"].(float64))
	base := fmt.Sprintf("/applications/%d/print/", id)
	links := func(token string) []string {
		t.Helper()
		code, got, _ := c.do(token, "GET", fmt.Sprintf("/applications/%d", id), nil, nil)
		if code != 200 {
			t.Fatalf("GET application = %d %v", code, got)
		}
		var out []string
		ls, _ := got["links"].([]any)
		for _, l := range ls {
			m := l.(map[string]any)
			if m["document"] == "siting-report" {
				// the current check's report, as PDF
				if m["type"] != "application/pdf" || !strings.HasSuffix(m["href"].(string), fmt.Sprintf("/siting/checks/%d/report?f=pdf", int64(got["check"].(map[string]any)["id"].(float64)))) {
					t.Errorf("siting report link %v", m)
				}
				continue
			}
			if m["type"] != "application/pdf" || !strings.HasSuffix(m["href"].(string), base+m["document"].(string)) || (m["rel"] != "describedby" && m["rel"] != "alternate") {
				t.Errorf("link %v", m)
			}
			out = append(out, m["document"].(string))
		}
		return out
	}
	if got := links("clerk"); strings.Join(got, ",") != "application-form" {
		t.Errorf("links in 申请 = %v, want only the application form", got)
	}

	text, name := c.getPDF("clerk", base+"application-form", "申请表")
	wantText(t, "申请表", text, "农村宅基地和建房（规划许可）申请表", "测试户主7", "测试成员7", testID(1950+7, 15), "鲁家村一组7号",
		"■新申请宅基地建设", "■建设用地", "界址点坐标表", "J1", "高斯-克吕格", "270.00平方米", "分户另住")
	noInternals(t, "申请表", text)
	if name != "农村宅基地和建房（规划许可）申请表_测试户主7.pdf" {
		t.Errorf("申请表 file name %q", name)
	}

	// Documents that do not exist yet: 409 naming the state and what is missing.
	for _, doc := range []string{"approval-form", "certificate", "acceptance"} {
		code, out, _ := c.do("window", "GET", base+doc, nil, nil)
		miss, _ := out["missing"].([]any)
		if code != 409 || out["state"] != "submitted" || len(miss) == 0 || !strings.Contains(out["description_zh"].(string), "已申请") ||
			!strings.Contains(out["description"].(string), "submitted") {
			t.Errorf("%s before its step = %d %v", doc, code, out)
		}
	}
	if code, out, _ := c.do("window", "GET", base+"receipt", nil, nil); code != 404 || !strings.Contains(fmt.Sprint(out["description_zh"]), "批准书") {
		t.Errorf("unknown document = %d %v", code, out)
	}
	// Another village's clerk: refused exactly like the JSON route.
	jsonCode, _, _ := c.do("other", "GET", fmt.Sprintf("/applications/%d", id), nil, nil)
	if code, out, _ := c.do("other", "GET", base+"application-form", nil, nil); code != jsonCode || code != 403 {
		t.Errorf("other village's clerk: print %d %v, JSON %d", code, out, jsonCode)
	}
	if code, _, _ := c.do("analyst", "GET", base+"application-form", nil, nil); code != 403 {
		t.Errorf("data analyst printing an application = %d, want 403", code)
	}
	if code, _, _ := c.do("", "GET", base+"application-form", nil, nil); code != 401 {
		t.Errorf("anonymous printing an application = %d, want 401", code)
	}

	v = c.toDecision(id, v)
	text, _ = c.getPDF("agri", base+"approval-form", "审批表-联审")
	wantText(t, "审批表（待决定）", text, "农村宅基地和建房（规划许可）审批表", "测试户主7", "选址审查结论", "需审查", "一户一宅", "农业农村部门意见",
		"■同意□不同意", "□批准□不予批准", "界址点坐标表", "选址位置图")
	if strings.Contains(text, "批准书号") {
		t.Errorf("审批表 before the decision prints a 批准书号:\n%s", text)
	}
	noInternals(t, "审批表", text)
	if code, out, _ := c.do("window", "GET", base+"certificate", nil, nil); code != 409 || out["state"] != "decision" {
		t.Errorf("批准书 before 批准 = %d %v", code, out)
	}

	v = c.must("approver", id, v, "approve", nil)
	const no = "双营子宅批〔2026〕第0001号"
	text, name = c.getPDF("clerk", base+"certificate", "批准书")
	wantText(t, "批准书", text, "农村宅基地批准书", "批准书号："+no, "测试户主7", testID(1950+7, 15), "鲁家村农民集体", "农村宅基地",
		"2026年12月02日", "长春市双阳区双营子回族乡人民政府", "界址点坐标表", "J1", "J4", "宅基地坐落平面位置图", "东至村道")
	noInternals(t, "批准书", text)
	if name != "农村宅基地批准书_"+no+".pdf" {
		t.Errorf("批准书 file name %q", name)
	}
	text, _ = c.getPDF("approver", base+"approval-form", "审批表-批准")
	wantText(t, "审批表（批准）", text, "■批准□不予批准", "农村宅基地批准书号："+no)
	if got := links("approver"); strings.Join(got, ",") != "application-form,approval-form,certificate" {
		t.Errorf("links after 批准 = %v", got)
	}
	// Look at one 批准书 (DOCUMENTS_PNG_DIR keeps it): poppler rasterises it.
	dir := t.TempDir()
	pdf := filepath.Join(dir, "批准书.pdf")
	req, _ := http.NewRequest("GET", ts.URL+base+"certificate", nil)
	req.Header.Set("Authorization", tokens["window"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	_ = os.WriteFile(pdf, b, 0o644)
	if out, err := exec.Command("pdftoppm", "-png", "-r", "60", pdf, filepath.Join(dir, "批准书")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, out)
	}
	if pngs, _ := filepath.Glob(filepath.Join(dir, "批准书*.png")); len(pngs) == 0 {
		t.Error("pdftoppm made no page")
	} else if keep := os.Getenv("DOCUMENTS_PNG_DIR"); keep != "" {
		for _, p := range pngs {
			b, _ := os.ReadFile(p)
			_ = os.WriteFile(filepath.Join(keep, filepath.Base(p)), b, 0o644)
		}
	}

	if code, out, _ := c.do("window", "GET", base+"acceptance", nil, nil); code != 409 || out["state"] != "approved" || !strings.Contains(out["description_zh"].(string), "竣工验收") {
		t.Errorf("验收意见表 before 竣工验收 = %d %v", code, out)
	}
	v = c.must("window", id, v, "stake", map[string]any{"site": json.RawMessage(rect(200.2, 100, 15, 18)), "crs": "EPSG:4551"})
	v = c.must("clerk", id, v, "start", map[string]any{"on": "2026-12-02"})
	_ = c.must("window", id, v, "inspect", map[string]any{"site": json.RawMessage(rect(202, 102, 12, 12)), "crs": "EPSG:4551", "opinion": "按批准建设"})
	text, name = c.getPDF("natres", base+"acceptance", "验收意见表")
	wantText(t, "验收意见表", text, "农村宅基地和建房（规划许可）验收意见表", "■验收合格□验收不合格", "测试户主7", no, "丈量批放", "竣工验收",
		"最大位置偏差0.20米", "实测占地144.00平方米", "按批准建设", "未实测")
	noInternals(t, "验收意见表", text)
	if name != "农村宅基地和建房（规划许可）验收意见表_测试户主7.pdf" {
		t.Errorf("验收意见表 file name %q", name)
	}
	if got := links("clerk"); len(got) != 4 {
		t.Errorf("links after 竣工验收 = %v, want all four", got)
	}

	// A refused application: its 审批表 says so with the reasons; it never
	// gets a 批准书.
	rid, ra := c.create(8, rect(400, 100, 15, 18), nil)
	rv := c.toDecision(rid, int(ra["version"].(float64)))
	c.must("approver", rid, rv, "reject", map[string]any{"reasons": []string{"拟建层数超过村庄规划要求"}})
	text, _ = c.getPDF("approver", fmt.Sprintf("/applications/%d/print/approval-form", rid), "审批表-不予批准")
	wantText(t, "审批表（不予批准）", text, "□批准■不予批准", "拟建层数超过村庄规划要求", "测试户主8")
	if code, out, _ := c.do("approver", "GET", fmt.Sprintf("/applications/%d/print/certificate", rid), nil, nil); code != 409 || out["state"] != "rejected" ||
		!strings.Contains(out["description_zh"].(string), "不予批准的申请没有") {
		t.Errorf("批准书 of a refused application = %d %v", code, out)
	}

	var prints int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM villageplan.audit_log WHERE action = 'application.print'
		AND subject_id = $1 AND personal_data`, fmt.Sprint(id)).Scan(&prints); err != nil {
		t.Fatal(err)
	}
	if prints != 6 {
		t.Errorf("%d audited prints, want 6 (every successful download)", prints)
	}
}

// TestSitingReportPDF: GET /siting/checks/{id}/report?f=pdf is the PDF
// twin of the HTML report (which stays the default), for whoever may read
// the check.
func TestSitingReportPDF(t *testing.T) {
	ts, _, tokens := deskServer(t, applications.Config{})
	c := deskClient{t, ts, tokens}
	// A site over the permanent farmland at x 1000…1100: 禁止.
	code, out, _ := c.do("clerk", "POST", "/siting/checks", nil, map[string]any{"site": json.RawMessage(rect(1090, 50, 15, 18)), "crs": "EPSG:4551",
		"household_id": "H-PDF", "village_code": village1})
	if code != 201 || out["verdict"] != "BLOCK" {
		t.Fatalf("check = %d %v", code, out)
	}
	path := fmt.Sprintf("/siting/checks/%d/report", int64(out["id"].(float64)))
	text, name := c.getPDF("window", path+"?f=pdf", "选址审查报告")
	wantText(t, "选址审查报告", text, "宅基地选址审查报告", "禁止", "永久基本农田", "鲁家村", "界址点坐标表", "J1", "高斯-克吕格", "逐项审查结果", "土地管理法")
	noInternals(t, "选址审查报告", text)
	if !strings.HasPrefix(name, "宅基地选址审查报告_鲁家村_") {
		t.Errorf("report file name %q", name)
	}
	code, html, hdr := c.do("clerk", "GET", path, nil, nil)
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") || !strings.Contains(html["_raw"].(string), "<html") {
		t.Errorf("HTML report = %d %s", code, hdr.Get("Content-Type"))
	}
	if code, _, _ := c.do("other", "GET", path+"?f=pdf", nil, nil); code != 403 {
		t.Errorf("another village's clerk reading the PDF report = %d, want 403", code)
	}
}
