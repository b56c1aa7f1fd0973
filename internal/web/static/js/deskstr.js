// Strings of the application desk (Chinese first, English), merged into
// i18n.js's table. State, action and role names follow package
// applications (states.go) and package auth (principal.go).

import { addStrings } from './i18n.js';

const zh = {
  logout: '退出登录', listTitle: '宅基地申请', newApp: '新建申请', all: '全部', overdueChip: '超期',
  allVillages: '全部村', allYears: '全部年份', searchApps: '申请人、身份证号、宗地代码、不动产单元号、坐落、批准书号', go: '查询',
  colId: '编号', colApplicant: '申请人', colVillage: '村', colAddress: '坐落', colArea: '用地面积', colCheck: '选址结论',
  colState: '状态', colFiled: '申请日期', colDue: '办理期限', daysLeft: '剩 {n} 个工作日', daysOver: '超期 {n} 个工作日', dueToday: '今日到期',
  noApps: '没有符合条件的申请', total: '共 {n} 件', ledgerDownload: '下载审批台账（.{f}）', prev: '上一页', next: '下一页', back: '← 返回列表', loading: '正在加载…',
  noDeskRole: '您的账号没有审批业务角色，不能查看申请。',
  formTitle: '3 申请表', applicantH: '申请户主', membersH: '家庭成员', currentH: '现宅基地及农房', proposedH: '拟申请宅基地及建房',
  hasCurrent: '现有宅基地', name: '姓名', sex: '性别', male: '男', female: '女', phone: '联系电话', idNumber: '身份证号', hukou: '户口所在地',
  relation: '与户主关系', addMember: '添加家庭成员', remove: '删除', householdId: '户编号（可选）',
  landArea: '宅基地面积（m²）', floorArea: '房屋建筑面积（m²）', certNo: '权属证书号', disposal: '现宅基地处置',
  disp_keep: '保留', disp_return: '退给村集体', disp_other: '其他', keepM2: '保留面积（m²）', dispNote: '处置说明', zddm: '宗地代码',
  housingLand: '住房用地面积（m²）', ancLand: '附属设施用地面积（m²）', ancBuild: '其中附属用房用地（m²）', address: '地址（坐落）',
  situation: '建设情形', sit1: '利用原宅基地建设', sit2: '新申请宅基地建设', sit3: '改变、扩大宅基地建设',
  landClass: '地类', lc1: '建设用地', lc2: '未利用地', lc3: '农用地', landSub: '农用地类别', houseFloor: '住宅建筑面积（m²）',
  storeys: '建筑层数', heightM: '建筑高度（m）', neighbours: '已征求相邻权利人意见', reason: '申请理由',
  prevTransferred: '曾出卖、出租或赠与农村住宅', preCheck: '选址预审', submitApp: '提交申请', submitting: '正在提交…',
  noSite: '请先上传或绘制选址', formErrors: '申请表有 {n} 处问题：',
  headerDue: '办理期限', approvalNo: '批准书号', actionsH: '可办理的操作', noActions: '您在当前状态下没有可办理的操作',
  checkH: '选址审查', noCheck: '尚无选址审查', docsH: '申请材料', upload: '上传', docKind: '材料类型', printH: '打印',
  timelineH: '办理记录', formH: '申请表', note: '备注', confirm: '确认', cancel: '取消', done: '已完成：{a}', created: '提交申请',
  conflictH: '无法办理', fieldH: '字段', missingH: '缺少',
  meetingDate: '小组讨论日期', groupLeader: '村民小组组长', pubStart: '公示开始', pubEnd: '公示结束', opinion: '意见',
  objections: '公示异议及处理', objection: '异议', resolution: '处理结果', addObjection: '添加异议', reviewer: '审查人',
  department: '部门', agree: '同意', disagree: '不同意', reasons: '不予批准理由（每行一条）', siteFile: '界址点文件或 GeoJSON（不选则用批准选址）',
  stakeOn: '日期', registerZddm: '宗地代码（19 位）', bdcdyh: '不动产单元号（可选）', members: '家庭成员', people: '{n} 人',
  stakedLine: '丈量批放 {on}：放样偏差 {d} 米', builtLine: '竣工验收 {on}：建成 {a} m²，超出批准用地 {o} m²', size: '大小', uploadedBy: '上传人', sampleApp: '示例数据', staked: '放样范围', built: '建成范围',
  dept_agriculture: '农业农村部门', dept_natural_resources: '自然资源部门', dept_planning: '规划建设管理部门',
  doc_hukou: '家庭户口簿', doc_id_card: '户主身份证', doc_pledge: '农村宅基地使用承诺书', doc_photo_review: '审查到场照片',
  doc_photo_staking: '丈量批放照片', doc_photo_inspection: '竣工验收照片', doc_other: '其他材料',
  print_form: '打印申请表', print_approval: '打印审批表', print_certificate: '打印批准书', print_inspection: '打印验收意见表', print_report: '选址审查报告',
};
const en = {
  logout: 'Log out', listTitle: 'Homestead applications', newApp: 'New application', all: 'All', overdueChip: 'Overdue',
  allVillages: 'All villages', allYears: 'All years', searchApps: 'Applicant, ID number, parcel code, 不动产单元号, address, approval no.', go: 'Search',
  colId: 'No.', colApplicant: 'Applicant', colVillage: 'Village', colAddress: 'Address', colArea: 'Site area', colCheck: 'Siting',
  colState: 'State', colFiled: 'Filed', colDue: 'Deadline', daysLeft: '{n} working days left', daysOver: '{n} working days overdue', dueToday: 'due today',
  noApps: 'No application matches', total: '{n} in all', ledgerDownload: 'Download the approval ledger (.{f})', prev: 'Previous', next: 'Next', back: '← Back to the list', loading: 'Loading…',
  noDeskRole: 'Your account has no desk role and cannot see applications.',
  formTitle: '3 Application form', applicantH: 'Head of household', membersH: 'Household members', currentH: 'Current homestead', proposedH: 'Proposed homestead and house',
  hasCurrent: 'has a homestead', name: 'Name', sex: 'Sex', male: 'male', female: 'female', phone: 'Phone', idNumber: 'ID number', hukou: 'Registered residence',
  relation: 'Relation to the head', addMember: 'Add a member', remove: 'Remove', householdId: 'Household id (optional)',
  landArea: 'Land area (m²)', floorArea: 'Floor area (m²)', certNo: 'Certificate no.', disposal: 'What happens to it',
  disp_keep: 'kept', disp_return: 'returned to the village', disp_other: 'other', keepM2: 'Area kept (m²)', dispNote: 'Explanation', zddm: 'Parcel code (宗地代码)',
  housingLand: 'Housing land (m²)', ancLand: 'Ancillary land (m²)', ancBuild: 'of which ancillary buildings (m²)', address: 'Address',
  situation: 'Situation', sit1: 'on the old homestead', sit2: 'new homestead', sit3: 'changed or enlarged homestead',
  landClass: 'Land class', lc1: 'construction land', lc2: 'unused land', lc3: 'farm land', landSub: 'Kind of farm land', houseFloor: 'House floor area (m²)',
  storeys: 'Storeys', heightM: 'Height (m)', neighbours: 'neighbours were consulted', reason: 'Reason',
  prevTransferred: 'sold, rented out or gave away a rural house before', preCheck: 'Pre-check the site', submitApp: 'File the application', submitting: 'Filing…',
  noSite: 'Upload or draw the site first', formErrors: 'The form has {n} problems:',
  headerDue: 'Deadline', approvalNo: 'Approval no.', actionsH: 'Actions', noActions: 'You have no action in this state',
  checkH: 'Siting check', noCheck: 'No siting check yet', docsH: 'Documents', upload: 'Upload', docKind: 'Kind', printH: 'Print',
  timelineH: 'History', formH: 'Application form', note: 'Note', confirm: 'Confirm', cancel: 'Cancel', done: 'Done: {a}', created: 'Filed',
  conflictH: 'Not possible', fieldH: 'Field', missingH: 'Missing',
  meetingDate: 'Group meeting', groupLeader: 'Group leader', pubStart: 'Publicity from', pubEnd: 'Publicity until', opinion: 'Opinion',
  objections: 'Objections and their resolution', objection: 'Objection', resolution: 'Resolution', addObjection: 'Add an objection', reviewer: 'Reviewer',
  department: 'Department', agree: 'agree', disagree: 'disagree', reasons: 'Reasons for refusal (one a line)', siteFile: '界址点 file or GeoJSON (none: the approved site)',
  stakeOn: 'Date', registerZddm: 'Parcel code (19 characters)', bdcdyh: '不动产单元号 (optional)', members: 'Members', people: '{n} people',
  stakedLine: 'Staked {on}: {d} m from the approved site', builtLine: 'Inspected {on}: built {a} m², {o} m² outside the approval', size: 'Size', uploadedBy: 'Uploaded by', sampleApp: 'sample data', staked: 'Staked site', built: 'Built footprint',
  dept_agriculture: 'Agriculture', dept_natural_resources: 'Natural resources', dept_planning: 'Planning and construction',
  doc_hukou: 'Household register', doc_id_card: 'ID card of the head', doc_pledge: 'Homestead pledge', doc_photo_review: 'Photo of the review visit',
  doc_photo_staking: 'Photo of the staking', doc_photo_inspection: 'Photo of the inspection', doc_other: 'Other',
  print_form: 'Print the application form', print_approval: 'Print the approval form', print_certificate: 'Print the approval certificate', print_inspection: 'Print the inspection form', print_report: 'Siting report',
};

// States, actions and roles: Chinese as the service names them.
const states = {
  submitted: ['已申请（待村民小组审核）', 'Filed (group review next)'], publicizing: ['村民小组审核（公示中）', 'Group review (publicity)'],
  village_review: ['待村级审查', 'Village review'], township_acceptance: ['待乡镇受理', 'Awaiting township acceptance'],
  joint_review: ['联审中', 'Joint review'], decision: ['待审批决定', 'Awaiting decision'], approved: ['已批准（待丈量批放）', 'Approved (staking next)'],
  rejected: ['不予批准', 'Refused'], staked: ['已丈量批放（待开工）', 'Staked (construction next)'], building: ['在建（待竣工验收）', 'Building (inspection next)'],
  inspected: ['已竣工验收（待登记）', 'Inspected (registration next)'], registered: ['已登记', 'Registered'], withdrawn: ['已撤回', 'Withdrawn'],
};
const actions = {
  publicize: ['村民小组讨论并公示', 'Group meeting and publicity'], group_approve: ['村民小组审核通过', 'Group approves'],
  village_approve: ['村级组织审查通过', 'Village approves'], accept: ['乡镇受理', 'Accept'], opinion: ['部门审查意见', 'Department opinion'],
  approve: ['批准', 'Approve'], reject: ['不予批准', 'Refuse'], stake: ['丈量批放', 'Stake out'], start: ['开工', 'Start building'],
  inspect: ['竣工验收', 'Inspect'], register: ['登记', 'Register'], withdraw: ['撤回申请', 'Withdraw'], create: ['提交申请', 'Filed'],
};
const roles = {
  anonymous: ['匿名访问', 'anonymous'], village_clerk: ['村级经办', 'village clerk'], township_window: ['乡镇窗口', 'township window'],
  review_agriculture: ['部门审查（农业农村）', 'review (agriculture)'], review_natural_resources: ['部门审查（自然资源）', 'review (natural resources)'],
  review_planning: ['部门审查（规划建设）', 'review (planning)'], township_approver: ['乡镇审批', 'township approver'],
  planning_editor: ['规划编辑', 'planning editor'], data_analyst: ['数据分析', 'data analyst'], personal_data: ['个人信息查阅', 'personal data'], admin: ['管理员', 'administrator'],
};
for (const [prefix, m] of [['st_', states], ['act_', actions], ['role_', roles]]) {
  for (const [k, [z, e]] of Object.entries(m)) { zh[prefix + k] = z; en[prefix + k] = e; }
}
addStrings({ zh, en });

export const STATES = Object.keys(states);
