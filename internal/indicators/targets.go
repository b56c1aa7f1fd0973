package indicators

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Target is one administrator's setting of villageplan.indicator_targets:
// Key (TargetFarmland, TargetPBF, or TargetReachPrefix + a facility kind),
// Village ("" township-wide, or a 12-digit XZQDM) and Value (m² or m).
type Target struct {
	Key       string  `json:"key"`
	Village   string  `json:"village"`
	Value     float64 `json:"value"`
	UpdatedBy string  `json:"updated_by,omitempty"`
}

// TargetError is a target the store refuses: Field names the member.
type TargetError struct {
	Index  int
	Field  string
	ZH, EN string
}

func (e *TargetError) Error() string {
	return fmt.Sprintf("targets[%d].%s: %s", e.Index, e.Field, e.EN)
}

var villageCode = regexp.MustCompile(`^[0-9]{12}$`)

// TargetKeys lists the keys a target may have (reach keys: one per kind of
// the reach indicators).
func TargetKeys() []string {
	keys := []string{TargetFarmland, TargetPBF}
	for _, rk := range reachKinds {
		keys = append(keys, TargetReachPrefix+rk.kind)
	}
	return keys
}

// Targets lists the stored targets.
func (s *Service) Targets(ctx context.Context) ([]Target, error) {
	rows, err := s.pool.Query(ctx, `SELECT key, village, value, updated_by FROM villageplan.indicator_targets ORDER BY key, village`)
	if err != nil {
		return nil, fmt.Errorf("indicator targets: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Target, error) {
		var t Target
		err := r.Scan(&t.Key, &t.Village, &t.Value, &t.UpdatedBy)
		return t, err
	})
}

// ValidateTargets checks keys, village codes and values (finite, ≥ 0; a
// reach distance 1–100,000 m).
func ValidateTargets(ts []Target) error {
	keys := TargetKeys()
	for i, t := range ts {
		ok := false
		for _, k := range keys {
			ok = ok || k == t.Key
		}
		if !ok {
			return &TargetError{i, "key", fmt.Sprintf("未知的指标目标 %q（可用：%s）", t.Key, strings.Join(keys, "、")), fmt.Sprintf("unknown target %q (one of %s)", t.Key, strings.Join(keys, ", "))}
		}
		if t.Village != "" && !villageCode.MatchString(t.Village) {
			return &TargetError{i, "village", "村代码须为 12 位数字（空为全乡）", "village must be a 12-digit code (empty: the township)"}
		}
		if !(t.Value >= 0 && t.Value < 1e15) {
			return &TargetError{i, "value", "目标值须为非负有限数", "value must be a finite number ≥ 0"}
		}
		if strings.HasPrefix(t.Key, TargetReachPrefix) && (t.Value < 1 || t.Value > 100000) {
			return &TargetError{i, "value", "服务半径须在 1 至 100000 米之间", "a reach distance must be 1 to 100,000 m"}
		}
	}
	return nil
}

// SetTargets stores ts in tx (insert or replace by key and village) after
// ValidateTargets; a *TargetError names the first bad member.
func SetTargets(ctx context.Context, tx pgx.Tx, ts []Target, by string) error {
	if err := ValidateTargets(ts); err != nil {
		return err
	}
	for _, t := range ts {
		if _, err := tx.Exec(ctx, `INSERT INTO villageplan.indicator_targets (key, village, value, updated_by) VALUES ($1, $2, $3, $4)
ON CONFLICT (key, village) DO UPDATE SET value = EXCLUDED.value, updated_by = EXCLUDED.updated_by, updated_at = now()`, t.Key, t.Village, t.Value, by); err != nil {
			return fmt.Errorf("indicator target %s: %w", t.Key, err)
		}
	}
	return nil
}
