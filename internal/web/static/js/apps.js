// The application desk (/desk): the list of applications with counts per
// state, filters and search (#); the 申请表 beside the site step of the
// desk (#new); one application (#a/{id}) with its deadline, the actions
// the API says the signed-in user may take now (Application.actions, never
// a copy of the state machine), each with the form of its payload, the
// siting check, documents and the history. Every error of the API is shown
// as it says it, in Chinese or English.

import { el, t, lang, fmt } from './mapcore.js';
import { api, has } from './session.js';
import { STATES } from './deskstr.js';

const $ = (id) => document.getElementById(id);
let D; // the desk's map and site hooks (desk.js)
let cur = null; // the application shown
let stepResult; // the check section, moved into the application page
const filter = { state: '', village: '', year: '', q: '', offset: 0, overdue: false };
const LIMIT = 50;
const co = () => (lang === 'en' ? ': ' : '：');
const tx = (o, base = 'description') => (o ? (lang === 'en' ? o[base] || o[base + '_zh'] : o[base + '_zh'] || o[base]) : '');
const today = (days = 0) => { const d = new Date(); d.setDate(d.getDate() + days); return d.toLocaleDateString('sv-SE'); };
const pill = (state) => el('span', { class: `state s-${state}`, dataset: { state } }, t('st_' + state));
const verdictPill = (v) => (v ? el('span', { class: `pill o-${v}` }, t(v)) : '');

// PRINTS are the printable A4 documents of an application
// (applications/{id}/print/{document}, package documents; the API answers
// 409 before a document's step), each shown once its step is reached, and
// the PDF of the current siting check.
const PRINTS = [
  ['print_form', (a) => `applications/${a.id}/print/application-form`],
  ['print_approval', (a) => (a.accepted_on ? `applications/${a.id}/print/approval-form` : null)],
  ['print_certificate', (a) => (a.approval_number ? `applications/${a.id}/print/certificate` : null)],
  ['print_inspection', (a) => (a.steps.inspection ? `applications/${a.id}/print/acceptance` : null)],
  ['print_report', (a) => (a.check ? `siting/checks/${a.check.id}/report?f=pdf` : null)],
];

// errorBox shows an API refusal: the message, the field, the state and
// what is missing (409), every field problem (422).
export function errorBox(e, id) {
  const b = e.body || {};
  return el('div', { class: 'file-error', role: 'alert', id, dataset: { code: b.code || '', status: e.status || '' } },
    el('strong', null, e.status === 409 ? t('conflictH') : (tx(b) || e.message)),
    e.status === 409 ? el('span', { class: 'msg' }, tx(b)) : null,
    b.field && !b.problems ? el('div', { class: 'basis' }, `${t('fieldH')}${co()}${b.field}`) : null,
    b.missing ? el('ul', { class: 'missing' }, b.missing.map((m) => el('li', null, tx(m)))) : null,
    b.problems ? el('ul', { class: 'missing' }, b.problems.map((p) => el('li', { dataset: { field: p.field || '' } }, tx(p)))) : null);
}

// List --------------------------------------------------------------------

function dueCell(x) {
  if (!x.due_on) return el('td', null, '');
  const n = x.days_left;
  const txt = n == null ? '' : n > 0 ? t('daysLeft', { n }) : n === 0 && !x.overdue ? t('dueToday') : t('daysOver', { n: Math.max(-n, 1) });
  return el('td', { class: x.overdue ? 'overdue' : n != null && n <= 2 ? 'soon' : null }, x.due_on, el('small', null, txt));
}

async function showList() {
  const qs = new URLSearchParams({ limit: LIMIT, offset: filter.offset });
  for (const k of ['state', 'village', 'year', 'q']) if (filter[k]) qs.set(k, filter[k]);
  let res, overdue;
  try {
    [res, overdue] = await Promise.all([api(`applications?${qs}`), api('applications/overdue')]);
  } catch (e) {
    $('list-error').replaceChildren(e.status === 403 ? t('noDeskRole') : tx(e.body) || e.message);
    $('list-error').hidden = false;
    return;
  }
  $('list-error').hidden = true;
  const items = filter.overdue ? overdue.items : res.items;
  const total = Object.values(res.counts).reduce((s, n) => s + n, 0);
  const chip = (key, label, n, on) => el('button', { type: 'button', class: on ? 'chip on' : 'chip', dataset: { state: key },
    onclick: () => { Object.assign(filter, { state: key === 'overdue' || key === 'all' ? '' : key, overdue: key === 'overdue', offset: 0 }); showList(); } },
  label, el('b', null, n));
  $('chips').replaceChildren(chip('all', t('all'), total, !filter.state && !filter.overdue),
    ...STATES.map((s) => chip(s, t('st_' + s), res.counts[s] || 0, filter.state === s)),
    chip('overdue', t('overdueChip'), overdue.items.length, filter.overdue));
  $('chips').lastChild.classList.add('late');
  const head = ['colId', 'colApplicant', 'colVillage', 'colAddress', 'colArea', 'colCheck', 'colState', 'colFiled', 'colDue'];
  $('apps').replaceChildren(el('thead', null, el('tr', null, head.map((h) => el('th', null, t(h))))),
    el('tbody', null, items.length ? items.map((x) => el('tr', { dataset: { id: x.id, state: x.state }, class: x.overdue ? 'late' : null,
      onclick: () => { location.hash = `a/${x.id}`; } },
    el('td', null, el('a', { href: `#a/${x.id}` }, `#${x.id}`)),
    el('td', null, x.applicant_name, x.sample && !x.applicant_name.includes('示例') ? el('span', { class: 'badge' }, t('sampleApp')) : null),
    el('td', null, x.village_name || x.village_code), el('td', null, x.address),
    el('td', { class: 'num' }, x.site_area_m2 != null ? `${fmt(x.site_area_m2, 1)} m²` : ''),
    el('td', null, verdictPill(x.check_verdict)), el('td', null, pill(x.state)), el('td', null, x.created_on), dueCell(x)))
      : el('tr', null, el('td', { colspan: head.length, class: 'muted' }, t('noApps')))));
  const n = filter.overdue ? items.length : res.total;
  // The 宅基地审批台账 of the same filters, for 备案 to the county.
  const lq = new URLSearchParams();
  for (const k of ['state', 'village', 'year']) if (filter[k]) lq.set(k, filter[k]);
  const ledger = (f) => { const q = new URLSearchParams(lq); q.set('f', f); return el('a', { href: `ledger?${q}`, class: 'ledger', dataset: { ledger: f } }, t('ledgerDownload', { f })); };
  $('pager').replaceChildren(el('span', null, t('total', { n })), ledger('xlsx'), ledger('csv'),
    !filter.overdue && filter.offset > 0 ? el('button', { type: 'button', onclick: () => { filter.offset -= LIMIT; showList(); } }, t('prev')) : null,
    !filter.overdue && filter.offset + LIMIT < n ? el('button', { type: 'button', onclick: () => { filter.offset += LIMIT; showList(); } }, t('next')) : null);
}

async function initFilters() {
  const y = new Date().getFullYear();
  for (let i = y; i >= y - 6; i--) $('f-year').append(el('option', { value: i }, String(i)));
  try {
    const { villages } = await api('map/villages?limit=500');
    for (const v of villages) $('f-village').append(el('option', { value: v.code }, `${v.name} ${v.code}`));
  } catch (e) { console.warn('villages', e.message); }
  $('filters').addEventListener('submit', (e) => {
    e.preventDefault();
    Object.assign(filter, { village: $('f-village').value, year: $('f-year').value, q: $('f-q').value.trim(), offset: 0 });
    showList();
  });
  for (const id of ['f-village', 'f-year']) $(id).addEventListener('change', () => $('filters').requestSubmit());
}

// The 申请表 ---------------------------------------------------------------

const lbl = (key) => el('span', { 'data-i18n': key }, t(key));
const inp = (f, key, attrs = {}) => el('label', { class: attrs.wide ? 'fld wide' : 'fld' }, lbl(key),
  attrs.area ? el('textarea', { 'data-f': f, rows: 2 }) : el('input', { type: attrs.type || 'text', 'data-f': f, 'data-t': attrs.t, id: attrs.id, step: attrs.step, min: attrs.min, autocomplete: 'off' }));
const sel = (f, key, opts, attrs = {}) => el('label', { class: 'fld' }, lbl(key),
  el('select', { 'data-f': f, 'data-t': attrs.t }, opts.map(([v, k]) => el('option', { value: v, 'data-i18n': k || null }, k ? t(k) : v))));
const chk = (f, key) => el('label', { class: 'row wide' }, el('input', { type: 'checkbox', 'data-f': f }), lbl(key));
const num = (f, key, t2 = 'n') => inp(f, key, { type: 'number', t: t2, step: t2 === 'i' ? 1 : 0.01, min: 0 });

function memberRow() {
  const i = $('members').children.length;
  const row = el('fieldset', { class: 'grid member' },
    inp(`members.${i}.name`, 'name'), inp(`members.${i}.relation`, 'relation'),
    inp(`members.${i}.id_number`, 'idNumber'), inp(`members.${i}.hukou`, 'hukou'),
    el('button', { type: 'button', class: 'link', onclick: () => { row.remove(); renumber(); } }, lbl('remove')));
  $('members').append(row);
}

function renumber() {
  [...$('members').children].forEach((row, i) => {
    for (const x of row.querySelectorAll('[data-f]')) x.dataset.f = x.dataset.f.replace(/^members\.\d+/, `members.${i}`);
  });
}

function buildForm() {
  const sub = [['', null], ['耕地'], ['林地'], ['草地'], ['其它']];
  $('app-form').replaceChildren(
    el('div', { class: 'grid' }, inp('village_code', 'villageCode', { id: 'village-code' }), inp('household_id', 'householdId', { id: 'household' })),
    el('h3', null, lbl('applicantH')),
    el('div', { class: 'grid' }, inp('applicant.name', 'name'), sel('applicant.sex', 'sex', [['男', 'male'], ['女', 'female']]),
      inp('applicant.id_number', 'idNumber'), inp('applicant.phone', 'phone'), inp('applicant.hukou', 'hukou', { wide: true })),
    el('h3', null, lbl('membersH')), el('div', { id: 'members' }),
    el('button', { type: 'button', class: 'link', onclick: memberRow }, lbl('addMember')),
    el('h3', null, el('label', { class: 'row' }, el('input', { type: 'checkbox', id: 'has-current',
      onchange: (e) => { $('current').hidden = !e.target.checked; } }), lbl('hasCurrent'))),
    el('div', { class: 'grid', id: 'current', hidden: true }, num('current.land_area_m2', 'landArea'), num('current.floor_area_m2', 'floorArea'),
      inp('current.certificate_no', 'certNo'), inp('current.zddm', 'zddm'),
      sel('current.disposal', 'disposal', [['keep', 'disp_keep'], ['return', 'disp_return'], ['other', 'disp_other']]),
      num('current.keep_m2', 'keepM2'), inp('current.disposal_note', 'dispNote', { wide: true })),
    el('h3', null, lbl('proposedH')),
    el('div', { class: 'grid' }, num('proposed.housing_land_m2', 'housingLand'), num('proposed.ancillary_land_m2', 'ancLand'),
      num('proposed.ancillary_building_land_m2', 'ancBuild'), inp('proposed.address', 'address'),
      ...['east', 'south', 'west', 'north'].map((d) => inp(`proposed.${d}`, d)),
      sel('proposed.situation', 'situation', [['2', 'sit2'], ['1', 'sit1'], ['3', 'sit3']], { t: 'i' }),
      sel('proposed.land_class', 'landClass', [['1', 'lc1'], ['2', 'lc2'], ['3', 'lc3']], { t: 'i' }),
      sel('proposed.land_subclass', 'landSub', sub), num('proposed.floor_area_m2', 'houseFloor'),
      num('proposed.storeys', 'storeys', 'i'), num('proposed.height_m', 'heightM'),
      chk('proposed.neighbours_consulted', 'neighbours')),
    inp('reason', 'reason', { area: true, wide: true }), chk('previously_transferred', 'prevTransferred'));
}

function setPath(o, path, v) {
  const ks = path.split('.');
  ks.slice(0, -1).forEach((k, i) => { o = o[k] ??= /^\d+$/.test(ks[i + 1]) ? [] : {}; });
  o[ks[ks.length - 1]] = v;
}

// collect reads the inputs named by data-f into the API's Form.
function collect(root) {
  const out = { members: [] };
  for (const x of root.querySelectorAll('[data-f]')) {
    if (x.closest('[hidden]')) continue;
    let v = x.type === 'checkbox' ? x.checked : x.value.trim();
    if (v === '') continue;
    if (x.dataset.t === 'n') v = Number(v);
    if (x.dataset.t === 'i') v = parseInt(v, 10);
    setPath(out, x.dataset.f, v);
  }
  out.members = out.members.filter(Boolean);
  return out;
}

// siteFacts fills the village and 四至 from the preview when empty.
function siteFacts(site) {
  const set = (f, v) => { const x = document.querySelector(`#app-form [data-f="${f}"]`); if (x && !x.value && v) x.value = v; };
  set('village_code', site.village_code);
  for (const d of ['east', 'south', 'west', 'north']) set(`proposed.${d}`, (site.neighbors || {})[d]);
}

async function fileApplication() {
  const box = $('form-error');
  box.hidden = true;
  for (const x of document.querySelectorAll('#app-form .bad')) x.classList.remove('bad');
  const input = D.input();
  if (!input) { box.replaceChildren(t('noSite')); box.hidden = false; return; }
  const body = { form: collect($('app-form')) };
  if (input.kind === 'txt') body.site_jzd = input.text; else Object.assign(body, { site: input.site, crs: input.crs });
  $('file-app').disabled = true;
  $('run-status').textContent = t('submitting');
  try {
    const a = await api('applications', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    buildForm();
    location.hash = `a/${a.id}`;
  } catch (e) {
    const ps = (e.body && e.body.problems) || (e.body && e.body.field ? [e.body] : []);
    for (const p of ps) {
      const f = (p.field || '').replace(/^form\./, '').replace(/\[(\d+)\]/g, '.$1');
      const x = document.querySelector(`#app-form [data-f="${f}"]`);
      if (x) x.classList.add('bad');
    }
    box.replaceWith(errorBox(e, 'form-error'));
    $('form-error').scrollIntoView({ block: 'nearest' });
  } finally {
    $('file-app').disabled = false;
    $('run-status').textContent = '';
  }
}

// The application page ----------------------------------------------------

const field = (p, key, input) => el('label', { class: 'fld wide' }, lbl(key), input || el('input', { type: 'text', 'data-p': p }));
const area = (p, key, v = '') => field(p, key, el('textarea', { 'data-p': p, rows: 2 }, v));
const date = (p, key, v) => field(p, key, el('input', { type: 'date', 'data-p': p, value: v }));
const siteFile = () => field('site', 'siteFile', el('input', { type: 'file', 'data-p': 'site', accept: '.txt,.json,.geojson' }));

function objectionRow(box) {
  const i = box.children.length;
  box.append(el('div', { class: 'grid' }, field(`objections.${i}.objection`, 'objection'), field(`objections.${i}.resolution`, 'resolution')));
}

// PAYLOADS are the inputs of each action's payload (applications
// TransitionRequest); actions without one only confirm.
const PAYLOADS = {
  publicize: () => [date('meeting_date', 'meetingDate', today()), field('group_leader', 'groupLeader'),
    date('publicity_start', 'pubStart', today()), date('publicity_end', 'pubEnd', today(9))],
  group_approve: () => {
    const box = el('div', { class: 'objections' });
    return [area('opinion', 'opinion', '同意'), el('h4', null, lbl('objections')), box,
      el('button', { type: 'button', class: 'link', onclick: () => objectionRow(box) }, lbl('addObjection'))];
  },
  village_approve: () => [field('reviewer', 'reviewer'), area('opinion', 'opinion', '同意')],
  opinion: () => {
    const mine = ['agriculture', 'natural_resources', 'planning'].filter((d) => has(d === 'planning' ? 'review_planning' : `review_${d}`));
    return [mine.length > 1 ? field('department', 'department', el('select', { 'data-p': 'department' }, mine.map((d) => el('option', { value: d }, t('dept_' + d))))) : null,
      el('div', { class: 'row wide' }, ...[['true', 'agree'], ['false', 'disagree']].map(([v, k]) =>
        el('label', { class: 'row' }, el('input', { type: 'radio', name: 'agree', 'data-p': 'agree', value: v, checked: v === 'true' }), lbl(k)))),
      area('opinion', 'opinion', '同意'), field('reviewer', 'reviewer')];
  },
  reject: () => [area('reasons', 'reasons')],
  stake: () => [siteFile(), date('on', 'stakeOn', today())],
  start: () => [date('on', 'stakeOn', today())],
  inspect: () => [siteFile(), date('on', 'stakeOn', today()), area('opinion', 'opinion', '按批准建设')],
  register: (a) => [field('zddm', 'registerZddm', el('input', { type: 'text', 'data-p': 'zddm', value: `${a.village_code}JC` })), field('bdcdyh', 'bdcdyh')],
};

// payloadOf reads an action form into its payload; a site file is sent as
// GeoJSON (site, crs) or 界址点 text (site_jzd); none: the approved site.
async function payloadOf(form, action) {
  const pl = {};
  for (const x of form.querySelectorAll('[data-p]')) {
    const p = x.dataset.p;
    if (x.type === 'radio') { if (x.checked) pl[p] = x.value === 'true'; continue; }
    if (x.type === 'file') {
      const f = x.files[0];
      if (f) {
        const text = await f.text();
        if (/^\s*{/.test(text)) Object.assign(pl, D.geojson(text)); else pl.site_jzd = text;
      } else if (cur.site) Object.assign(pl, { site: cur.site, crs: 'CRS84' });
      continue;
    }
    const v = x.value.trim();
    if (v === '') continue;
    if (p === 'reasons') pl.reasons = v.split(/\n+/).map((s) => s.trim()).filter(Boolean);
    else setPath(pl, p, v);
  }
  if (pl.objections) pl.objections = pl.objections.filter((o) => o && (o.objection || o.resolution));
  return Object.keys(pl).length || ['group_approve', 'reject'].includes(action) ? pl : undefined;
}

function openAction(a, action) {
  const box = $('action-form');
  const form = el('form', { class: 'actionform grid', dataset: { action } },
    el('h3', { class: 'wide' }, t('act_' + action)),
    ...(PAYLOADS[action] ? PAYLOADS[action](a) : []),
    el('label', { class: 'fld wide' }, lbl('note'), el('textarea', { name: 'note', rows: 1 })),
    el('div', { class: 'actions wide' }, el('button', { type: 'submit', class: 'primary', id: 'action-submit' }, t('confirm')),
      el('button', { type: 'button', onclick: () => box.replaceChildren() }, t('cancel'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const btn = $('action-submit');
    btn.disabled = true;
    try {
      const body = { action, note: form.elements.note.value.trim() || undefined, payload: await payloadOf(form, action) };
      await api(`applications/${a.id}/transitions`, { method: 'POST', body: JSON.stringify(body),
        headers: { 'Content-Type': 'application/json', 'If-Match': `"${a.version}"` } });
      await showApp(a.id, t('done', { a: t('act_' + action) }));
    } catch (err) {
      const old = form.querySelector('.file-error');
      if (old) old.remove();
      form.append(errorBox(err, 'action-error'));
      btn.disabled = false;
    }
  });
  box.replaceChildren(form);
  form.scrollIntoView({ block: 'nearest' });
}

// recordLine sums up what a step recorded (its event payload): the
// department and its opinion, reasons, the approval number, objections.
function recordLine(p) {
  if (!p) return null;
  const parts = [];
  if (p.department) parts.push(`${t('dept_' + p.department)}${co()}${t(p.agree === false ? 'disagree' : 'agree')}`);
  if (p.approval_number) parts.push(`${t('approvalNo')} ${p.approval_number}`);
  if (p.reasons) parts.push(p.reasons.join('；'));
  if (p.objections && p.objections.length) parts.push(p.objections.map((o) => `${t('objection')}${co()}${o.objection} → ${o.resolution}`).join('；'));
  if (p.opinion) parts.push(`${t('opinion')}${co()}${p.opinion}`);
  if (p.deviation_m != null) parts.push(t('stakedLine', { on: p.on, d: fmt(p.deviation_m) }));
  if (p.built_area_m2 != null) parts.push(t('builtLine', { on: p.on, a: fmt(p.built_area_m2), o: fmt(p.outside_m2) }));
  if (p.zddm) parts.push(`${t('zddm')} ${p.zddm}${p.old_returned ? ' · ' + t('disp_return') : ''}`);
  return parts.length ? el('span', { class: 'record' }, parts.join(' · ')) : null;
}

function dueLine(a) {
  if (!a.due_on) return null;
  return el('p', { class: a.overdue ? 'due overdue' : 'due' }, `${t('headerDue')}${co()}${a.due_on} · `,
    a.days_left > 0 ? t('daysLeft', { n: a.days_left }) : a.days_left === 0 && !a.overdue ? t('dueToday') : t('daysOver', { n: Math.max(-a.days_left, 1) }));
}

function formSummary(f) {
  const row = (k, v) => (v === undefined || v === '' || v === null ? null : el('tr', null, el('th', null, t(k)), el('td', null, String(v))));
  const p = f.proposed || {};
  const person = (x) => `${x.name} · ${x.sex || ''} · ${x.age || ''} · ${x.id_number}${x.relation ? ' · ' + x.relation : ''}`;
  return el('table', { class: 'facts' }, el('tbody', null,
    row('applicantH', person(f.applicant)), row('phone', f.applicant.phone), row('hukou', f.applicant.hukou),
    ...(f.members || []).map((m) => row('membersH', person(m))),
    f.current ? row('currentH', `${fmt(f.current.land_area_m2)} m² · ${t('disp_' + f.current.disposal)}${f.current.zddm ? ' · ' + f.current.zddm : ''}`) : null,
    row('address', p.address), row('neighbors', `${t('east')} ${p.east}；${t('south')} ${p.south}；${t('west')} ${p.west}；${t('north')} ${p.north}`),
    row('housingLand', p.housing_land_m2), row('ancLand', p.ancillary_land_m2), row('situation', t('sit' + p.situation)),
    row('landClass', t('lc' + p.land_class) + (p.land_subclass ? ` · ${p.land_subclass}` : '')),
    row('houseFloor', p.floor_area_m2), row('storeys', p.storeys), row('heightM', p.height_m),
    row('neighbours', p.neighbours_consulted ? '✓' : '✗'), row('reason', f.reason)));
}

async function upload(a) {
  const f = $('doc-file').files[0];
  if (!f) return;
  const kind = $('doc-kind').value;
  try {
    await api(`applications/${a.id}/documents?kind=${kind}&filename=${encodeURIComponent(f.name)}`,
      { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: await f.arrayBuffer() });
    await showApp(a.id);
  } catch (e) {
    $('doc-error').replaceChildren(errorBox(e));
  }
}

function renderApp(a, flash) {
  const view = $('app-view');
  $('new-view').append(stepResult);
  const kinds = ['hukou', 'id_card', 'pledge', 'photo_review', 'photo_staking', 'photo_inspection', 'other'];
  const s = a.steps || {};
  view.replaceChildren(...[
    el('p', null, el('a', { href: '#' }, t('back'))),
    el('div', { class: 'apphead', dataset: { state: a.state, version: a.version } },
      el('h2', null, `#${a.id} ${a.form.applicant.name}`, a.sample && !a.form.applicant.name.includes('示例') ? el('span', { class: 'badge' }, t('sampleApp')) : null),
      el('p', null, pill(a.state), ' ', `${a.village_name || ''} ${a.village_code} · ${a.form.proposed.address}`),
      a.check ? el('p', null, `${t('checkH')}${co()}`, verdictPill(a.check.verdict), a.site_area_m2 != null ? ` · ${fmt(a.site_area_m2, 2)} m²` : '') : null,
      dueLine(a),
      a.approval_number ? el('p', { id: 'approval-number' }, `${t('approvalNo')}${co()}${a.approval_number}`) : null,
      s.staking ? el('p', { class: 'muted' }, t('stakedLine', { on: s.staking.on, d: fmt(s.staking.deviation_m) })) : null,
      s.inspection ? el('p', { class: 'muted' }, t('builtLine', { on: s.inspection.on, a: fmt(s.inspection.built_area_m2), o: fmt(s.inspection.outside_m2) })) : null),
    flash ? el('p', { class: 'flash' }, flash) : null,
    el('section', { class: 'step', id: 'actions-box' }, el('h2', null, t('actionsH')),
      el('div', { class: 'actions', id: 'actions' }, a.actions.length ? a.actions.map((x) => el('button', { type: 'button', class: 'primary',
        dataset: { action: x }, onclick: () => openAction(a, x) }, t('act_' + x))) : el('span', { class: 'muted' }, t('noActions'))),
      el('div', { id: 'action-form' })),
    el('div', { id: 'check-slot' }, a.check ? null : el('p', { class: 'muted' }, t('noCheck'))),
    el('section', { class: 'step' }, el('h2', null, t('docsH')),
      el('table', { class: 'rules', id: 'docs' }, el('tbody', null, a.documents.map((d) => el('tr', { dataset: { kind: d.kind } },
        el('td', null, t('doc_' + d.kind)), el('td', null, el('a', { href: `applications/${a.id}/documents/${d.id}` }, d.filename)),
        el('td', { class: 'num' }, d.size_bytes < 1024 ? `${d.size_bytes} B` : `${fmt(d.size_bytes / 1024, 1)} KB`), el('td', null, d.uploaded_by))))),
      el('div', { class: 'actions' }, el('select', { id: 'doc-kind' }, kinds.map((k) => el('option', { value: k }, t('doc_' + k)))),
        el('input', { type: 'file', id: 'doc-file', accept: '.pdf,.jpg,.jpeg,.png' }),
        el('button', { type: 'button', id: 'doc-upload', onclick: () => upload(a) }, t('upload'))),
      el('div', { id: 'doc-error' })),
    el('section', { class: 'step', id: 'prints' }, el('h2', null, t('printH')), el('div', { class: 'actions' },
      PRINTS.map(([k, path]) => { const h = path && path(a); return h ? el('a', { href: h, target: '_blank', rel: 'noopener', dataset: { print: k } }, t(k)) : null; }))),
    el('section', { class: 'step' }, el('h2', null, t('timelineH')),
      el('ol', { class: 'timeline', id: 'timeline' }, a.events.map((ev) => el('li', { dataset: { action: ev.action } },
        el('time', null, new Date(ev.at).toLocaleString(lang === 'en' ? 'en-GB' : 'zh-CN', { dateStyle: 'short', timeStyle: 'short' })),
        el('strong', null, t('act_' + ev.action)),
        el('span', null, `${ev.actor} · ${lang === 'en' ? t('role_' + ev.role) : ev.role_label || t('role_' + ev.role)}`),
        el('span', { class: 'muted' }, ev.from && ev.from !== ev.to ? `${t('st_' + ev.from)} → ${t('st_' + ev.to)}` : t('st_' + ev.to)),
        recordLine(ev.payload), ev.note ? el('q', null, ev.note) : null)))),
    el('details', { class: 'step' }, el('summary', null, t('formH')), formSummary(a.form))].filter(Boolean));
  stepResult.querySelector('h2').textContent = t(a.check ? 'checkH' : 'stepCheck');
  if (a.check) $('check-slot').replaceWith(stepResult);
}

async function showApp(id, flash) {
  if (!cur || cur.id !== id) $('app-view').replaceChildren(el('p', { class: 'muted' }, t('loading')));
  let a;
  try {
    a = await api(`applications/${id}`);
  } catch (e) {
    $('app-view').replaceChildren(el('p', null, el('a', { href: '#' }, t('back'))), errorBox(e));
    return;
  }
  cur = a;
  renderApp(a, flash);
  await D.showApplication(a);
  document.body.dataset.app = `${a.id}:${a.state}:${a.version}`;
}

// Routing -----------------------------------------------------------------

export async function route() {
  const h = location.hash.replace(/^#\/?/, '');
  const m = /^a\/(\d+)$/.exec(h);
  const view = m ? 'app' : h === 'new' ? 'new' : 'list';
  document.body.classList.toggle('view-list', view === 'list');
  document.body.classList.toggle('view-app', view === 'app');
  $('app-view').hidden = view !== 'app';
  $('new-view').hidden = view !== 'new';
  delete document.body.dataset.app;
  if (view !== 'app') {
    cur = null;
    $('new-view').append(stepResult);
    stepResult.querySelector('h2').textContent = t('stepCheck');
  }
  D.reset();
  if (view === 'list') await showList();
  else if (view === 'app') await showApp(Number(m[1]));
  D.resize();
}

// rerender redraws what the language changes.
export function rerender() {
  if (cur) renderApp(cur);
  else if (document.body.classList.contains('view-list')) showList();
}

export async function initApps(hooks) {
  D = hooks;
  stepResult = $('step-result');
  buildForm();
  const mayFile = has('village_clerk', 'township_window');
  $('new-app').hidden = !mayFile;
  $('file-app').hidden = !mayFile;
  $('new-app').addEventListener('click', () => { location.hash = 'new'; });
  $('file-app').addEventListener('click', fileApplication);
  window.addEventListener('hashchange', () => route());
  await initFilters();
  return { siteFacts, form: () => collect($('app-form')) };
}
