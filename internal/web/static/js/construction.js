// The township's construction-project page (/construction): the projects
// of the user's villages with filters (village, year, task, phase,
// status), a project's details with its history and progress reports,
// the forms of 村申报、乡审核 (draft and file; approve or return with a
// reason; phase, spending and reports with photos), the 任务清单 per
// village, and the approved projects on the map by phase
// (projects/map.geojson). Login and CSRF: session.js.

import { createMap, getJSON, el } from './mapcore.js';
import { api, loadAccount, has, restoreHash } from './session.js';

const $ = (id) => document.getElementById(id);
export const PHASE_COLORS = { 谋划储备: '#1e88e5', 开工建设: '#fb8c00', 投产运营: '#43a047', 完成: '#6d4c41' };
const ACTION_LABELS = { create: '建立', update: '修改', file: '申报', approve: '审核通过', return: '退回', progress: '登记进度', report: '进展报告', photo: '上传照片' };
const FIELD_LABELS = { village: '村', year: '年度', task: '任务', item: '子项', name: '项目名称', description: '说明', phase: '阶段', budget_yuan: '总投资', spent_yuan: '已完成投资', funding: '资金来源', lead_office: '牵头科室', geometry: '位置', status: '状态', report: '报告', photo: '照片' };
let codes; // projects/tasks
let villages = []; // [{code, name}]
let map;
let pickPoint = null; // set by the new-project form: a map click fills the geometry

const yuan = (v) => (v == null ? '' : Number(v).toLocaleString('zh-CN', { maximumFractionDigits: 2 }));
const phaseDot = (ph) => el('span', { class: 'ph', style: `background:${PHASE_COLORS[ph] || '#999'}` });
const taskTitle = (code) => (codes.tasks.find((t) => t.code === code) || {}).title_zh || code;

function showError(e) {
  const box = $('error');
  if (!e) { box.hidden = true; return; }
  const b = e.body || {};
  box.replaceChildren(el('strong', null, b.description_zh || e.message), b.description ? el('code', null, b.description) : null);
  box.hidden = false;
}

function filters() {
  const q = new URLSearchParams();
  for (const k of ['village', 'year', 'task', 'phase', 'status']) {
    const v = $('f-' + k).value;
    if (v) q.set(k, v);
  }
  return q;
}

function option(value, label) { return el('option', { value }, label); }

async function init() {
  const account = await loadAccount();
  restoreHash();
  codes = await getJSON('projects/tasks');
  const vs = await getJSON('map/villages?limit=500');
  villages = (vs.villages || []).map((v) => ({ code: v.code, name: v.name }));
  $('f-village').append(...villages.map((v) => option(v.code, v.name)));
  const year = new Date().getFullYear();
  $('f-year').append(option('', '全部年度'), ...[year + 1, year, year - 1, year - 2].map((y) => option(y, `${y} 年`)));
  $('f-year').value = String(year);
  $('f-task').append(...codes.tasks.map((t) => option(t.code, t.title_zh)));
  $('f-phase').append(...codes.phases.map((p) => option(p, p)));
  $('f-status').append(...Object.entries(codes.statuses).map(([k, v]) => option(k, v)));
  $('tab-new').hidden = !has('village_clerk', 'planning_editor');
  $('filters').addEventListener('submit', (e) => { e.preventDefault(); route(); refreshMap(); });
  $('tab-list').addEventListener('click', () => { location.hash = ''; });
  $('tab-tasks').addEventListener('click', () => { location.hash = '#tasks'; });
  $('tab-new').addEventListener('click', () => { location.hash = '#new'; });
  window.addEventListener('hashchange', route);
  await route();
  try { await initMap(); } catch (e) { console.error(e); }
  document.body.dataset.ready = 'true';
  return account;
}

async function route() {
  showError(null);
  const h = location.hash;
  $('tab-list').classList.toggle('on', h === '' || h === '#');
  $('tab-tasks').classList.toggle('on', h === '#tasks');
  const q = filters();
  $('dl-ledger').href = 'projects/ledger?f=xlsx&' + q;
  $('dl-tasks').href = 'projects/task-lists?f=xlsx&' + q;
  pickPoint = null;
  try {
    if (h.startsWith('#p/')) await showProject(h.slice(3));
    else if (h === '#tasks') await showTaskLists();
    else if (h === '#new') showNew();
    else await showList();
  } catch (e) { showError(e); }
}

// List ---------------------------------------------------------------------

async function showList() {
  const res = await api('projects?' + filters());
  const rows = res.projects.map((p) => el('tr', { dataset: { id: p.id }, onclick: () => { location.hash = '#p/' + p.id; } },
    el('td', null, p.village_name || p.village), el('td', null, p.name, el('small', null, `${taskTitle(p.task)} · ${p.item}`)),
    el('td', null, phaseDot(p.phase), p.phase), el('td', { class: 'st-' + p.status }, p.status_label),
    el('td', { class: 'num' }, yuan(p.budget_yuan)), el('td', null, p.year)));
  $('view').replaceChildren(el('p', { class: 'muted' }, `共 ${res.total} 个项目`),
    el('table', { class: 'apps', id: 'projects' }, el('thead', null, el('tr', null,
      ...['村', '项目', '阶段', '状态', '总投资（元）', '年度'].map((x) => el('th', null, x)))), el('tbody', null, rows)),
    legend());
}

function legend() {
  return el('p', { class: 'muted' }, '地图：', ...Object.entries(PHASE_COLORS).map(([k]) => el('span', null, phaseDot(k), k, ' ')), '（已审核且有位置的项目）');
}

// Task lists --------------------------------------------------------------

async function showTaskLists() {
  const q = filters();
  q.delete('phase'); q.delete('status'); q.delete('task');
  const res = await api('projects/task-lists?' + q);
  const out = [el('p', { class: 'muted' }, `${res.year} 年任务清单（已审核项目）`)];
  for (const v of res.villages) {
    out.push(el('h3', null, v.village_name || v.village));
    for (const l of v.lists) {
      out.push(el('h4', null, `${l.title}（${l.projects.length} 个，${yuan(l.budget_yuan)} 元）`));
      out.push(l.projects.length ? el('ul', null, l.projects.map((p) => el('li', null,
        el('a', { href: '#p/' + p.project_id }, p.name), ` · ${p.task_title} · ${p.item} · `, phaseDot(p.phase), p.phase))) : el('p', { class: 'muted' }, '（无）'));
    }
  }
  if (!res.villages.length) out.push(el('p', { class: 'muted' }, '没有已审核的项目'));
  $('view').replaceChildren(el('div', { class: 'tasklist' }, out));
}

// One project -------------------------------------------------------------

async function act(p, body, etag) {
  try {
    await api(`projects/${p.id}/transitions`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'If-Match': etag }, body: JSON.stringify(body) });
    await route();
    refreshMap();
  } catch (e) { showError(e); }
}

async function showProject(id) {
  const p = await api('projects/' + id);
  const etag = `"${p.version}"`;
  const facts = [['村', p.village_name || p.village], ['任务', `${taskTitle(p.task)} · ${p.item}`], ['年度', p.year],
    ['阶段', [phaseDot(p.phase), p.phase]], ['状态', p.status_label + (p.return_reason ? `（退回理由：${p.return_reason}）` : '')],
    ['总投资', yuan(p.budget_yuan) + ' 元'], ['资金来源', codes.funding_sources.filter((s) => p.funding[s]).map((s) => `${s} ${yuan(p.funding[s])}`).join('；') || '—'],
    ['已完成投资', yuan(p.spent_yuan) + ' 元'], ['牵头科室', p.lead_office || '—'], ['说明', p.description || '—'],
    ['申报', p.filed_by ? `${p.filed_by} ${new Date(p.filed_at).toLocaleString('zh-CN')}` : '—'],
    ['审核', p.reviewed_by ? `${p.reviewed_by} ${new Date(p.reviewed_at).toLocaleString('zh-CN')}` : '—']];
  const acts = el('div', { class: 'actions', id: 'actions' });
  if (p.actions.includes('file')) acts.append(el('button', { class: 'primary', onclick: () => act(p, { action: 'file' }, etag) }, '申报'));
  if (p.actions.includes('approve')) acts.append(el('button', { class: 'primary', onclick: () => act(p, { action: 'approve' }, etag) }, '审核通过'));
  if (p.actions.includes('return')) {
    const reason = el('input', { type: 'text', id: 'reason', placeholder: '退回理由（必填）' });
    acts.append(reason, el('button', { onclick: () => act(p, { action: 'return', reason: reason.value }, etag) }, '退回'));
  }
  const extra = [];
  if (p.actions.includes('edit')) extra.push(projectForm(p, etag));
  if (p.actions.includes('progress')) extra.push(progressForm(p, etag));
  if (p.actions.includes('report')) extra.push(reportForm(p));
  const reports = (p.reports || []).map((r) => el('li', null, el('strong', null, r.reported_on), ' ', r.text, el('small', { class: 'muted' }, ` — ${r.created_by}`),
    el('div', { class: 'photos' }, r.photos.map((f) => el('a', { href: `projects/${p.id}/photos/${f.id}`, target: '_blank' },
      el('img', { src: `projects/${p.id}/photos/${f.id}`, alt: f.filename }))))));
  const hist = (p.history || []).map((h) => el('tr', null, el('td', null, new Date(h.at).toLocaleString('zh-CN')), el('td', null, h.actor),
    el('td', null, ACTION_LABELS[h.action] || h.action), el('td', null, describeChanges(h), h.note ? el('small', null, h.note) : null)));
  $('view').replaceChildren(el('p', null, el('a', { href: '#' }, '← 返回列表')), el('h2', { id: 'ptitle' }, p.name),
    el('table', { class: 'facts' }, facts.map(([k, v]) => el('tr', null, el('th', null, k), el('td', null, v)))), acts, ...extra,
    el('h2', null, '进展报告'), reports.length ? el('ul', { id: 'reports' }, reports) : el('p', { class: 'muted' }, '暂无'),
    el('h2', null, '变更记录'), el('table', { class: 'apps hist', id: 'history' }, el('tbody', null, hist)));
  if (map && p.geometry) fit(p.geometry);
}

function describeChanges(h) {
  if (h.action === 'create') return '';
  return Object.entries(h.changes || {}).map(([k, c]) => {
    const v = (x) => (x == null ? '—' : typeof x === 'object' ? (x.type || JSON.stringify(x)) : String(x));
    return `${FIELD_LABELS[k] || k}：${v(c.old)} → ${v(c.new)}`;
  }).join('；');
}

// Forms -------------------------------------------------------------------

function field(label, input) { return [el('label', { for: input.id }, label), input]; }

// projectForm is the new-project form (p null) or the edit form of a
// draft or returned project.
function projectForm(p, etag) {
  const f = el('form', { class: 'pform', id: 'pform' });
  const input = (id, type, value) => el('input', { id, type, value: value ?? '' });
  const vsel = el('select', { id: 'p-village' }, villages.map((v) => option(v.code, v.name)));
  const tsel = el('select', { id: 'p-task' }, codes.tasks.map((t) => option(t.code, t.title_zh)));
  const isel = el('select', { id: 'p-item' });
  const fillItems = () => isel.replaceChildren(...codes.tasks.find((t) => t.code === tsel.value).items.map((i) => option(i, i)));
  tsel.addEventListener('change', fillItems);
  const psel = el('select', { id: 'p-phase' }, codes.phases.map((x) => option(x, x)));
  const geom = el('textarea', { id: 'p-geometry', rows: 2, placeholder: '在地图上点击取点，或粘贴 GeoJSON 几何（CRS84 经纬度）' });
  if (p) {
    vsel.value = p.village; tsel.value = p.task; psel.value = p.phase;
    if (p.geometry) geom.value = JSON.stringify(p.geometry);
  }
  fillItems();
  if (p) isel.value = p.item;
  const funding = codes.funding_sources.map((s) => input('p-fund-' + s, 'number', p ? p.funding[s] : ''));
  f.append(...field('村', vsel), ...field('年度', input('p-year', 'number', p ? p.year : new Date().getFullYear())),
    ...field('任务', tsel), ...field('子项', isel), ...field('项目名称', input('p-name', 'text', p && p.name)),
    ...field('阶段', psel), ...field('总投资（元）', input('p-budget', 'number', p && p.budget_yuan)),
    ...codes.funding_sources.flatMap((s, i) => field(s + '（元）', funding[i])),
    ...field('牵头科室', input('p-office', 'text', p && p.lead_office)),
    ...field('说明', el('textarea', { id: 'p-desc', rows: 2 }, p ? p.description : '')), ...field('位置', geom));
  pickPoint = (lngLat) => { geom.value = JSON.stringify({ type: 'Point', coordinates: [+lngLat.lng.toFixed(7), +lngLat.lat.toFixed(7)] }); };
  const save = el('button', { type: 'submit', class: 'primary', id: 'p-save' }, p ? '保存修改' : '保存草稿');
  f.append(el('div', { class: 'actions wide' }, save));
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    const fund = {};
    codes.funding_sources.forEach((s, i) => { if (funding[i].value !== '') fund[s] = Number(funding[i].value); });
    const body = { village: vsel.value, year: Number($('p-year').value), task: tsel.value, item: isel.value, name: $('p-name').value,
      phase: psel.value, budget_yuan: Number($('p-budget').value || 0), funding: fund, lead_office: $('p-office').value, description: $('p-desc').value };
    if (geom.value.trim()) {
      try { body.geometry = JSON.parse(geom.value); } catch (err) { showError({ message: '位置不是 JSON：' + err.message }); return; }
    } else if (p) body.geometry = null;
    try {
      const r = await api(p ? 'projects/' + p.id : 'projects', { method: p ? 'PATCH' : 'POST',
        headers: { 'Content-Type': 'application/json', ...(p ? { 'If-Match': etag } : {}) }, body: JSON.stringify(body) });
      if (p) await route(); else location.hash = '#p/' + r.id;
    } catch (err) { showError(err); }
  });
  return el('details', { open: !p, class: 'step' }, el('summary', null, p ? '修改项目' : '新建项目（草稿）'), f);
}

function showNew() {
  $('view').replaceChildren(el('p', null, el('a', { href: '#' }, '← 返回列表')), projectForm(null));
}

function progressForm(p, etag) {
  const psel = el('select', { id: 'g-phase' }, codes.phases.map((x) => option(x, x)));
  psel.value = p.phase;
  const spent = el('input', { id: 'g-spent', type: 'number', value: p.spent_yuan });
  const f = el('form', { class: 'pform' }, ...field('阶段', psel), ...field('已完成投资（元）', spent),
    el('div', { class: 'actions wide' }, el('button', { type: 'submit' }, '登记进度')));
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api('projects/' + p.id, { method: 'PATCH', headers: { 'Content-Type': 'application/json', 'If-Match': etag },
        body: JSON.stringify({ phase: psel.value, spent_yuan: Number(spent.value) }) });
      await route(); refreshMap();
    } catch (err) { showError(err); }
  });
  return el('details', { class: 'step' }, el('summary', null, '登记进度'), f);
}

function reportForm(p) {
  const day = el('input', { id: 'r-date', type: 'date', value: new Date().toISOString().slice(0, 10) });
  const text = el('textarea', { id: 'r-text', rows: 2 });
  const file = el('input', { id: 'r-photo', type: 'file', accept: 'image/jpeg,image/png' });
  const f = el('form', { class: 'pform' }, ...field('日期', day), ...field('进展', text), ...field('照片', file),
    el('div', { class: 'actions wide' }, el('button', { type: 'submit' }, '提交报告')));
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const r = await api(`projects/${p.id}/reports`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ reported_on: day.value, text: text.value }) });
      for (const ph of file.files) {
        await api(`projects/${p.id}/reports/${r.id}/photos?filename=${encodeURIComponent(ph.name)}`, { method: 'POST', body: ph });
      }
      await route();
    } catch (err) { showError(err); }
  });
  return el('details', { class: 'step' }, el('summary', null, '进展报告'), f);
}

// Map ---------------------------------------------------------------------

function mapURL() {
  const q = new URLSearchParams();
  for (const k of ['year', 'phase']) if ($('f-' + k).value) q.set(k, $('f-' + k).value);
  return 'projects/map.geojson?' + q;
}

function refreshMap() {
  if (map && map.getSource('projects')) map.getSource('projects').setData(mapURL());
}

function fit(g) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => (typeof c[0] === 'number' ? (b[0] = Math.min(b[0], c[0]), b[1] = Math.min(b[1], c[1]), b[2] = Math.max(b[2], c[0]), b[3] = Math.max(b[3], c[1])) : c.forEach(walk));
  walk(g.coordinates);
  map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 120, maxZoom: 16, duration: 400 });
}

async function initMap() {
  const [style, meta] = await Promise.all([getJSON('styles/default.json'), getJSON('map/meta.json')]);
  if (meta.sample) $('sample').hidden = false;
  const e = meta.extent;
  map = await createMap($('map'), style, e ? { bounds: [[e[0], e[1]], [e[2], e[3]]] } : {});
  const color = ['match', ['get', 'phase'], ...Object.entries(PHASE_COLORS).flat(), '#999'];
  map.addSource('projects', { type: 'geojson', data: mapURL() });
  map.addLayer({ id: 'projects-fill', type: 'fill', source: 'projects', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': color, 'fill-opacity': 0.45 } });
  map.addLayer({ id: 'projects-line', type: 'line', source: 'projects', paint: { 'line-color': color, 'line-width': 4 } , filter: ['!=', ['geometry-type'], 'Point'] });
  map.addLayer({ id: 'projects-point', type: 'circle', source: 'projects', filter: ['==', ['geometry-type'], 'Point'],
    paint: { 'circle-color': color, 'circle-radius': 7, 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } });
  const ids = ['projects-fill', 'projects-line', 'projects-point'];
  map.on('click', (e) => {
    if (pickPoint) { pickPoint(e.lngLat); return; }
    const f = map.queryRenderedFeatures(e.point, { layers: ids })[0];
    if (f) location.hash = '#p/' + f.properties.id;
  });
  for (const id of ids) {
    map.on('mouseenter', id, () => { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', id, () => { map.getCanvas().style.cursor = ''; });
  }
  window.vp = { map };
}

init().catch((e) => showError(e));
