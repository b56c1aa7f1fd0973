// Package documents renders the printable papers of the homestead desk
// (宅基地审批) and the approval ledger from plain Go structs. It reads no
// database: the caller (the application workflow and its HTTP routes) fills
// the structs, decides who may see personal data (names, 身份证号 — pass
// them masked with MaskID/MaskName when the reader is not entitled) and
// audits the read.
//
// PDF documents, A4 portrait, Chinese throughout, each a function of one
// struct that writes the PDF to an io.Writer and returns *Rendered:
//
//	WriteApplication(w, *Application)    农村宅基地和建房（规划许可）申请表 — 农经发〔2019〕6号 annex; fields of DOMAIN.md §2
//	WriteApprovalForm(w, *ApprovalForm)  农村宅基地和建房（规划许可）审批表 — siting verdict and reasons first, map, 界址点坐标表,
//	                                     农业农村 / 自然资源 / 规划建设 opinions, township decision;
//	                                     土地管理法 第六十二条第四款, 城乡规划法 第四十一条, 农经发〔2019〕6号
//	WriteCertificate(w, *Certificate)    农村宅基地批准书 (批准书号) — 土地管理法 第六十二条, 农经发〔2019〕6号
//	WriteAcceptance(w, *Acceptance)      农村宅基地和建房（规划许可）验收意见表 — approved vs built, 三到场, opinions
//	WriteSitingReport(w, *SitingReport)  宅基地选址审查报告 — the PDF twin of siting's HTML report; build the struct
//	                                     with FromSiting(*siting.Result, Site, MapFromSiting(siting.Service.MapData))
//
// Every document with a site prints its 界址点坐标表 (Site.Points: X north,
// Y east, metres, in the CGCS2000 Gauss-Krüger CRS Site.EPSG, whose zone
// and central meridian are stated) and, where a SiteMap is given, a vector
// map (site outlined, only the overlaps with blocking layers in red,
// grey context, north arrow, scale bar and 1:N). Verdicts are printed with
// siting.Outcome.ZH, the one vocabulary of desk, report and CLI:
// 禁止 / 须办理农用地转用 / 需审查 / 通过.
//
// Text is set in WenQuanYi Micro Hei subset to ASCII + GB 2312 and embedded
// in the binary (font/, Apache-2.0). A character outside it is printed as
// 〔U+XXXX〕 and listed in Rendered.Missing, never silently dropped; Covered
// tells in advance.
//
// The ledger (宅基地审批台账, 备案 to the county, 农经发〔2019〕6号):
// WriteLedgerXLSX and WriteLedgerCSV stream LedgerRow values from an
// iter.Seq2 under a LedgerHeader (township, year, filters, Entitled).
package documents
