// Interface strings in Chinese (default) and English. Layer, field and
// code names come from the catalog (map/meta.json), not from here.

const strings = {
  zh: {
    appTitle: '村庄规划一张图',
    deskTitle: '宅基地审批窗口',
    navMap: '规划地图',
    navDesk: '审批窗口',
    navAPI: '数据服务',
    sample: '示例数据',
    sampleNote: '图中数据为生成的示例数据，非实测',
    layers: '图层',
    views: '专题视图',
    viewAll: '全部图层',
    search: '搜索村名或代码',
    searchGo: '定位',
    searchNone: '未找到匹配的村',
    legend: '图例',
    other: '其他',
    basemap: '底图',
    basemapOn: '显示在线底图',
    basemapURL: '栅格瓦片地址（XYZ，如天地图，含密钥）',
    basemapNone: '未配置底图：离线运行时只显示规划图层',
    save: '保存',
    details: '详细属性',
    noAttrs: '无可公开的属性',
    coordsGeo: 'CGCS2000 经纬度',
    coordsGK: '高斯-克吕格 3°分带',
    zone: '{zone}带',
    zoomIn: '放大到 {z} 级以上可见',
    coverageOutline: '显示/隐藏数据覆盖范围（范围外选址规则为“无数据”）',
    noCoverage: '本图层没有覆盖范围：选址规则对其答“无数据”',
    loadError: '加载失败：',
    lang: 'English',
    coverageSummary: '主要道路 {total} 米，已照明 {lit} 米（{share}），未照明 {unlit} 米',
    // desk
    stepSite: '1 选址',
    stepFacts: '2 选址信息',
    stepCheck: '4 审查结果',
    uploadLabel: '上传界址点坐标文件（.txt）或 GeoJSON 文件',
    crsLabel: 'GeoJSON 坐标系',
    crsAuto: '自动识别',
    draw: '在地图上绘制',
    drawFinish: '完成绘制',
    drawCancel: '取消',
    drawHint: '在地图上单击添加界址点，双击或点“完成绘制”闭合；Esc 取消',
    drawTooFew: '至少需要 3 个点',
    reading: '正在读取…',
    area: '用地面积',
    measuredIn: '量算坐标系',
    village: '所在村',
    neighbors: '四至',
    east: '东', south: '南', west: '西', north: '北',
    none: '无',
    parcel: '地块',
    villageCode: '村代码',
    checking: '正在审查…',
    verdict: '审查结论',
    rule: '审查项',
    outcome: '结论',
    measured: '量测值',
    message: '说明',
    legalBasis: '依据',
    openReport: '打开打印版审查报告',
    placeholder: '含待本地确认的参数',
    placeholderValue: '暂定限值',
    BLOCK: '禁止',
    PERMIT_PATH: '须办理农用地转用',
    REVIEW: '需审查',
    PASS: '通过',
    verdictBLOCK: '不符合选址要求',
    verdictPERMIT_PATH: '须办理相关审批后方可建设',
    verdictREVIEW: '须人工或相关部门审查',
    verdictPASS: '符合选址要求',
    errLine: '第 {line} 行',
    errRing: '第 {ring} 个环',
    errPoint: '第 {point} 个点',
    errFile: '文件有误',
    errNotJSON: '不是有效的 JSON 文件：',
    errNoPolygon: '文件中没有面（Polygon/MultiPolygon）要素',
    errManyFeatures: '文件含 {n} 个要素，只审查第 1 个',
    errOutside: '选址不在本乡数据范围内',
    errServer: '服务器错误：',
    clickRuleHint: '点击审查项可在地图上定位冲突要素',
    conflicts: '冲突要素',
    // editing on the map (edit.js)
    editTitle: '编辑图层',
    editLayer: '图层',
    editNew: '新建',
    editPick: '修改',
    editUndo: '撤销',
    editRedo: '重做',
    editDelete: '删除',
    editCancel: '取消',
    editDrawHint: '在地图上单击添加节点，单击第一个节点或按 Enter 完成；靠近相邻要素的节点和边时自动吸附',
    editDrawPoint: '在地图上单击放置点',
    editPickHint: '单击要修改的要素',
    editPickNone: '此处没有本图层的要素',
    editMultipart: '该要素有 {n} 个部分，不能在地图上修改；请用 QGIS 编辑',
    editLoaded: '要素 {id}：拖动节点修改形状（吸附相邻要素），拖动边中点插入节点；修改属性后保存',
    editDrawn: '已绘制：可拖动节点修改形状，填写属性后保存',
    editRequired: '必填',
    editReviewAll: '本图层的修改须经第二人审核后发布：',
    editReviewSome: '部分修改须经第二人审核后发布：',
    editProposed: '已提交审核：审核通过后发布',
    editChangeset: '变更集',
    editSaved: '已保存（要素 {id}），地图已更新',
    editDeleted: '已删除要素 {id}，地图已更新',
    editDeleteAsk: '删除要素 {id}？',
    editConflict: '保存冲突：该要素在您读取后已被他人修改。',
    editReload: '重新加载并重做修改',
    editReapplied: '已加载最新版本并重做您的修改；请检查后再次保存',
    editOverlap: '与{layer} 要素 {id} 重叠 {m2} m²',
  },
  en: {
    appTitle: 'Village plan map',
    deskTitle: 'Homestead approval desk',
    navMap: 'Map',
    navDesk: 'Approval desk',
    navAPI: 'Data services',
    sample: 'Sample data',
    sampleNote: 'The data shown is generated sample data, not surveyed',
    layers: 'Layers',
    views: 'Thematic views',
    viewAll: 'All layers',
    search: 'Search a village by name or code',
    searchGo: 'Go',
    searchNone: 'No village matches',
    legend: 'Legend',
    other: 'other',
    basemap: 'Basemap',
    basemapOn: 'Show online basemap',
    basemapURL: 'Raster tile URL (XYZ, e.g. Tianditu with your key)',
    basemapNone: 'No basemap configured: offline, only the planning layers are drawn',
    save: 'Save',
    details: 'All attributes',
    noAttrs: 'No public attributes',
    coordsGeo: 'CGCS2000 lon/lat',
    coordsGK: 'Gauss-Krüger 3°',
    zone: 'zone {zone}',
    zoomIn: 'visible from zoom {z}',
    coverageOutline: 'show/hide where the data is complete (siting says "no data" outside)',
    noCoverage: 'this layer has no coverage: siting rules reading it say "no data"',
    loadError: 'Could not load: ',
    lang: '中文',
    coverageSummary: 'main roads {total} m, lit {lit} m ({share}), unlit {unlit} m',
    stepSite: '1 Site',
    stepFacts: '2 Site facts',
    stepCheck: '4 Check result',
    uploadLabel: 'Upload a 界址点 coordinate file (.txt) or a GeoJSON file',
    crsLabel: 'GeoJSON CRS',
    crsAuto: 'detect',
    draw: 'Draw on the map',
    drawFinish: 'Finish',
    drawCancel: 'Cancel',
    drawHint: 'Click the map to add corner points; double-click or press Finish to close; Esc cancels',
    drawTooFew: 'at least 3 points are needed',
    reading: 'Reading…',
    area: 'Area',
    measuredIn: 'Measured in',
    village: 'Village',
    neighbors: 'Neighbours (四至)',
    east: 'East', south: 'South', west: 'West', north: 'North',
    none: 'none',
    parcel: 'Parcel',
    villageCode: 'Village code',
    checking: 'Checking…',
    verdict: 'Verdict',
    rule: 'Rule',
    outcome: 'Outcome',
    measured: 'Measured',
    message: 'Finding',
    legalBasis: 'Legal basis',
    openReport: 'Open the printable report',
    placeholder: 'uses values awaiting local confirmation',
    placeholderValue: 'Placeholder limit',
    BLOCK: 'Block',
    PERMIT_PATH: 'Permit needed',
    REVIEW: 'Review',
    PASS: 'Pass',
    verdictBLOCK: 'The site cannot be approved',
    verdictPERMIT_PATH: 'Allowed only after another approval',
    verdictREVIEW: 'A person or another department must review',
    verdictPASS: 'The site meets the rules',
    errLine: 'line {line}',
    errRing: 'ring {ring}',
    errPoint: 'point {point}',
    errFile: 'The file is wrong',
    errNotJSON: 'Not a valid JSON file: ',
    errNoPolygon: 'The file has no Polygon or MultiPolygon feature',
    errManyFeatures: 'The file has {n} features; only the first is checked',
    errOutside: 'The site is outside the township data',
    errServer: 'Server error: ',
    clickRuleHint: 'Click a rule to show its conflicting features on the map',
    conflicts: 'Conflicting features',
    editTitle: 'Edit a layer',
    editLayer: 'Layer',
    editNew: 'New',
    editPick: 'Modify',
    editUndo: 'Undo',
    editRedo: 'Redo',
    editDelete: 'Delete',
    editCancel: 'Cancel',
    editDrawHint: 'Click the map to add vertices; click the first vertex or press Enter to finish; vertices snap to the neighbouring features',
    editDrawPoint: 'Click the map to place the point',
    editPickHint: 'Click the feature to modify',
    editPickNone: 'No feature of this layer here',
    editMultipart: 'The feature has {n} parts and cannot be edited on the map; use QGIS',
    editLoaded: 'Feature {id}: drag vertices to reshape (they snap to neighbours), drag a midpoint to insert one; change the attributes and save',
    editDrawn: 'Drawn: drag vertices to reshape, fill in the attributes and save',
    editRequired: 'required',
    editReviewAll: 'Changes of this layer are published after a second person reviews them:',
    editReviewSome: 'Some changes are published after a second person reviews them:',
    editProposed: 'Submitted for review: published once approved',
    editChangeset: 'changeset',
    editSaved: 'Saved (feature {id}); the map shows it',
    editDeleted: 'Deleted feature {id}; the map shows it',
    editDeleteAsk: 'Delete feature {id}?',
    editConflict: 'Conflict: someone changed the feature after you read it.',
    editReload: 'Reload and re-apply my change',
    editReapplied: 'Loaded the latest version and re-applied your change; check it and save again',
    editOverlap: 'overlaps {layer} feature {id} by {m2} m²',
  },
};

function initialLang() {
  const q = new URLSearchParams(location.search).get('lang');
  if (q === 'en' || q === 'zh') return q;
  try {
    const s = localStorage.getItem('vp.lang');
    if (s === 'en' || s === 'zh') return s;
  } catch (e) { /* storage disabled */ }
  return 'zh';
}

export let lang = initialLang();

// addStrings merges a page's own strings (e.g. the desk's) into the table.
export function addStrings(more) {
  for (const l of ['zh', 'en']) Object.assign(strings[l], more[l]);
}

const listeners = [];

// t returns the string for key in the current language, with {name}
// placeholders replaced from vars.
export function t(key, vars) {
  let s = (strings[lang] && strings[lang][key]) ?? strings.zh[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

// pick chooses the Chinese or English member of an object (title_zh /
// title_en, zh / en).
export function pick(o, base = 'title') {
  if (!o) return '';
  if (base === '') return lang === 'en' ? (o.en || o.zh) : (o.zh || o.en);
  return lang === 'en' ? (o[base + '_en'] || o[base + '_zh']) : (o[base + '_zh'] || o[base + '_en']);
}

// applyStatic fills every element with data-i18n (text) or
// data-i18n-placeholder / data-i18n-title (attributes).
export function applyStatic(root = document) {
  document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
}

export function onLangChange(fn) { listeners.push(fn); }

export function setLang(l) {
  lang = l === 'en' ? 'en' : 'zh';
  try { localStorage.setItem('vp.lang', lang); } catch (e) { /* ignore */ }
  const u = new URL(location.href);
  u.searchParams.set('lang', lang);
  history.replaceState(null, '', u);
  applyStatic();
  for (const fn of listeners) fn(lang);
}

// fmt formats a number with at most d decimals in the interface language.
export function fmt(n, d = 2) {
  return Number(n).toLocaleString(lang === 'en' ? 'en-GB' : 'zh-CN', { maximumFractionDigits: d, minimumFractionDigits: 0 });
}
