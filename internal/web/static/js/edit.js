// Editing on the web map (/map) for an account whose role may edit a
// layer (map/meta.json "editing.roles"; the server checks again): draw a
// new feature, reshape one by its vertices with snapping to the
// neighbouring features, delete, undo/redo, and an attribute form made
// from the catalog. Saves go through the OGC API – Features Part 4 routes
// (POST items; PATCH/DELETE items/{id} with If-Match), loaded only for
// such accounts. Drawing is terra-draw with its MapLibre adapter
// (vendor/terra-draw, see update-terradraw.sh).

import { el, t, pick, maplibregl, onLangChange } from './mapcore.js';
import { reloadTiles as reloadAll } from './tools.js';
import {
  TerraDraw, TerraDrawPolygonMode, TerraDrawLineStringMode, TerraDrawPointMode, TerraDrawSelectMode,
} from '../vendor/terra-draw/terra-draw.mjs';
import { TerraDrawMapLibreGLAdapter } from '../vendor/terra-draw/terra-draw-maplibre-gl-adapter.mjs';

const SNAP_PX = 12; // snapping distance in screen pixels
const NEAR_PX = 16; // closing a ring, picking a vertex: pixels
// round keeps terra-draw's coordinate precision (9 decimals, < 1 mm).
const round = (c) => (typeof c[0] === 'number' ? c.map((v) => Math.round(v * 1e9) / 1e9) : c.map(round));
const kindOf = (geom) => (/Polygon/.test(geom) ? 'polygon' : /Line/.test(geom) ? 'linestring' : 'point');

// editable lists the catalog layers an account's roles may edit.
export function editable(meta, account) {
  const roles = new Set((account.roles || []).map((r) => r.role));
  return meta.groups.flatMap((g) => g.layers).filter((l) => l.editing && l.editing.roles.some((r) => roles.has(r)));
}

// snapper returns terra-draw's toCustom snapping: the nearest vertex,
// else the nearest point on an edge, of the rendered features of the
// given style layers within SNAP_PX of the pointer.
function snapper(map, styleLayers) {
  return (ev) => {
    const p = map.project([ev.lng, ev.lat]);
    const ids = styleLayers().filter((id) => map.getLayer(id));
    if (!ids.length) return undefined;
    const hits = map.queryRenderedFeatures([[p.x - SNAP_PX, p.y - SNAP_PX], [p.x + SNAP_PX, p.y + SNAP_PX]], { layers: ids });
    let best = null; let bestD = SNAP_PX; let edge = null; let edgeD = SNAP_PX;
    const rings = (g) => (g.type === 'Point' ? [[g.coordinates]] : g.type === 'MultiPoint' || g.type === 'LineString' ? [g.coordinates]
      : g.type === 'Polygon' || g.type === 'MultiLineString' ? g.coordinates : g.type === 'MultiPolygon' ? g.coordinates.flat() : []);
    for (const f of hits) {
      for (const ring of rings(f.geometry)) {
        let prev = null;
        for (const c of ring) {
          const q = map.project(c);
          const d = Math.hypot(q.x - p.x, q.y - p.y);
          if (d < bestD) { bestD = d; best = c; }
          if (prev) {
            const a = map.project(prev); const dx = q.x - a.x; const dy = q.y - a.y; const len = dx * dx + dy * dy;
            const s = len ? Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len)) : 0;
            const e = Math.hypot(a.x + s * dx - p.x, a.y + s * dy - p.y);
            if (e < edgeD) { edgeD = e; edge = map.unproject([a.x + s * dx, a.y + s * dy]).toArray(); }
          }
          prev = c;
        }
      }
    }
    const hit = best || edge;
    return hit ? round(hit) : undefined;
  };
}

// editPanel adds the editing section to the panel. account is GET
// /account (its csrf_token goes with every write).
export function editPanel(container, map, meta, layers, state, account) {
  const list = editable(meta, account);
  const csrf = account.csrf_token;
  let layer = list[0];
  let cur = null; // {tdId, fid, etag, kind, props, hist: [geometry], pos}
  let mode = 'idle'; // idle | draw | pick | edit
  const errPopup = new maplibregl.Popup({ className: 'vp-popup vp-edit-error', closeOnClick: false, maxWidth: '360px' });

  // Snap to the drawn features of every visible layer.
  const snapping = { toCoordinate: true, toCustom: snapper(map, () => state.interactive()) };
  const coordFlags = { feature: { coordinates: { draggable: true, midpoints: true, deletable: true, snappable: snapping } } };
  const draw = new TerraDraw({
    adapter: new TerraDrawMapLibreGLAdapter({ map, prefixId: 'vp-td' }),
    modes: [
      new TerraDrawPolygonMode({ snapping, pointerDistance: NEAR_PX, styles: { fillColor: '#1f78b4', outlineColor: '#1f78b4', fillOpacity: 0.25, outlineWidth: 2 } }),
      new TerraDrawLineStringMode({ snapping, pointerDistance: NEAR_PX, styles: { lineStringColor: '#1f78b4', lineStringWidth: 3 } }),
      new TerraDrawPointMode({ styles: { pointColor: '#1f78b4', pointWidth: 7 } }),
      new TerraDrawSelectMode({ pointerDistance: NEAR_PX, flags: { polygon: coordFlags, linestring: coordFlags, point: { feature: { draggable: true } } },
        keyEvents: null, allowManualDeselection: false,
        styles: { selectedPolygonColor: '#ff7f00', selectedPolygonOutlineColor: '#ff7f00', selectedPolygonFillOpacity: 0.3, selectionPointColor: '#ff7f00' } }),
    ],
  });
  draw.start();
  draw.setMode('static');

  const msg = el('div', { id: 'edit-msg', class: 'edit-msg', role: 'status' });
  const form = el('form', { id: 'edit-form', class: 'edit-form', hidden: true, onsubmit: (e) => { e.preventDefault(); save(); } });
  const btn = (id, key, fn) => el('button', { type: 'button', id, 'data-i18n': key, onclick: fn }, t(key));
  const pickLayer = el('select', { id: 'edit-layer', onchange: () => { layer = layers.get(pickLayer.value); reset(); } });
  const tools = el('div', { class: 'edit-tools' },
    btn('edit-new', 'editNew', () => startDraw()), btn('edit-pick', 'editPick', () => startPick()),
    btn('edit-undo', 'editUndo', () => step(-1)), btn('edit-redo', 'editRedo', () => step(1)),
    btn('edit-split', 'editSplit', () => split()), btn('edit-delete', 'editDelete', () => remove()), btn('edit-cancel', 'editCancel', () => reset()));
  const section = el('section', { id: 'edit', class: 'edit' }, el('h2', { 'data-i18n': 'editTitle' }, t('editTitle')),
    el('label', { class: 'row' }, el('span', { 'data-i18n': 'editLayer' }, t('editLayer')), pickLayer), tools, msg, form);
  container.prepend(section);

  const fillLayers = () => {
    pickLayer.replaceChildren(...list.map((l) => el('option', { value: l.id, selected: l === layer }, pick(l))));
  };
  const say = (text, cls = '') => { msg.className = `edit-msg ${cls}`; msg.replaceChildren(...[].concat(text)); };
  const buttons = () => {
    document.getElementById('edit-undo').disabled = !cur || cur.pos <= 0;
    document.getElementById('edit-redo').disabled = !cur || cur.pos >= cur.hist.length - 1;
    document.getElementById('edit-delete').disabled = !cur || !cur.fid;
    document.getElementById('edit-split').disabled = !cur || !cur.fid || kindOf(layer.geometry) === 'point' || mode === 'split';
    document.body.dataset.editMode = mode;
  };
  const geometry = () => (cur ? draw.getSnapshotFeature(cur.tdId).geometry : null);
  const push = () => {
    const g = geometry();
    cur.hist.splice(cur.pos + 1);
    cur.hist.push(JSON.parse(JSON.stringify(g)));
    cur.pos = cur.hist.length - 1;
    buttons();
  };
  const put = (g) => {
    draw.setMode('select');
    if (draw.hasFeature(cur.tdId)) draw.removeFeatures([cur.tdId]);
    const res = draw.addFeatures([{ id: cur.tdId, type: 'Feature', geometry: { type: g.type, coordinates: round(g.coordinates) }, properties: { mode: cur.kind } }]);
    if (!res[0] || !res[0].valid) throw new Error(res[0] && res[0].reason);
    draw.selectFeature(cur.tdId);
  };
  const step = (d) => {
    if (!cur || cur.pos + d < 0 || cur.pos + d >= cur.hist.length) return;
    cur.pos += d;
    put(cur.hist[cur.pos]);
    buttons();
  };
  function reset() {
    errPopup.remove();
    lastErr = null;
    if (map.getSource('vp-edit-conflicts')) map.getSource('vp-edit-conflicts').setData({ type: 'FeatureCollection', features: [] });
    draw.clear();
    draw.setMode('static');
    cur = null;
    mode = 'idle';
    window.vpEditing = false;
    form.hidden = true;
    form.replaceChildren();
    document.getElementById('split-form')?.remove();
    say('');
    buttons();
  }
  function startDraw() {
    reset();
    mode = 'draw';
    window.vpEditing = true;
    draw.setMode(kindOf(layer.geometry));
    say(t(kindOf(layer.geometry) === 'point' ? 'editDrawPoint' : 'editDrawHint'));
    buttons();
  }
  function startPick() {
    reset();
    mode = 'pick';
    window.vpEditing = true;
    say(t('editPickHint'));
    buttons();
  }
  draw.on('finish', (id, ctx) => {
    if (mode === 'draw' && ctx.mode === kindOf(layer.geometry)) {
      const g = draw.getSnapshotFeature(id).geometry;
      cur = { tdId: id, fid: null, etag: null, kind: ctx.mode, props: {}, hist: [], pos: -1 };
      mode = 'edit';
      // Switch to vertex editing once terra-draw has finished the drawing.
      setTimeout(() => {
        put(g);
        push();
        showForm(prefill(g));
        say(t('editDrawn'));
      });
    } else if (mode === 'edit' && cur && id === cur.tdId) {
      push();
    }
  });
  // A click in pick mode loads the feature of the chosen layer under it.
  map.on('click', async (e) => {
    if (mode !== 'pick') return;
    const p = e.point;
    const hits = map.queryRenderedFeatures([[p.x - 3, p.y - 3], [p.x + 3, p.y + 3]], { layers: state.styleIds(layer.id).filter((id) => map.getLayer(id)) });
    const f = hits.find((h) => h.id != null);
    if (!f) { say(t('editPickNone')); return; }
    try { await load(f.id); } catch (err) { say(err.message, 'error'); }
  });

  async function load(fid) {
    const r = await fetch(`collections/${encodeURIComponent(layer.id)}/items/${encodeURIComponent(fid)}`, { headers: { Accept: 'application/geo+json' } });
    if (!r.ok) throw new Error(`${r.status} ${r.statusText}`);
    const f = await r.json();
    let g = f.geometry;
    if (/^Multi/.test(g.type)) {
      if (g.coordinates.length !== 1) throw new Error(t('editMultipart', { n: g.coordinates.length }));
      g = { type: g.type.slice(5), coordinates: g.coordinates[0] };
    }
    errPopup.remove();
    draw.clear();
    cur = { tdId: cur && cur.fid === fid ? cur.tdId : crypto.randomUUID(), fid, etag: r.headers.get('ETag'), kind: kindOf(layer.geometry), props: f.properties || {}, hist: [], pos: -1 };
    mode = 'edit';
    put(g);
    push();
    showForm(cur.props);
    say(t('editLoaded', { id: fid }));
    return f;
  }

  // prefill fills a new feature's village code from the village under it.
  function prefill(g) {
    const props = {};
    const c = g.type === 'Point' ? g.coordinates : (g.type === 'Polygon' ? g.coordinates[0] : g.coordinates)
      .reduce((a, q, i, all) => [a[0] + q[0] / all.length, a[1] + q[1] / all.length], [0, 0]);
    const under = map.queryRenderedFeatures(map.project(c));
    for (const f of layer.fields) {
      if (!f.admin_code) continue;
      const h = under.find((u) => u.properties && u.properties[f.name] && u.layer.metadata && u.layer.metadata['villageplan:layer'] !== layer.id);
      if (h) props[f.name] = h.properties[f.name];
    }
    return props;
  }

  // showForm builds the attribute form from the catalog fields.
  function showForm(props) {
    const rows = layer.fields.map((f) => {
      const v = props[f.name];
      let input;
      if (f.codes) {
        input = el('select', { name: f.name, required: f.required },
          el('option', { value: '' }, '—'),
          f.codes.map((c) => el('option', { value: c.value, selected: String(v) === c.value }, c.value === pick(c, '') ? c.value : `${c.value} ${pick(c, '')}`)));
      } else if (f.type === 'boolean') {
        input = el('input', { type: 'checkbox', name: f.name, checked: v === true });
      } else {
        const type = f.type === 'integer' || f.type === 'real' ? 'number' : f.type === 'date' ? 'date' : 'text';
        input = el('input', { type, name: f.name, value: v ?? '', required: f.required, maxlength: f.max_length || null,
          min: f.min ?? null, step: f.type === 'real' ? 'any' : null, title: pick(f, 'pattern') || null });
      }
      return el('label', { class: 'field', dataset: { field: f.name } },
        el('span', { class: 'name', title: f.code || f.name }, pick(f), f.required ? el('b', { class: 'req', title: t('editRequired') }, ' *') : null),
        input, f.unit ? el('span', { class: 'unit' }, f.unit) : null);
    });
    const rv = layer.editing.review;
    form.replaceChildren(...rows,
      ...(rv ? [el('p', { class: 'muted review-note' }, t(rv.all ? 'editReviewAll' : 'editReviewSome'), ' ', pick(rv, ''))] : []),
      el('button', { type: 'submit', id: 'edit-save' }, t('save')));
    form.hidden = false;
  }

  function values() {
    const out = {};
    for (const f of layer.fields) {
      const i = form.elements[f.name];
      if (!i) continue;
      let v = f.type === 'boolean' ? i.checked : i.value.trim();
      if (v === '') v = null;
      else if (f.type === 'integer' || f.type === 'real') v = Number(v);
      out[f.name] = v;
    }
    return out;
  }

  const headers = (extra) => ({ 'X-CSRF-Token': csrf, Accept: 'application/json', ...extra });

  async function save() {
    if (!cur) return;
    errPopup.remove();
    lastErr = null;
    for (const x of form.querySelectorAll('.bad')) x.classList.remove('bad');
    const props = values();
    const g = geometry();
    let r;
    if (!cur.fid) {
      for (const k of Object.keys(props)) if (props[k] == null) delete props[k];
      r = await fetch(`collections/${encodeURIComponent(layer.id)}/items`, { method: 'POST',
        headers: headers({ 'Content-Type': 'application/geo+json' }), body: JSON.stringify({ type: 'Feature', geometry: g, properties: props }) });
    } else {
      const changed = {};
      for (const [k, v] of Object.entries(props)) if ((cur.props[k] ?? null) !== v) changed[k] = v;
      r = await fetch(`collections/${encodeURIComponent(layer.id)}/items/${cur.fid}`, { method: 'PATCH',
        headers: headers({ 'Content-Type': 'application/merge-patch+json', 'If-Match': cur.etag }), body: JSON.stringify({ geometry: g, properties: changed }) });
      // What a re-apply after a 412 puts on the new version: the changes only.
      return answered(r, g, changed);
    }
    await answered(r, g, props);
  }

  // split cuts the loaded feature along a drawn line on the server
  // (split.js, loaded on first use).
  async function split() {
    const { startSplit } = await import('./split.js');
    startSplit({ map, draw, layer, cur, csrf, say, form, errPopup, mode: (m) => { if (m) { mode = m; buttons(); } return mode; },
      done: async (text, cls) => { reset(); await reloadTiles(); say(text, cls); } });
  }

  async function remove() {
    if (!cur || !cur.fid || !confirm(t('editDeleteAsk', { id: cur.fid }))) return;
    const r = await fetch(`collections/${encodeURIComponent(layer.id)}/items/${cur.fid}`, { method: 'DELETE', headers: headers({ 'If-Match': cur.etag }) });
    await answered(r, geometry(), null);
  }

  // answered shows the outcome of a write: published (tiles reloaded),
  // proposed for review (202), or the server's error beside the feature.
  async function answered(r, g, props) {
    const body = r.status === 204 ? null : await r.json().catch(() => null);
    if (r.status === 202) {
      const id = body && body.id;
      reset();
      say([t('editProposed'), id ? ` (${t('editChangeset')} ${id})` : ''], 'ok proposed');
      return;
    }
    if (r.ok) {
      const fid = cur.fid || (body && body.features && body.features[0] && body.features[0].feature_id);
      reset();
      await reloadTiles();
      say(props ? t('editSaved', { id: fid }) : t('editDeleted', { id: fid }), 'ok');
      document.body.dataset.editSaved = String(fid);
      return;
    }
    lastErr = { status: r.status, statusText: r.statusText, body, g, props };
    showError();
  }

  // showError shows the last refused write in the panel and beside the
  // feature (again on a language change): the server's message, the
  // overlapping features, a reload-and-re-apply button on 412.
  let lastErr = null;
  function showError() {
    const { status, statusText, body, g, props } = lastErr;
    const parts = () => {
      const out = [el('p', { class: 'err-text' }, body ? pick(body, 'description') || body.description || statusText : `${status} ${statusText}`)];
      if (status === 412) {
        out.unshift(el('strong', null, t('editConflict')));
        out.push(el('button', { type: 'button', class: 'edit-reload', onclick: () => reapply(g, props) }, t('editReload')));
      }
      if (body && body.conflicts) {
        out.push(el('ul', { class: 'conflicts' }, body.conflicts.map((c) => el('li', { dataset: { collection: c.collection, fid: c.feature_id } },
          t('editOverlap', { layer: layers.has(c.collection) ? pick(layers.get(c.collection)) : c.collection, id: c.feature_id, m2: c.overlap_m2 != null ? c.overlap_m2.toFixed(2) : '?' })))));
      }
      return out;
    };
    if (body && body.field) {
      const f = form.querySelector(`[data-field="${CSS.escape(body.field)}"]`);
      if (f) f.classList.add('bad');
    }
    say(parts(), 'error');
    // Beside the feature: at the problem's location, else its first vertex.
    const at = body && body.lon != null ? [body.lon, body.lat] : firstVertex(g);
    errPopup.setLngLat(at).setDOMContent(el('div', { class: 'popup edit-error', id: 'edit-error', dataset: { code: (body && body.code) || String(status) } }, parts())).addTo(map);
    if (body && body.conflicts) outline(body.conflicts).catch((e) => console.warn(e));
  }

  // outline draws the features in the way (from the items API) in red.
  const OUT = 'vp-edit-conflicts';
  async function outline(conflicts) {
    const fs = await Promise.all(conflicts.map((c) => fetch(`collections/${encodeURIComponent(c.collection)}/items/${c.feature_id}`,
      { headers: { Accept: 'application/geo+json' } }).then((r) => (r.ok ? r.json() : null))));
    const data = { type: 'FeatureCollection', features: fs.filter(Boolean) };
    if (map.getSource(OUT)) map.getSource(OUT).setData(data);
    else {
      map.addSource(OUT, { type: 'geojson', data });
      map.addLayer({ id: OUT, type: 'line', source: OUT, paint: { 'line-color': '#d7191c', 'line-width': 3, 'line-dasharray': [2, 1] } });
    }
  }

  // reapply reloads the feature as it is now (new ETag) and puts the
  // planner's geometry and attributes back on top, to be saved again.
  async function reapply(g, props) {
    const fid = cur.fid;
    await load(fid);
    put(g);
    push();
    if (props) showForm({ ...cur.props, ...props });
    say(t('editReapplied'));
  }

  const reloadTiles = () => reloadAll(map);

  // Ctrl+Z / Ctrl+Y (or Ctrl+Shift+Z) undo and redo the vertex edits.
  document.addEventListener('keydown', (e) => {
    if (!cur || !(e.ctrlKey || e.metaKey) || /INPUT|SELECT|TEXTAREA/.test(e.target.tagName)) return;
    const k = e.key.toLowerCase();
    if (k === 'z' || k === 'y') { e.preventDefault(); step(k === 'y' || e.shiftKey ? 1 : -1); }
  });
  fillLayers();
  buttons();
  onLangChange(() => { fillLayers(); if (cur && !form.hidden) showForm(values()); if (lastErr) showError(); else if (mode !== 'idle' && !msg.classList.contains('ok')) say(''); });
  return { draw, load, reset, get current() { return cur; }, get mode() { return mode; }, step, save };
}

function firstVertex(g) {
  let c = g.coordinates;
  while (Array.isArray(c[0])) c = c[0];
  return c;
}
