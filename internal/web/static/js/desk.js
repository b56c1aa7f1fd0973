// The homestead-approval desk page (/desk): the signed-in user's
// applications (apps.js) and, as the site step of a new application, load
// a 界址点 txt or GeoJSON file or draw the site, see its area and 四至 at
// once (desk/preview), pre-check it (siting/checks), read the verdict and
// the rule table, see each conflicting feature and its overlap on the map,
// open the printable report. An application's page shows its site and
// check on the same map.

import {
  loadBasics, createMap, indexMeta, LayerState, attachPopups, attachCoords, initChrome, fatal, el,
  t, pick, fmt, lang, onLangChange, getJSON, attrTable, maplibregl,
} from './mapcore.js';
import { layerPanel } from './panel.js';
import './deskstr.js';
import { api, loadAccount, restoreHash } from './session.js';
import { initApps, route, rerender } from './apps.js';

const $ = (id) => document.getElementById(id);
const OUTCOME_COLORS = { BLOCK: '#c62828', PERMIT_PATH: '#ef6c00', REVIEW: '#d4a000', PASS: '#2e7d32' };

let map, layers;
// What the next preview and check send: {kind: 'txt', bytes, text} (the
// file as it is) or {kind: 'geojson', site, crs, text} (a file or a
// drawing); text is the file's text for showing a wrong line.
let input = null;
let previews = []; // [{site, geometry}]
let results = []; // siting results
let selected = 0; // index of the parcel shown
let drawing = null; // [[lon, lat], …] while drawing
let conflicts = []; // GeoJSON features drawn for the result shown
let apps; // the application form's hooks (apps.js)

// Geometry helpers --------------------------------------------------------

function eachCoord(g, fn) {
  if (!g) return;
  if (g.type === 'GeometryCollection') { g.geometries.forEach((x) => eachCoord(x, fn)); return; }
  const walk = (c) => (typeof c[0] === 'number' ? fn(c) : c.forEach(walk));
  walk(g.coordinates);
}

function bboxOf(geoms) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  for (const g of geoms) eachCoord(g, ([x, y]) => {
    b[0] = Math.min(b[0], x); b[1] = Math.min(b[1], y); b[2] = Math.max(b[2], x); b[3] = Math.max(b[3], y);
  });
  return b[0] <= b[2] ? b : null;
}

function fitTo(geoms, maxZoom = 18) {
  const b = bboxOf(geoms);
  if (b) map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 80, maxZoom, duration: 600 });
}

function setData(id, features) {
  map.getSource(id).setData({ type: 'FeatureCollection', features });
}

// File input --------------------------------------------------------------

// decodeText reads a 界址点 file for showing its lines: UTF-8, or GB18030
// (GBK) when it is not valid UTF-8. The server decodes the bytes itself.
function decodeText(buf) {
  try { return new TextDecoder('utf-8', { fatal: true }).decode(buf); } catch (e) { /* not UTF-8 */ }
  try { return new TextDecoder('gb18030').decode(buf); } catch (e) { return ''; }
}

// guessCRS names the CRS of GeoJSON coordinates: the legacy "crs" member,
// else by size (degrees; Gauss-Krüger eastings with the zone number are
// above 10⁷, i.e. EPSG:4488+zone; without it, the zone of the township's
// map centre).
function guessCRS(obj, site) {
  const named = obj.crs && obj.crs.properties && obj.crs.properties.name;
  if (named) {
    const m = /EPSG:+(?:[\d.]*:)?(\d+)/i.exec(named);
    if (m) return `EPSG:${m[1]}`;
    if (/CRS84/i.test(named)) return 'CRS84';
  }
  let x = null;
  eachCoord(site.type === 'Feature' ? site.geometry : site, (c) => { if (x === null) x = c[0]; });
  if (x === null || Math.abs(x) <= 180) return 'CRS84';
  if (x >= 1e7) return `EPSG:${4488 + Math.floor(x / 1e6)}`;
  const zone = Math.round(map.getCenter().lng / 3);
  return `EPSG:${4534 + (zone * 3 - 75) / 3}`;
}

// geojsonSite picks the site out of a GeoJSON text: a Polygon or
// MultiPolygon geometry, a Feature, or the first polygon Feature of a
// FeatureCollection (with a notice when there are more).
function geojsonSite(text) {
  let obj;
  try { obj = JSON.parse(text); } catch (e) { throw Object.assign(new Error(t('errNotJSON') + e.message), { local: true }); }
  let site = obj;
  if (obj && obj.type === 'FeatureCollection') {
    const polys = (obj.features || []).filter((f) => f.geometry && /Polygon$/.test(f.geometry.type));
    if (!polys.length) throw Object.assign(new Error(t('errNoPolygon')), { local: true });
    if (polys.length > 1) notice(t('errManyFeatures', { n: polys.length }));
    site = polys[0];
  }
  if (!site || !/^(Feature|Polygon|MultiPolygon)$/.test(site.type) || (site.type === 'Feature' && !(site.geometry && /Polygon$/.test(site.geometry.type)))) {
    throw Object.assign(new Error(t('errNoPolygon')), { local: true });
  }
  const crs = $('crs').value || guessCRS(obj, site);
  if (!$('crs').value) $('crs').dataset.guess = crs;
  site = JSON.parse(JSON.stringify(site));
  delete site.crs;
  return { site, crs };
}

async function onFile(file) {
  clearAll();
  if (!file) return;
  const buf = await file.arrayBuffer();
  const text = decodeText(buf);
  const isJSON = /\.(geo)?json$/i.test(file.name) || /^\s*{/.test(text);
  try {
    if (isJSON) {
      const { site, crs } = geojsonSite(text);
      input = { kind: 'geojson', site, crs, text, name: file.name };
    } else {
      input = { kind: 'txt', bytes: buf, text, name: file.name };
    }
  } catch (e) {
    showError(e, text);
    return;
  }
  await preview();
}

// Requests ----------------------------------------------------------------

// applicant is what the pre-check needs of the 申请表.
function applicant() {
  const f = apps.form();
  const p = f.proposed || {};
  return {
    household_id: f.household_id || undefined,
    village_code: f.village_code || undefined,
    returns_old_homestead: (f.current && f.current.disposal === 'return') || undefined,
    rebuild_in_place: p.situation === 1 || undefined,
    storeys: p.storeys || undefined,
    floor_area_m2: p.floor_area_m2 || undefined,
  };
}

function request(url, withApplicant) {
  const a = withApplicant ? applicant() : {};
  if (input.kind === 'txt') {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(a)) if (v !== undefined) q.set(k, String(v));
    const qs = q.toString();
    return api(url + (qs ? `?${qs}` : ''), { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: input.bytes });
  }
  return api(url, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ site: input.site, crs: input.crs, ...a }) });
}

async function preview() {
  $('run-status').textContent = t('reading');
  try {
    const res = await request('desk/preview', false);
    previews = res.sites || [];
  } catch (e) {
    showError(e, input.text);
    return;
  } finally {
    $('run-status').textContent = '';
  }
  selected = 0;
  const vc = previews[0] && previews[0].site.village_code;
  if (vc && !$('village-code').value) $('village-code').value = vc;
  if (previews[0]) apps.siteFacts(previews[0].site);
  renderFacts();
  setData('vp-site', previews.map((p, i) => ({ type: 'Feature', id: i, properties: { i }, geometry: p.geometry })));
  fitTo(previews.map((p) => p.geometry));
  $('step-facts').hidden = false;
  $('step-applicant').hidden = false;
}

async function runCheck() {
  if (!input) return;
  $('run').disabled = true;
  $('run-status').textContent = t('checking');
  try {
    const res = await request('siting/checks', true);
    results = res.checks || [res];
  } catch (e) {
    showError(e, input.text);
    return;
  } finally {
    $('run').disabled = false;
    $('run-status').textContent = '';
  }
  selected = Math.min(selected, results.length - 1);
  await renderResult();
}

// Rendering ---------------------------------------------------------------

const colon = () => (lang === 'en' ? ': ' : '：');

function clearAll() {
  input = null; previews = []; results = []; selected = 0;
  $('file-error').hidden = true;
  $('file-notice').hidden = true;
  for (const id of ['step-facts', 'step-applicant', 'step-result']) $(id).hidden = true;
  $('village-code').value = '';
  conflicts = [];
  if (map) { setData('vp-site', []); setData('vp-conflicts', []); }
}

function notice(msg) {
  $('file-notice').textContent = msg;
  $('file-notice').hidden = false;
}

// showError explains a rejected file next to the upload: what is wrong, on
// which line (with the line's text) or ring and point.
function showError(err, text) {
  const box = $('file-error');
  const b = err.body || {};
  const parts = [];
  let title;
  if (err.local || err.status === undefined) title = t('errFile');
  else if (err.status === 422 || b.code === 'OutsideData') title = t('errOutside');
  else if (err.status === 400) title = t('errFile');
  else title = t('errServer') + (err.status || '');
  const where = [];
  if (b.line) where.push(t('errLine', { line: b.line }));
  if (b.ring) where.push(t('errRing', { ring: b.ring }));
  if (b.point) where.push(t('errPoint', { point: b.point }));
  parts.push(el('strong', null, title));
  if (where.length) parts.push(el('span', { class: 'where' }, where.join(lang === 'en' ? ', ' : '，') + colon()));
  let msg = (lang === 'en' ? b.description : b.description_zh) || err.message;
  // The server's message may start with the line already ("第4行：", "line 4: ").
  if (b.line) msg = msg.replace(/^(第\s*\d+\s*行[：:]\s*|line \d+:\s*)/, '');
  parts.push(el('span', { class: 'msg' }, msg));
  if (b.line && text) {
    const line = text.split(/\r?\n/)[b.line - 1];
    if (line !== undefined) parts.push(el('code', null, `${b.line}: ${line}`));
  }
  box.replaceChildren(...parts);
  box.dataset.code = b.code || (err.local ? 'LocalFileError' : '');
  box.hidden = false;
}

function parcelButtons(container, items, onpick) {
  container.replaceChildren(...(items.length > 1 ? items.map((it, i) => el('button', {
    type: 'button', class: i === selected ? 'selected' : null, onclick: () => { selected = i; onpick(); },
  }, `${t('parcel')} ${i + 1}${it.site && it.site.label ? ' ' + it.site.label : ''}`)) : []));
}

function renderFacts() {
  const p = previews[selected];
  parcelButtons($('parcels'), previews, () => {
    renderFacts();
    if (results.length) renderResult();
    if (previews[selected]) fitTo([previews[selected].geometry]);
  });
  if (!p) return;
  const s = p.site;
  const nb = s.neighbors || {};
  const row = (k, v) => el('tr', null, el('th', null, k), el('td', null, v));
  $('facts').replaceChildren(el('tbody', null,
    row(t('area'), el('strong', { id: 'site-area' }, `${fmt(s.area_m2, 2)} m²`)),
    row(t('measuredIn'), `EPSG:${s.measure_epsg} ${s.measure_crs || ''}`),
    row(t('village'), s.village_name ? `${s.village_name} (${s.village_code})` : t('none')),
    row(t('neighbors'), el('table', { class: 'facts', id: 'neighbors' }, el('tbody', null,
      ['east', 'south', 'west', 'north'].map((d) => row(t(d), nb[d] || t('none')))))),
  ));
}

async function renderResult(noScroll) {
  const res = results[selected];
  if (!res) return;
  parcelButtons($('result-parcels'), results, () => {
    renderFacts();
    renderResult();
    if (results[selected]) fitTo([results[selected].geometry]);
  });
  $('verdict').replaceChildren(el('div', { class: `verdict o-${res.verdict}`, dataset: { verdict: res.verdict } },
    `${t('verdict')}${colon()}${t(res.verdict)}`,
    el('small', null, t('verdict' + res.verdict) + (res.placeholders ? ` · ${t('placeholder')}` : ''))));
  const bodies = res.rules.map((r, i) => {
    const has = (r.features || []).length > 0 && r.outcome !== 'PASS';
    const measured = r.measured != null ? `${fmt(r.measured, 2)} ${r.unit || ''}` : '';
    return el('tbody', { class: has ? 'hasfeatures' : null, dataset: { rule: r.code, outcome: r.outcome },
      onclick: has ? (e) => selectRule(i, e.currentTarget) : null },
    el('tr', { class: 'rule-head' },
      el('td', null, lang === 'en' ? r.title_en : r.title_zh),
      el('td', null, el('span', { class: `pill o-${r.outcome}` }, t(r.outcome))),
      el('td', { class: 'num' }, measured)),
    el('tr', { class: 'rule-detail' }, el('td', { colspan: 3 }, lang === 'en' ? r.message_en : r.message_zh,
      r.placeholder ? el('div', { class: 'basis placeholder-note' }, `${t('placeholderValue')}${colon()}${r.placeholder_note || ''}`) : null,
      r.legal_basis ? el('div', { class: 'basis' }, `${t('legalBasis')}${colon()}${r.legal_basis}`) : null)));
  });
  $('rules').replaceChildren(
    el('colgroup', null, el('col', { style: 'width:52%' }), el('col', { style: 'width:26%' }), el('col', { style: 'width:22%' })),
    el('thead', null, el('tr', null, el('th', null, t('rule')), el('th', null, t('outcome')), el('th', { class: 'num' }, t('measured')))),
    ...bodies);
  $('report').href = `siting/checks/${res.id}/report`;
  const first = $('step-result').hidden;
  $('step-result').hidden = false;
  if (first && !noScroll) $('step-result').scrollIntoView({ block: 'start' });
  await showConflicts(res);
}

// showConflicts draws every feature behind a non-passing rule: its overlap
// with the site, or (for distance rules) the feature itself, read from the
// features API.
async function showConflicts(res) {
  const feats = [];
  const fetches = [];
  res.rules.forEach((r, ri) => {
    if (r.outcome === 'PASS') return;
    for (const h of r.features || []) {
      const props = { rule: ri, code: r.code, outcome: r.outcome, layer: h.layer, fid: h.id };
      if (h.overlap) feats.push({ type: 'Feature', properties: props, geometry: h.overlap });
      else {
        fetches.push(getJSON(`collections/${encodeURIComponent(h.layer)}/items/${encodeURIComponent(h.id)}`)
          .then((f) => feats.push({ type: 'Feature', properties: props, geometry: f.geometry }))
          .catch((e) => console.warn('feature', h.layer, h.id, e.message)));
      }
    }
  });
  await Promise.all(fetches);
  // The graver outcome is drawn on top where overlaps coincide.
  const rank = { PASS: 0, REVIEW: 1, PERMIT_PATH: 2, BLOCK: 3 };
  feats.sort((x, y) => rank[x.properties.outcome] - rank[y.properties.outcome]);
  feats.forEach((f, i) => { f.id = i; });
  conflicts = feats;
  setData('vp-conflicts', feats);
}

function selectRule(i, row) {
  for (const tb of $('rules').querySelectorAll('.selected')) tb.classList.remove('selected');
  row.classList.add('selected');
  map.setFilter('vp-conflicts-selected', ['==', ['get', 'rule'], i]);
  const geoms = conflicts.filter((f) => f.properties.rule === i).map((f) => f.geometry);
  fitTo(geoms.concat(results[selected] ? [results[selected].geometry] : []), 19);
}

// Drawing -----------------------------------------------------------------

function setDrawing(on) {
  drawing = on ? [] : null;
  document.body.classList.toggle('drawing', on);
  $('draw').hidden = on;
  $('draw-finish').hidden = !on;
  $('draw-cancel').hidden = !on;
  $('draw-hint').hidden = !on;
  if (on) map.doubleClickZoom.disable(); else map.doubleClickZoom.enable();
  updateDraft();
}

function updateDraft() {
  const pts = drawing || [];
  const f = [];
  if (pts.length > 1) f.push({ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: pts.length > 2 ? [...pts, pts[0]] : pts } });
  for (const p of pts) f.push({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: p } });
  setData('vp-draft', f);
}

async function finishDrawing() {
  const pts = drawing || [];
  if (pts.length < 3) { notice(t('drawTooFew')); return; }
  const ring = [...pts, pts[0]].map(([x, y]) => [Number(x.toFixed(8)), Number(y.toFixed(8))]);
  setDrawing(false);
  clearAll();
  input = { kind: 'geojson', site: { type: 'Polygon', coordinates: [ring] }, crs: 'CRS84', text: '' };
  await preview();
}

// Map layers of the desk --------------------------------------------------

function addDeskLayers() {
  const empty = { type: 'FeatureCollection', features: [] };
  for (const id of ['vp-site', 'vp-conflicts', 'vp-draft', 'vp-app']) map.addSource(id, { type: 'geojson', data: empty });
  const outcome = ['match', ['get', 'outcome'], ...Object.entries(OUTCOME_COLORS).flat(), '#888'];
  const poly = ['match', ['geometry-type'], ['Polygon', 'MultiPolygon'], true, false];
  const line = ['match', ['geometry-type'], ['LineString', 'MultiLineString'], true, false];
  map.addLayer({ id: 'vp-site-fill', type: 'fill', source: 'vp-site', paint: { 'fill-color': '#1565c0', 'fill-opacity': 0.12 } });
  map.addLayer({ id: 'vp-conflicts-fill', type: 'fill', source: 'vp-conflicts', filter: poly, paint: { 'fill-color': outcome, 'fill-opacity': 0.6 } });
  map.addLayer({ id: 'vp-conflicts-line', type: 'line', source: 'vp-conflicts', filter: line,
    paint: { 'line-color': outcome, 'line-width': 6, 'line-opacity': 0.85 } });
  map.addLayer({ id: 'vp-conflicts-outline', type: 'line', source: 'vp-conflicts', filter: poly, paint: { 'line-color': outcome, 'line-width': 1.5 } });
  map.addLayer({ id: 'vp-conflicts-selected', type: 'line', source: 'vp-conflicts', filter: ['==', ['get', 'rule'], -1],
    paint: { 'line-color': '#000', 'line-width': 3, 'line-dasharray': [2, 1] } });
  map.addLayer({ id: 'vp-site-line', type: 'line', source: 'vp-site', paint: { 'line-color': '#0d47a1', 'line-width': 2.5 } });
  // An application's staked site (orange, dashed) and built footprint (purple).
  map.addLayer({ id: 'vp-app-line', type: 'line', source: 'vp-app',
    paint: { 'line-color': ['match', ['get', 'kind'], 'staked', '#ef6c00', '#6a1b9a'], 'line-width': 2.5, 'line-dasharray': [3, 2] } });
  map.addLayer({ id: 'vp-draft-line', type: 'line', source: 'vp-draft', paint: { 'line-color': '#0d47a1', 'line-width': 2, 'line-dasharray': [2, 2] } });
  map.addLayer({ id: 'vp-draft-pts', type: 'circle', source: 'vp-draft', filter: ['==', ['geometry-type'], 'Point'],
    paint: { 'circle-radius': 4, 'circle-color': '#fff', 'circle-stroke-color': '#0d47a1', 'circle-stroke-width': 2 } });

  // Conflict popups: the rule and the feature's public attributes.
  const popup = new maplibregl.Popup({ maxWidth: '320px', className: 'vp-popup' });
  map.on('click', 'vp-conflicts-fill', (e) => conflictPopup(e, popup));
  map.on('click', 'vp-conflicts-line', (e) => conflictPopup(e, popup));
}

function conflictPopup(e, popup) {
  if (drawing) return;
  const f = e.features[0];
  const res = results[selected];
  if (!f || !res) return;
  const r = res.rules[f.properties.rule];
  const hit = (r.features || []).find((h) => h.layer === f.properties.layer && String(h.id) === String(f.properties.fid));
  const layer = layers.get(f.properties.layer);
  popup.setLngLat(e.lngLat).setDOMContent(el('div', { class: 'popup conflict', dataset: { layer: f.properties.layer } },
    el('h3', null, lang === 'en' ? r.title_en : r.title_zh, ' ', el('span', { class: `pill o-${r.outcome}` }, t(r.outcome))),
    layer ? el('p', null, pick(layer), hit && hit.overlap_m2 ? ` · ${fmt(hit.overlap_m2, 2)} m²` : '', hit && !hit.overlap && hit.distance_m != null ? ` · ${fmt(hit.distance_m, 2)} m` : '') : null,
    layer && hit ? attrTable(layer, hit.attrs || {}) : null)).addTo(map);
  e.originalEvent.stopPropagation();
}

// Applications ------------------------------------------------------------

// showApplication draws an application's site, staked site and built
// footprint and its current siting check (rules, overlaps).
async function showApplication(a) {
  const f = (g, kind) => (g ? { type: 'Feature', properties: { i: 0, kind }, geometry: g } : null);
  setData('vp-site', [f(a.site, 'site')].filter(Boolean));
  setData('vp-app', [f(a.staked, 'staked'), f(a.built, 'built')].filter(Boolean));
  fitTo([a.site, a.staked, a.built].filter(Boolean));
  if (!a.check) return;
  results = [await api(`siting/checks/${a.check.id}`)];
  selected = 0;
  await renderResult(true);
}

const hooks = {
  input: () => input,
  // geojson reads a GeoJSON file's site and CRS as the site step does.
  geojson: (text) => { const { site, crs } = geojsonSite(text); return { site, crs }; },
  reset: () => { if (drawing) setDrawing(false); clearAll(); setData('vp-app', []); $('step-result').hidden = true; },
  resize: () => map.resize(),
  showApplication,
};

// Start -------------------------------------------------------------------

async function main() {
  const mapEl = $('map');
  let basics;
  restoreHash();
  try {
    [basics] = await Promise.all([loadBasics(), loadAccount()]);
  } catch (e) {
    if (e.status === 401) return; // on the way to the login page
    initChrome(null); fatal(mapEl, e); return;
  }
  const { style, meta } = basics;
  initChrome(meta);
  layers = indexMeta(meta);
  map = await createMap(mapEl, style, {
    bounds: meta.extent ? [[meta.extent[0], meta.extent[1]], [meta.extent[2], meta.extent[3]]] : null,
  });
  const state = new LayerState(map, style);
  layerPanel($('layers'), map, meta, layers, state);
  addDeskLayers();
  attachPopups(map, state, layers, {
    enabled: (e) => !drawing && !map.queryRenderedFeatures(e.point, { layers: ['vp-conflicts-fill', 'vp-conflicts-line'] }).length,
  });
  attachCoords(map);

  $('file').addEventListener('change', (e) => onFile(e.target.files[0]).catch((err) => showError(err, '')));
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (e.dataTransfer.files[0]) onFile(e.dataTransfer.files[0]).catch((err) => showError(err, ''));
  });
  $('crs').addEventListener('change', () => {
    if (input && input.kind === 'geojson' && input.text) {
      const { site, crs } = geojsonSite(input.text);
      input.site = site; input.crs = crs;
      preview();
    }
  });
  $('run').addEventListener('click', () => runCheck());
  $('draw').addEventListener('click', () => setDrawing(true));
  $('draw-cancel').addEventListener('click', () => setDrawing(false));
  $('draw-finish').addEventListener('click', () => finishDrawing());
  map.on('click', (e) => {
    if (!drawing) return;
    drawing.push([e.lngLat.lng, e.lngLat.lat]);
    updateDraft();
  });
  map.on('dblclick', (e) => {
    if (!drawing) return;
    e.preventDefault();
    // The double click's two clicks added the same corner twice.
    const p = map.project(e.lngLat);
    while (drawing.length > 1) {
      const q = map.project(drawing[drawing.length - 2]);
      if (Math.hypot(p.x - q.x, p.y - q.y) > 4) break;
      drawing.pop();
    }
    finishDrawing();
  });
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && drawing) setDrawing(false); });
  apps = await initApps(hooks);
  onLangChange(() => { renderFacts(); if (results.length) renderResult(true); rerender(); });
  window.vp = { map, state, layers, meta };
  await route();
  document.body.dataset.ready = 'true';
}

main().catch((e) => fatal($('map'), e));
