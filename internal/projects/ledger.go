package projects

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/xuri/excelize/v2"

	"villageplan/internal/auth"
	"villageplan/layers"
)

// LedgerRow is one approved project in the 乡村建设台账 (amounts in 元).
type LedgerRow struct {
	ProjectID    int64              `json:"project_id"`
	Village      string             `json:"village"`
	VillageName  string             `json:"village_name"`
	Year         int                `json:"year"`
	Task         string             `json:"task"`
	TaskTitle    string             `json:"task_title"`
	Item         string             `json:"item"`
	Name         string             `json:"name"`
	Phase        Phase              `json:"phase"`
	BudgetYuan   float64            `json:"budget_yuan"`
	Funding      map[string]float64 `json:"funding"`
	SpentYuan    float64            `json:"spent_yuan"`
	LeadOffice   string             `json:"lead_office"`
	LastReportOn string             `json:"last_report_on,omitempty"`
	LastReport   string             `json:"last_report,omitempty"`
}

// LedgerColumns are the column titles of the ledger (.xlsx and page), in
// order; the funding columns follow FundingSources.
var LedgerColumns = append(append([]string{"序号", "村", "行政区划代码", "项目编号", "任务", "子项", "项目名称", "年度", "阶段", "总投资（元）"},
	FundingSources...), "已完成投资（元）", "牵头科室", "最近进展")

// Ledger returns the approved projects of year (0: every year) in the
// principal's scope, optionally of one village and one task, ordered by
// village, task (in the plan's order) and id.
func (s *Service) Ledger(ctx context.Context, year int, village, task string) ([]LedgerRow, error) {
	where, args := s.where(auth.FromContext(ctx), Filter{Year: year, Village: village, Task: task, Status: Approved})
	order := make([]string, len(Tasks))
	for i := range Tasks {
		order[i] = Tasks[i].Code
	}
	args = append(args, order)
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT p.id, p.village_code, coalesce(v.xzqmc, ''), p.year, p.task, p.item, p.name,
		p.phase, p.budget_yuan::float8, p.funding, p.spent_yuan::float8, p.lead_office,
		coalesce(to_char(r.reported_on, 'YYYY-MM-DD'), ''), coalesce(r.text, '')
		FROM villageplan.construction_projects p LEFT JOIN %s v ON v.xzqdm = p.village_code
		LEFT JOIN LATERAL (SELECT reported_on, text FROM villageplan.project_reports
			WHERE project_id = p.id ORDER BY reported_on DESC, id DESC LIMIT 1) r ON true
		%s ORDER BY p.village_code, array_position($%d::text[], p.task), p.id`,
		layers.Villages.QualifiedTable(), where, len(args)), args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (LedgerRow, error) {
		var l LedgerRow
		err := r.Scan(&l.ProjectID, &l.Village, &l.VillageName, &l.Year, &l.Task, &l.Item, &l.Name, &l.Phase,
			&l.BudgetYuan, &l.Funding, &l.SpentYuan, &l.LeadOffice, &l.LastReportOn, &l.LastReport)
		if t := TaskByCode(l.Task); t != nil {
			l.TaskTitle = t.TitleZH
		}
		if l.Funding == nil {
			l.Funding = map[string]float64{}
		}
		return l, err
	})
}

// TaskListTitles are the three lists of a village's annual 任务清单, in
// order: 谋划储备 → 谋划储备一批, 开工建设 → 开工建设一批, 投产运营 and 完成 →
// 投产运营一批.
var TaskListTitles = []string{"谋划储备一批", "开工建设一批", "投产运营一批"}

// ListOf is the task list (one of TaskListTitles) a phase belongs to.
func ListOf(p Phase) string {
	switch p {
	case Planned:
		return TaskListTitles[0]
	case Started:
		return TaskListTitles[1]
	}
	return TaskListTitles[2]
}

// VillageTaskList is one village's 任务清单 of a year: its approved
// projects in the three lists (each present, possibly empty).
type VillageTaskList struct {
	Village     string     `json:"village"`
	VillageName string     `json:"village_name"`
	Year        int        `json:"year"`
	Lists       []TaskList `json:"lists"`
}

// TaskList is one of the three lists with its projects and their budget
// total (元).
type TaskList struct {
	Title      string      `json:"title"`
	BudgetYuan float64     `json:"budget_yuan"`
	Projects   []LedgerRow `json:"projects"`
}

// TaskLists returns the 任务清单 of year for every village in the
// principal's scope that has an approved project that year (or only
// village, when given; then also when it has none).
func (s *Service) TaskLists(ctx context.Context, year int, village string) ([]VillageTaskList, error) {
	rows, err := s.Ledger(ctx, year, village, "")
	if err != nil {
		return nil, err
	}
	out := []VillageTaskList{}
	newList := func(code, name string) VillageTaskList {
		v := VillageTaskList{Village: code, VillageName: name, Year: year}
		for _, t := range TaskListTitles {
			v.Lists = append(v.Lists, TaskList{Title: t, Projects: []LedgerRow{}})
		}
		return v
	}
	for _, r := range rows {
		if len(out) == 0 || out[len(out)-1].Village != r.Village {
			out = append(out, newList(r.Village, r.VillageName))
		}
		v := &out[len(out)-1]
		for i := range v.Lists {
			if v.Lists[i].Title == ListOf(r.Phase) {
				v.Lists[i].Projects = append(v.Lists[i].Projects, r)
				v.Lists[i].BudgetYuan = round2(v.Lists[i].BudgetYuan + r.BudgetYuan)
			}
		}
	}
	if len(out) == 0 && village != "" {
		pr := auth.FromContext(ctx)
		if !mayRead(pr, village) {
			return out, nil
		}
		var name string
		_ = s.pool.QueryRow(ctx, fmt.Sprintf(`SELECT coalesce(max(xzqmc), '') FROM %s WHERE xzqdm = $1`, layers.Villages.QualifiedTable()), village).Scan(&name)
		out = append(out, newList(village, name))
	}
	return out, nil
}

// Township is the full name of the township of code (9 digits) for
// titles, or the code.
func (s *Service) Township(code string) string {
	if t, ok := s.cfg.TownshipTitles[code]; ok {
		return t
	}
	return code
}

// townshipOf is the township code (9 digits) of the rows' villages, the
// sample township's 220112203 when there are none.
func townshipOf(rows []LedgerRow) string {
	if len(rows) > 0 && len(rows[0].Village) == 12 {
		return rows[0].Village[:9]
	}
	return "220112203"
}

// WriteLedgerXLSX writes the 乡村建设台账 (title, a line naming the
// filters, LedgerColumns, one row per project and a 合计 row) as .xlsx.
func (s *Service) WriteLedgerXLSX(w io.Writer, year int, filters string, rows []LedgerRow) error {
	township := s.Township(townshipOf(rows))
	title := township + " 乡村建设台账"
	if year != 0 {
		title = fmt.Sprintf("%s %d 年乡村建设台账", township, year)
	}
	var data [][]any
	var budget, spent float64
	funding := map[string]float64{}
	for i, r := range rows {
		row := []any{i + 1, r.VillageName, r.Village, r.ProjectID, r.TaskTitle, r.Item, r.Name, r.Year, string(r.Phase), r.BudgetYuan}
		for _, src := range FundingSources {
			row = append(row, r.Funding[src])
			funding[src] += r.Funding[src]
		}
		last := r.LastReport
		if r.LastReportOn != "" {
			last = r.LastReportOn + " " + last
		}
		data = append(data, append(row, r.SpentYuan, r.LeadOffice, last))
		budget += r.BudgetYuan
		spent += r.SpentYuan
	}
	total := []any{"合计", "", "", "", "", "", fmt.Sprintf("%d 个项目", len(rows)), "", "", round2(budget)}
	for _, src := range FundingSources {
		total = append(total, round2(funding[src]))
	}
	data = append(data, append(total, round2(spent), "", ""))
	return writeSheet(w, "台账", title, filters, LedgerColumns, data, map[int]bool{9: true, 10: true, 11: true, 12: true, 13: true, 14: true, 15: true})
}

// TaskListColumns are the columns of the 任务清单 .xlsx.
var TaskListColumns = []string{"村", "行政区划代码", "清单", "序号", "项目编号", "项目名称", "任务", "子项", "阶段", "总投资（元）", "牵头科室"}

// WriteTaskListXLSX writes the 任务清单 of the villages as .xlsx: one row
// per project under its village and list (an empty list shows "（无）").
func (s *Service) WriteTaskListXLSX(w io.Writer, year int, lists []VillageTaskList) error {
	var data [][]any
	for _, v := range lists {
		for _, l := range v.Lists {
			if len(l.Projects) == 0 {
				data = append(data, []any{v.VillageName, v.Village, l.Title, "", "", "（无）", "", "", "", 0.0, ""})
			}
			for i, p := range l.Projects {
				data = append(data, []any{v.VillageName, v.Village, l.Title, i + 1, p.ProjectID, p.Name, p.TaskTitle, p.Item, string(p.Phase), p.BudgetYuan, p.LeadOffice})
			}
		}
	}
	var rows []LedgerRow
	for _, v := range lists {
		for _, l := range v.Lists {
			rows = append(rows, l.Projects...)
		}
	}
	title := fmt.Sprintf("%s %d 年乡村建设任务清单", s.Township(townshipOf(rows)), year)
	return writeSheet(w, "任务清单", title, "谋划储备一批、开工建设一批、投产运营一批（已审核项目）", TaskListColumns, data, map[int]bool{9: true})
}

// writeSheet writes one sheet: a merged title row, a note row, the header
// and the rows (columns in money are formatted #,##0.00).
func writeSheet(w io.Writer, sheet, title, note string, cols []string, rows [][]any, money map[int]bool) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	border := []excelize.Border{{Type: "left", Color: "999999", Style: 1}, {Type: "right", Color: "999999", Style: 1}, {Type: "top", Color: "999999", Style: 1}, {Type: "bottom", Color: "999999", Style: 1}}
	var err error
	style := func(st *excelize.Style) int {
		if err != nil {
			return 0
		}
		var id int
		id, err = f.NewStyle(st)
		return id
	}
	titleS := style(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 16}, Alignment: &excelize.Alignment{Horizontal: "center"}})
	noteS := style(&excelize.Style{Font: &excelize.Font{Size: 10, Color: "555555"}})
	headS := style(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"E8E8E8"}},
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}, Border: border})
	textS := style(&excelize.Style{Border: border})
	moneyS := style(&excelize.Style{NumFmt: 4, Border: border})
	if err != nil {
		return err
	}
	last, _ := excelize.ColumnNumberToName(len(cols))
	set := func(cell string, v any, st int) {
		if err == nil {
			err = f.SetCellValue(sheet, cell, v)
		}
		if err == nil {
			err = f.SetCellStyle(sheet, cell, cell, st)
		}
	}
	set("A1", title, titleS)
	set("A2", note, noteS)
	if err == nil {
		err = f.MergeCell(sheet, "A1", last+"1")
	}
	if err == nil {
		err = f.MergeCell(sheet, "A2", last+"2")
	}
	for i, c := range cols {
		name, _ := excelize.CoordinatesToCellName(i+1, 3)
		set(name, c, headS)
		col, _ := excelize.ColumnNumberToName(i + 1)
		width := 12.0
		if strings.Contains(c, "名称") || c == "最近进展" {
			width = 30
		}
		if err == nil {
			err = f.SetColWidth(sheet, col, col, width)
		}
	}
	for r, row := range rows {
		for c, v := range row {
			name, _ := excelize.CoordinatesToCellName(c+1, r+4)
			st := textS
			if money[c] {
				st = moneyS
			}
			set(name, v, st)
		}
	}
	if err == nil {
		err = f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 3, TopLeftCell: "A4", ActivePane: "bottomLeft"})
	}
	if err != nil {
		return err
	}
	return f.Write(w)
}

// MapCollection returns the approved projects with a geometry of year (0:
// every year), optionally of one phase, as a GeoJSON FeatureCollection in
// CRS84 for the web map: properties id, name, village, village_name, year,
// task, task_title, item, phase (no amounts). It is public, like the map.
func (s *Service) MapCollection(ctx context.Context, year int, phase Phase) (json.RawMessage, error) {
	var out json.RawMessage
	err := s.pool.QueryRow(ctx, fmt.Sprintf(`SELECT jsonb_build_object('type', 'FeatureCollection', 'features', coalesce(jsonb_agg(
		jsonb_build_object('type', 'Feature', 'id', p.id, 'geometry', ST_AsGeoJSON(p.geom, 7, 0)::jsonb,
			'properties', jsonb_build_object('id', p.id, 'name', p.name, 'village', p.village_code, 'village_name', coalesce(v.xzqmc, ''),
				'year', p.year, 'task', p.task, 'item', p.item, 'phase', p.phase)) ORDER BY p.id), '[]'::jsonb))
		FROM villageplan.construction_projects p LEFT JOIN %s v ON v.xzqdm = p.village_code
		WHERE p.status = 'approved' AND p.geom IS NOT NULL AND ($1 = 0 OR p.year = $1) AND ($2 = '' OR p.phase = $2)`,
		layers.Villages.QualifiedTable()), year, string(phase)).Scan(&out)
	if err != nil {
		return nil, err
	}
	// task_title is added here: the code list lives in Go.
	var fc struct {
		Type     string `json:"type"`
		Features []struct {
			Type       string          `json:"type"`
			ID         int64           `json:"id"`
			Geometry   json.RawMessage `json:"geometry"`
			Properties map[string]any  `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(out, &fc); err != nil {
		return nil, err
	}
	for i := range fc.Features {
		if t := TaskByCode(fmt.Sprint(fc.Features[i].Properties["task"])); t != nil {
			fc.Features[i].Properties["task_title"] = t.TitleZH
		}
	}
	return json.Marshal(fc)
}
