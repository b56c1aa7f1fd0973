package projects

import "slices"

// Task is one of the nine tasks of the plan (双营乡乡村建设行动实施方案,
// 2022, following the national 乡村建设行动实施方案 of 中办 国办 2022) with
// its sub-items (Items, the names the 台账 uses). Code is the stable code
// stored with a project.
type Task struct {
	Code    string   `json:"code"`
	TitleZH string   `json:"title_zh"`
	TitleEN string   `json:"title_en"`
	Items   []string `json:"items"`
}

// Tasks is the code list of the plan's nine tasks, in the plan's order.
// Issue 14 names the items of planning, roads, water, village facilities,
// house safety, living environment and public services; clean energy and
// digital village are the national plan's 清洁能源 and 数字乡村 tasks.
var Tasks = []Task{
	{"planning", "规划编制与村庄分类", "village planning and classification", []string{"村庄规划编制", "村庄分类"}},
	{"roads", "农村道路畅通", "rural roads (四好农村路)", []string{"进村入户", "路面加宽", "贯通消断", "连接成网", "消防车道"}},
	{"water", "防汛抗旱和供水保障", "flood defence, drought relief and water supply", []string{"供水入户", "水源保护", "防洪排涝"}},
	{"energy", "乡村清洁能源", "clean energy", []string{"农村电网", "清洁取暖"}},
	{"digital", "数字乡村", "digital village", []string{"通信网络", "广播电视"}},
	{"facilities", "村级综合服务设施", "village service facilities", []string{"便民服务中心", "全民健身场地", "村内主干道路灯", "应急广播", "应急避难场所", "无障碍", "消防设施"}},
	{"housing", "农房质量安全", "house safety", []string{"危房改造", "农房安全隐患", "地质灾害治理"}},
	{"environment", "农村人居环境整治", "living environment", []string{"改厕", "公厕", "生活污水", "垃圾收运", "入户道路", "三线整治"}},
	{"services", "农村基本公共服务", "public services", []string{"卫生室", "互助养老", "文化活动室"}},
}

// TaskByCode returns the task with code, or nil.
func TaskByCode(code string) *Task {
	for i := range Tasks {
		if Tasks[i].Code == code {
			return &Tasks[i]
		}
	}
	return nil
}

// HasItem reports whether item is one of the task's sub-items.
func (t *Task) HasItem(item string) bool { return slices.Contains(t.Items, item) }

// Phase is where a project stands in the plan's three lists (任务清单:
// 谋划储备一批、开工建设一批、投产运营一批) and 完成 (finished, accounts closed).
type Phase string

// The phases, in order.
const (
	Planned   Phase = "谋划储备"
	Started   Phase = "开工建设"
	Operating Phase = "投产运营"
	Completed Phase = "完成"
)

// Phases lists the phases in order.
var Phases = []Phase{Planned, Started, Operating, Completed}

// Valid reports whether p is a phase.
func (p Phase) Valid() bool { return slices.Contains(Phases, p) }

// Status is the project's place in 村申报、乡审核.
type Status string

// The statuses: a draft (草稿) is filed (已申报) by the village and approved
// (已审核) or returned (已退回, with a reason) by the township; a returned
// project is corrected and filed again.
const (
	Draft    Status = "draft"
	Filed    Status = "filed"
	Approved Status = "approved"
	Returned Status = "returned"
)

// Label is the status's Chinese name.
func (s Status) Label() string {
	switch s {
	case Draft:
		return "草稿"
	case Filed:
		return "已申报"
	case Approved:
		return "已审核"
	case Returned:
		return "已退回"
	}
	return string(s)
}

// FundingSources are the funding sources of a project (资金来源), in the
// order the ledger shows them.
var FundingSources = []string{"财政", "村集体", "社会资本", "以工代赈", "农户投工投劳"}
