// Package projects is the township's 乡村建设项目库 and 台账 (issue 14;
// 双营乡乡村建设行动实施方案): construction projects per village, task
// (Tasks, the plan's nine tasks and their sub-items) and year, with phase
// (谋划储备 / 开工建设 / 投产运营 / 完成), budget and funding sources in 元,
// lead office (牵头科室), geometry (point, line or polygon, stored in
// EPSG:4490, read and written as GeoJSON in CRS84) and progress reports
// with photos.
//
// Projects are filed by the village and checked by the township (村申报、
// 乡审核): a 村级经办 of the village or a 规划编辑 drafts and files; a
// 乡镇审批 or a 规划编辑 other than the filer approves or returns with a
// reason. Every change is one transaction with a project_events row (who,
// when, what changed) and an audit row. The annual task list of a village
// (任务清单: 谋划储备一批、开工建设一批、投产运营一批), the township's ledger
// (乡村建设台账) and Summary (for the assessment) count approved projects
// only.
//
// Every method acts as the principal of its context (auth.FromContext);
// errors meant for the user are *Error values (bilingual, with an HTTP
// status).
package projects

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Config configures a Service; zero fields take the defaults.
type Config struct {
	// MaxPhotoBytes caps one progress photo (default 5 MiB).
	MaxPhotoBytes int64
	// MaxGeometryM caps how far (m) a project's geometry may lie outside
	// its village's polygon (default 1000 m): a point with swapped axes
	// or in the wrong village is refused.
	MaxGeometryM float64
	// TownshipTitles maps a township code to its full name for the ledger
	// title (default 220112203 → 长春市双阳区双营子回族乡).
	TownshipTitles map[string]string
	// Now is the clock (default time.Now); dates are in China Standard
	// Time.
	Now func() time.Time
}

// China is China Standard Time (UTC+8), the zone of report dates.
var China = time.FixedZone("CST", 8*3600)

// Service is the project library on a PostGIS pool.
type Service struct {
	pool *pgxpool.Pool
	cfg  Config
}

// NewService returns the project library on pool.
func NewService(pool *pgxpool.Pool, cfg Config) *Service {
	if cfg.MaxPhotoBytes <= 0 {
		cfg.MaxPhotoBytes = 5 << 20
	}
	if cfg.MaxGeometryM <= 0 {
		cfg.MaxGeometryM = 1000
	}
	if cfg.TownshipTitles == nil {
		cfg.TownshipTitles = map[string]string{"220112203": "长春市双阳区双营子回族乡"}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{pool: pool, cfg: cfg}
}

// Config returns the configuration in force.
func (s *Service) Config() Config { return s.cfg }
