package assessment

import (
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"
)

// XLSX sheet names.
const (
	SheetRanking = "排名"
	SheetWeights = "权重"
)

// WriteXLSX writes the result as an .xlsx workbook. Sheet 排名: a title
// row, a header row, then one row per village in rank order — rank,
// XZQDM, name, score, previous year's score and rank, change, and per
// weighted key its value and part score (numbers as numbers; empty where
// the village has none). Sheet 权重: key, title, unit, higher is better,
// weight, formula (Chinese and English) and the scoring rule.
func WriteXLSX(w io.Writer, r *Result) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", SheetRanking); err != nil {
		return err
	}
	if _, err := f.NewSheet(SheetWeights); err != nil {
		return err
	}
	state := "进行中（按当前数据计算）"
	if r.Closed {
		state = "已结束（快照）"
	}
	title := fmt.Sprintf("%d 年度乡村建设考核评估（指标截至 %s，%s）", r.Year, r.AsOf, state)
	if err := f.SetSheetRow(SheetRanking, "A1", &[]any{title}); err != nil {
		return err
	}
	prev := "上年"
	if r.PreviousYear > 0 {
		prev = fmt.Sprintf("%d 年", r.PreviousYear)
	}
	head := []any{"排名 rank", "村代码 XZQDM", "村名 village", "得分 score", prev + "得分 previous score", prev + "排名 previous rank", "变化 change"}
	for _, k := range r.Keys {
		head = append(head, k.TitleZH+"（"+k.Unit+"）", k.TitleZH+" 得分")
	}
	if err := f.SetSheetRow(SheetRanking, "A2", &head); err != nil {
		return err
	}
	num := func(p *float64) any {
		if p == nil {
			return nil
		}
		return *p
	}
	intOrNil := func(n int) any {
		if n == 0 {
			return nil
		}
		return n
	}
	for i, v := range r.Villages {
		cells := []any{intOrNil(v.Rank), v.Village, v.Name, num(v.Score), num(v.PrevScore), intOrNil(v.PrevRank), num(v.Change)}
		parts := map[string]Part{}
		for _, p := range v.Parts {
			parts[p.Key] = p
		}
		for _, k := range r.Keys {
			p := parts[k.Key]
			cells = append(cells, num(p.Value), num(p.Score))
		}
		if err := f.SetSheetRow(SheetRanking, fmt.Sprintf("A%d", i+3), &cells); err != nil {
			return err
		}
	}
	_ = f.SetPanes(SheetRanking, &excelize.Panes{Freeze: true, XSplit: 3, YSplit: 2, TopLeftCell: "D3", ActivePane: "bottomRight"})
	_ = f.SetColWidth(SheetRanking, "B", "C", 15)
	wh := []any{"指标键 key", "指标 indicator", "indicator", "单位 unit", "越高越好 higher is better", "权重 weight", "公式", "formula"}
	if err := f.SetSheetRow(SheetWeights, "A1", &wh); err != nil {
		return err
	}
	weights := map[string]float64{}
	for _, w := range r.Weights {
		weights[w.Key] = w.Weight
	}
	for i, k := range r.Keys {
		cells := []any{k.Key, k.TitleZH, k.TitleEN, k.Unit, k.HigherIsBetter, weights[k.Key], k.FormulaZH, k.FormulaEN}
		if err := f.SetSheetRow(SheetWeights, fmt.Sprintf("A%d", i+2), &cells); err != nil {
			return err
		}
	}
	n := len(r.Keys) + 3
	src := "管理员设置"
	if r.DefaultWeights {
		src = "默认权重（管理员未设置）"
	}
	notes := []string{
		"权重来源：" + src,
		"单项得分：比率指标（%）越高越好取原值，越低越好取 100 − 原值；其他指标按各村最小值—最大值线性换算为 0—100（全部相同时均为 100）。",
		"总分：有数值的各项得分按权重加权平均，保留两位小数；同分同名次。",
		"Part score: shares (%) as they are (100 − x when lower is better); other units min–max over the villages to 0–100 (100 when all equal). Score: weighted mean over the keys the village has a value for, rounded to 0.01; equal scores share a rank.",
	}
	for i, s := range notes {
		if err := f.SetSheetRow(SheetWeights, fmt.Sprintf("A%d", n+i), &[]any{s}); err != nil {
			return err
		}
	}
	_ = f.SetColWidth(SheetWeights, "B", "C", 22)
	return f.Write(w)
}
