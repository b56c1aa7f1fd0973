package projects

import (
	"context"
	"fmt"

	"villageplan/layers"
)

// VillageSummary is one village's projects of one year for the assessment
// (考核评估, package assessment): how many approved (已审核) projects are in
// each phase (谋划储备 / 开工建设 / 投产运营 / 完成) and the sums of their
// budgets and of what has been spent, in 元 (CNY). Drafts, filed and
// returned projects are not counted: only what the township checked is in
// the 台账.
type VillageSummary struct {
	Village                                string // XZQDM (12 digits)
	Year                                   int
	Planned, Started, Operating, Completed int
	BudgetYuan, SpentYuan                  float64
}

// Summary returns one VillageSummary per village of the villages layer
// (also those without a project that year, with zeros) and per other
// village that has an approved project, ordered by village code.
func (s *Service) Summary(ctx context.Context, year int) ([]VillageSummary, error) {
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`
		WITH p AS (
			SELECT village_code,
			       count(*) FILTER (WHERE phase = '谋划储备') AS planned,
			       count(*) FILTER (WHERE phase = '开工建设') AS started,
			       count(*) FILTER (WHERE phase = '投产运营') AS operating,
			       count(*) FILTER (WHERE phase = '完成') AS completed,
			       sum(budget_yuan)::float8 AS budget, sum(spent_yuan)::float8 AS spent
			FROM villageplan.construction_projects
			WHERE year = $1 AND status = 'approved'
			GROUP BY village_code),
		v AS (SELECT xzqdm AS code FROM %s WHERE xzqdm IS NOT NULL UNION SELECT village_code FROM p)
		SELECT v.code, coalesce(p.planned, 0), coalesce(p.started, 0), coalesce(p.operating, 0),
		       coalesce(p.completed, 0), coalesce(p.budget, 0), coalesce(p.spent, 0)
		FROM v LEFT JOIN p ON p.village_code = v.code
		ORDER BY v.code`, layers.Villages.QualifiedTable()), year)
	if err != nil {
		return nil, fmt.Errorf("project summary %d: %w", year, err)
	}
	defer rows.Close()
	out := []VillageSummary{}
	for rows.Next() {
		vs := VillageSummary{Year: year}
		if err := rows.Scan(&vs.Village, &vs.Planned, &vs.Started, &vs.Operating, &vs.Completed, &vs.BudgetYuan, &vs.SpentYuan); err != nil {
			return nil, err
		}
		out = append(out, vs)
	}
	return out, rows.Err()
}
