package applications

import (
	"slices"

	"villageplan/internal/auth"
)

// State is where an application stands in the steps of DOMAIN.md §2
// (农经发〔2019〕6号): the step it waits for.
type State string

// The states, in the order of the steps.
const (
	Submitted          State = "submitted"           // 已申请，待村民小组审核
	Publicizing        State = "publicizing"         // 村民小组审核：公示中
	VillageReview      State = "village_review"      // 待村级审查
	TownshipAcceptance State = "township_acceptance" // 待乡镇受理
	JointReview        State = "joint_review"        // 联审中（农业农村、自然资源、规划建设）
	Decision           State = "decision"            // 待乡镇审批
	Approved           State = "approved"            // 已批准，待丈量批放
	Rejected           State = "rejected"            // 不予批准（终结）
	Staked             State = "staked"              // 已丈量批放，待开工
	Building           State = "building"            // 在建，待竣工验收
	Inspected          State = "inspected"           // 已竣工验收，待登记
	Registered         State = "registered"          // 已登记（终结）
	Withdrawn          State = "withdrawn"           // 已撤回（终结）
)

// States lists every state in step order.
var States = []State{Submitted, Publicizing, VillageReview, TownshipAcceptance, JointReview, Decision,
	Approved, Staked, Building, Inspected, Registered, Rejected, Withdrawn}

var stateLabels = map[State]string{
	Submitted: "已申请（待村民小组审核）", Publicizing: "村民小组审核（公示中）", VillageReview: "待村级审查",
	TownshipAcceptance: "待乡镇受理", JointReview: "联审中", Decision: "待审批决定", Approved: "已批准（待丈量批放）",
	Rejected: "不予批准", Staked: "已丈量批放（待开工）", Building: "在建（待竣工验收）", Inspected: "已竣工验收（待登记）",
	Registered: "已登记", Withdrawn: "已撤回",
}

// Label is the state's Chinese name.
func (s State) Label() string {
	if l, ok := stateLabels[s]; ok {
		return l
	}
	return string(s)
}

// Valid reports whether s is a state.
func (s State) Valid() bool { _, ok := stateLabels[s]; return ok }

// Terminal reports whether no action leaves s.
func (s State) Terminal() bool { return s == Rejected || s == Registered || s == Withdrawn }

// Pending reports whether s is an application still in progress (a
// household with one may not file another, R15/R18).
func (s State) Pending() bool { return !s.Terminal() }

// Action is a transition's name in POST /applications/{id}/transitions.
type Action string

// The actions.
const (
	Publicize      Action = "publicize"       // 村民小组讨论，开始公示
	GroupApprove   Action = "group_approve"   // 公示期满，村民小组同意（异议已处理）
	VillageApprove Action = "village_approve" // 村级组织审查同意，报乡镇
	Accept         Action = "accept"          // 乡镇窗口受理
	Opinion        Action = "opinion"         // 部门审查意见
	Approve        Action = "approve"         // 批准，编批准书号
	Reject         Action = "reject"          // 不予批准（理由）
	Stake          Action = "stake"           // 丈量批放
	StartBuilding  Action = "start"           // 开工
	Inspect        Action = "inspect"         // 竣工验收
	Register       Action = "register"        // 登记
	Withdraw       Action = "withdraw"        // 撤回
)

// Rule is one action of the state machine: from which states, to which
// (Opinion stays in JointReview until the third opinion), by which roles
// (each scoped to the application's village by auth.Principal.HasFor).
type Rule struct {
	Action  Action      `json:"action"`
	LabelZH string      `json:"label_zh"`
	From    []State     `json:"from"`
	To      State       `json:"to"`
	Roles   []auth.Role `json:"roles"`
}

var reviewRoles = []auth.Role{auth.ReviewAgriculture, auth.ReviewNaturalResources, auth.ReviewPlanning}

// Machine is the state machine, one Rule per action.
var Machine = []Rule{
	{Publicize, "村民小组讨论并公示", []State{Submitted}, Publicizing, []auth.Role{auth.VillageClerk}},
	{GroupApprove, "村民小组审核通过", []State{Publicizing}, VillageReview, []auth.Role{auth.VillageClerk}},
	{VillageApprove, "村级组织审查通过", []State{VillageReview}, TownshipAcceptance, []auth.Role{auth.VillageClerk}},
	{Accept, "乡镇受理", []State{TownshipAcceptance}, JointReview, []auth.Role{auth.TownshipWindow}},
	{Opinion, "部门审查意见", []State{JointReview}, Decision, reviewRoles},
	{Approve, "批准", []State{Decision}, Approved, []auth.Role{auth.TownshipApprover}},
	{Reject, "不予批准", []State{JointReview, Decision}, Rejected, []auth.Role{auth.TownshipApprover}},
	{Stake, "丈量批放", []State{Approved}, Staked, []auth.Role{auth.TownshipWindow, auth.ReviewAgriculture, auth.ReviewNaturalResources}},
	{StartBuilding, "开工", []State{Staked}, Building, []auth.Role{auth.VillageClerk, auth.TownshipWindow}},
	{Inspect, "竣工验收", []State{Building}, Inspected, []auth.Role{auth.TownshipWindow, auth.ReviewAgriculture, auth.ReviewNaturalResources}},
	{Register, "登记", []State{Inspected}, Registered, []auth.Role{auth.TownshipWindow}},
	{Withdraw, "撤回申请", []State{Submitted, Publicizing, VillageReview, TownshipAcceptance, JointReview, Decision},
		Withdrawn, []auth.Role{auth.VillageClerk, auth.TownshipWindow}},
}

// RuleOf returns the rule of an action.
func RuleOf(a Action) (Rule, bool) {
	for _, r := range Machine {
		if r.Action == a {
			return r, true
		}
	}
	return Rule{}, false
}

// Department is one of the three 联审 opinions (审批表: 农业农村部门意见,
// 自然资源部门意见, 规划建设管理部门意见).
type Department string

// The departments, each recorded by its review role.
const (
	Agriculture      Department = "agriculture"
	NaturalResources Department = "natural_resources"
	Planning         Department = "planning"
)

// Departments lists them in the order of the 审批表.
var Departments = []Department{Agriculture, NaturalResources, Planning}

var deptRole = map[Department]auth.Role{Agriculture: auth.ReviewAgriculture, NaturalResources: auth.ReviewNaturalResources, Planning: auth.ReviewPlanning}
var deptLabel = map[Department]string{Agriculture: "农业农村部门", NaturalResources: "自然资源部门", Planning: "规划建设管理部门"}

// Label is the department's Chinese name.
func (d Department) Label() string { return deptLabel[d] }

// ActionsFor lists the actions p may take on an application in state s of
// village (for the desk to show only those).
func ActionsFor(p *auth.Principal, s State, village string) []Action {
	var out []Action
	for _, r := range Machine {
		if slices.Contains(r.From, s) && p.HasAnyFor(r.Roles, village) {
			out = append(out, r.Action)
		}
	}
	return out
}
