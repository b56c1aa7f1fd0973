package indicators

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/xuri/excelize/v2"
)

// VillageNames returns village code → name (XZQMC) of the villages layer
// as it is now.
func (s *Service) VillageNames(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	l, ok := s.cat.Layer("villages")
	if !ok {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT xzqdm, xzqmc FROM `+l.QualifiedTable())
	if err != nil {
		return nil, fmt.Errorf("village names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c, n string
		if err := rows.Scan(&c, &n); err != nil {
			return nil, err
		}
		out[c] = n
	}
	return out, rows.Err()
}

// WriteXLSX writes the report as an .xlsx workbook: sheet 指标 with one row
// per value (indicator key and title, unit, village code and name, 自然屯,
// numerator, denominator, value) and sheet 定义 with every definition and
// its formula. Numbers are numbers, not text.
func WriteXLSX(w io.Writer, r *Report, names map[string]string) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet, defs = "指标", "定义"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	if _, err := f.NewSheet(defs); err != nil {
		return err
	}
	byKey := map[string]Definition{}
	for _, d := range Definitions() {
		byKey[d.Key] = d
	}
	title := fmt.Sprintf("乡村建设指标（截至 %s，示例以图层数据计算）", r.AsOf.In(China).Format(time.DateOnly))
	if err := f.SetSheetRow(sheet, "A1", &[]any{title}); err != nil {
		return err
	}
	head := []any{"指标键 key", "指标 indicator", "单位 unit", "村代码 XZQDM", "村名 village", "自然屯 hamlet", "分子 numerator", "分母 denominator", "值 value"}
	if err := f.SetSheetRow(sheet, "A2", &head); err != nil {
		return err
	}
	row := 3
	for _, v := range r.Values {
		d := byKey[v.Key]
		name := names[v.Village]
		if v.Village == "" {
			name = "全乡合计 township"
		}
		cells := []any{v.Key, d.TitleZH, d.Unit, v.Village, name, v.Hamlet, v.Numerator, v.Denominator, v.Value}
		if err := f.SetSheetRow(sheet, fmt.Sprintf("A%d", row), &cells); err != nil {
			return err
		}
		row++
	}
	_ = f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 2, TopLeftCell: "A3", ActivePane: "bottomLeft"})
	_ = f.SetColWidth(sheet, "B", "B", 24)
	_ = f.SetColWidth(sheet, "D", "F", 16)
	dh := []any{"指标键 key", "指标 indicator", "indicator", "单位 unit", "公式", "formula", "分子 numerator", "分母 denominator", "越高越好 higher is better", "未计算原因 skipped"}
	if err := f.SetSheetRow(defs, "A1", &dh); err != nil {
		return err
	}
	for i, d := range Definitions() {
		cells := []any{d.Key, d.TitleZH, d.TitleEN, d.Unit, d.FormulaZH, d.FormulaEN, d.NumeratorLabel, d.DenominatorLabel, d.HigherIsBetter, r.Skipped[d.Key]}
		if err := f.SetSheetRow(defs, fmt.Sprintf("A%d", i+2), &cells); err != nil {
			return err
		}
	}
	return f.Write(w)
}
