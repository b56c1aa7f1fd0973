// Shared map code of the web map and the desk page: the MapLibre map on
// the service's own style and tiles, the layer panel with legends drawn
// from the style, popups with the catalog's titles and code names, the
// cursor coordinates (CGCS2000 and Gauss-Krüger) and the scale bar.
// Nothing here names a layer: layers, fields and views come from
// map/meta.json (the catalog) and styles/default.json (the tile service).

import * as maplibregl from '../vendor/maplibre-gl/maplibre-gl.mjs';
import { t, pick, lang, onLangChange, setLang, applyStatic, fmt } from './i18n.js';
import { gk } from './gk.js';

export { maplibregl };

// el builds an element: el('div', {class: 'x', onclick: f}, child, 'text').
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k === 'style') e.style.cssText = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

// getJSON fetches a URL relative to the page and decodes the JSON body;
// it throws an Error with the server's description on a non-2xx answer.
export async function getJSON(url, opts) {
  const r = await fetch(url, opts);
  const text = await r.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
  if (!r.ok) {
    const err = new Error((body && (body.description || body.code)) || r.statusText || String(r.status));
    err.status = r.status;
    err.body = body;
    throw err;
  }
  return body;
}

// Preloaded by the page (<link rel=preload>); fetched once.
let basics;
export function loadBasics() {
  window.vpTiming = window.vpTiming || {};
  window.vpTiming.scriptStart = performance.now();
  // Start MapLibre's workers (their script is 0.5 MB) while the style loads.
  maplibregl.prewarm();
  basics ??= Promise.all([getJSON('styles/default.json'), getJSON('map/meta.json')])
    .then(([style, meta]) => ({ style, meta }));
  return basics;
}

// Catalog helpers -------------------------------------------------------

export function indexMeta(meta) {
  const layers = new Map();
  for (const g of meta.groups) for (const l of g.layers) {
    l.group = g;
    l.fieldByName = new Map(l.fields.map((f) => [f.name, f]));
    for (const f of l.fields) if (f.codes) f.codeByValue = new Map(f.codes.map((c) => [c.value, c]));
    layers.set(l.id, l);
  }
  return layers;
}

// codeLabel names a code value: "0103 旱地" for codes that are not names
// themselves, the name alone otherwise.
export function codeLabel(field, value) {
  const c = field && field.codeByValue && field.codeByValue.get(String(value));
  if (!c) return String(value);
  const name = pick(c, '');
  return name === c.value ? name : `${c.value} ${name}`;
}

// formatValue renders an attribute value with its code name and unit.
export function formatValue(field, v) {
  if (v == null || v === '') return null;
  if (field.codes) return codeLabel(field, v);
  if (typeof v === 'number') {
    const s = Number.isInteger(v) && (field.type === 'integer') && !field.unit ? String(v) : fmt(v, 2);
    return field.unit ? `${s} ${field.unit}` : s;
  }
  if (typeof v === 'boolean') return v ? '✓' : '✗';
  return field.unit ? `${v} ${field.unit}` : String(v);
}

// attrTable lists a feature's attributes under their titles, in catalog
// order; properties the catalog does not declare (or declares personal)
// are never shown.
export function attrTable(layer, props) {
  const rows = [];
  for (const f of layer.fields) {
    const v = formatValue(f, props[f.name]);
    if (v == null) continue;
    rows.push(el('tr', null, el('th', { title: f.code || f.name }, pick(f)), el('td', null, v)));
  }
  if (!rows.length) return el('p', { class: 'muted' }, t('noAttrs'));
  return el('table', { class: 'attrs' }, el('tbody', null, rows));
}

// Style helpers ---------------------------------------------------------

const colorProp = { fill: 'fill-color', line: 'line-color', circle: 'circle-color' };

// styleLayersOf maps each catalog layer id to its style layers (via the
// style's metadata "villageplan:layer").
export function styleLayersOf(style) {
  const m = new Map();
  for (const sl of style.layers) {
    const id = sl.metadata && sl.metadata['villageplan:layer'];
    if (!id) continue;
    if (!m.has(id)) m.set(id, []);
    m.get(id).push(sl);
  }
  return m;
}

// mainStyleLayer is the style layer that carries a catalog layer's
// colours: its fill, circle or (top) line layer.
function mainStyleLayer(sls) {
  return sls.find((s) => s.type === 'fill') || sls.find((s) => s.type === 'circle') ||
    sls.filter((s) => s.type === 'line').pop();
}

// legendEntries reads a style layer's colour: a constant colour is one
// swatch; ["match", ["get", field], values…, colour…, default] is one
// swatch per value, named from the field's code list and sorted in list
// order.
export function legendEntries(layer, sls) {
  const sl = mainStyleLayer(sls || []);
  if (!sl) return [];
  const paint = sl.paint || {};
  const expr = paint[colorProp[sl.type]];
  const opacity = typeof paint['fill-opacity'] === 'number' ? paint['fill-opacity'] : 1;
  const kind = sl.type;
  if (typeof expr === 'string') return [{ kind, color: expr, opacity, label: pick(layer) }];
  if (Array.isArray(expr) && expr[0] === 'match' && Array.isArray(expr[1]) && expr[1][0] === 'get') {
    const field = layer.fieldByName.get(expr[1][1]);
    const out = [];
    for (let i = 2; i + 1 < expr.length; i += 2) {
      for (const v of [].concat(expr[i])) out.push({ kind, color: expr[i + 1], opacity, value: v, label: codeLabel(field, v) });
    }
    if (field && field.codes) {
      const order = new Map(field.codes.map((c, i) => [c.value, i]));
      out.sort((a, b) => (order.get(a.value) ?? 999) - (order.get(b.value) ?? 999));
    }
    return out;
  }
  return [{ kind, color: '#888', opacity, label: pick(layer) }];
}

export function swatch(e) {
  const s = el('span', { class: `sw sw-${e.kind}` });
  s.style.setProperty('--c', e.color);
  s.style.setProperty('--o', e.opacity);
  return s;
}

export function legendList(entries) {
  return el('ul', { class: 'legend' }, entries.map((e) => el('li', null, swatch(e), el('span', null, e.label))));
}

// The map ---------------------------------------------------------------

const CJK_FONTS = "'Noto Sans CJK SC', 'Noto Sans SC', 'Source Han Sans SC', 'Microsoft YaHei', 'PingFang SC', sans-serif";

// createMap starts MapLibre on the service's style. It resolves when the
// style has loaded. The first render that shows features sets
// window.vpTiming.firstFeatures (ms since navigation start) for the
// performance test.
export function createMap(container, style, opts = {}) {
  window.vpTiming = window.vpTiming || {};
  window.vpTiming.mapStart = performance.now();
  const map = new maplibregl.Map({
    container,
    style,
    localIdeographFontFamily: CJK_FONTS,
    attributionControl: { compact: false },
    hash: opts.hash || false,
    maxPitch: 0,
    dragRotate: false,
    ...(opts.bounds ? { bounds: opts.bounds, fitBoundsOptions: { padding: 30 } } : {}),
  });
  map.touchZoomRotate.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric', maxWidth: 140 }), 'bottom-left');
  map.once('load', () => { window.vpTiming.styleLoaded = performance.now(); });
  map.once('sourcedata', () => { window.vpTiming.firstSourceData = performance.now(); });
  const dataLayers = style.layers.filter((l) => l.metadata && l.metadata['villageplan:layer']).map((l) => l.id);
  const onRender = () => {
    if (window.vpTiming.firstFeatures) return;
    if (map.queryRenderedFeatures({ layers: dataLayers.filter((id) => map.getLayer(id)) }).length > 0) {
      window.vpTiming.firstFeatures = performance.now();
      map.off('render', onRender);
    }
  };
  map.on('render', onRender);
  return new Promise((resolve, reject) => {
    map.once('load', () => resolve(map));
    map.once('error', (e) => { if (!map.loaded()) reject(e.error || e); });
  });
}

// Visibility of catalog layers ------------------------------------------

export class LayerState {
  constructor(map, style) {
    this.map = map;
    this.byLayer = styleLayersOf(style);
    this.visible = new Map([...this.byLayer.keys()].map((id) => [id, true]));
    this.listeners = [];
  }
  styleIds(id) { return (this.byLayer.get(id) || []).map((s) => s.id); }
  set(id, on) {
    this.visible.set(id, on);
    for (const sid of this.styleIds(id)) {
      if (this.map.getLayer(sid)) this.map.setLayoutProperty(sid, 'visibility', on ? 'visible' : 'none');
    }
    for (const fn of this.listeners) fn(id, on);
  }
  isOn(id) { return this.visible.get(id) !== false; }
  // setOpacity scales the opacity of a layer's fills, lines, circles and
  // labels by v (0–1), from the style's own values (numbers, or zoom
  // curves whose stops are scaled).
  setOpacity(id, v) {
    this.opacity = this.opacity || new Map();
    this.opacity.set(id, v);
    const props = { fill: ['fill-opacity'], line: ['line-opacity'], circle: ['circle-opacity', 'circle-stroke-opacity'], symbol: ['text-opacity'] };
    const scale = (o) => (typeof o === 'number' ? o * v
      : Array.isArray(o) && o[0] === 'interpolate' ? o.map((x, i) => (i > 3 && i % 2 === 0 && typeof x === 'number' ? x * v : x)) : v);
    for (const sl of this.byLayer.get(id) || []) {
      for (const p of props[sl.type] || []) {
        const orig = (sl.paint || {})[p] ?? 1;
        if (this.map.getLayer(sl.id)) this.map.setPaintProperty(sl.id, p, scale(orig));
      }
    }
  }
  opacityOf(id) { return (this.opacity && this.opacity.get(id)) ?? 1; }
  onChange(fn) { this.listeners.push(fn); }
  // interactive lists the drawn (visible) style layers that popups read.
  interactive() {
    const out = [];
    for (const [id, sls] of this.byLayer) {
      if (!this.isOn(id)) continue;
      for (const s of sls) if (s.type !== 'symbol' && this.map.getLayer(s.id)) out.push(s.id);
    }
    return out;
  }
}

// Popups ----------------------------------------------------------------

export function attachPopups(map, state, layers, opts = {}) {
  const popup = new maplibregl.Popup({ maxWidth: '340px', className: 'vp-popup' });
  // A popup goes when its layer is hidden or the language changes.
  let shown = null;
  state.onChange((id, on) => { if (!on && id === shown) popup.remove(); });
  onLangChange(() => popup.remove());
  map.on('click', (e) => {
    if (opts.enabled && !opts.enabled(e)) return;
    const p = e.point;
    const box = [[p.x - 3, p.y - 3], [p.x + 3, p.y + 3]];
    const hits = map.queryRenderedFeatures(box, { layers: state.interactive() });
    const f = hits.find((h) => layers.has(h.layer.metadata && h.layer.metadata['villageplan:layer']));
    if (!f) { popup.remove(); return; }
    const layer = layers.get(f.layer.metadata['villageplan:layer']);
    shown = layer.id;
    const group = pick(layer.group);
    const body = el('div', { class: 'popup', dataset: { layer: layer.id, fid: f.id ?? '' } },
      el('h3', null, pick(layer), group !== pick(layer) ? el('small', null, ` · ${group}`) : null),
      attrTable(layer, f.properties || {}),
      f.id != null ? el('a', { href: `collections/${encodeURIComponent(layer.id)}/items/${encodeURIComponent(f.id)}?f=html`, target: '_blank', rel: 'noopener' }, t('details')) : null);
    popup.setLngLat(e.lngLat).setDOMContent(body).addTo(map);
  });
  for (const id of state.interactive()) {
    map.on('mouseenter', id, () => { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', id, () => { map.getCanvas().style.cursor = ''; });
  }
  return popup;
}

// Coordinates readout ---------------------------------------------------

// coordsText gives the two readout lines for a lon/lat: CGCS2000 degrees,
// and the 3-degree Gauss-Krüger plane of the longitude's zone (X northing,
// Y easting, as surveyors write them; EPSG code without the zone number
// in the easting, and Y with it).
export function coordsText(lon, lat) {
  const g = gk(lon, lat);
  const d = (v) => v.toFixed(6);
  const m = (v) => v.toFixed(2);
  return [
    `${t('coordsGeo')}  ${d(lon)}°E  ${d(lat)}°N`,
    `${t('coordsGK')} ${t('zone', { zone: g.zone })} (CM ${g.cm}°E, EPSG:${g.epsg})  X ${m(g.x)}  Y ${m(g.y)}` +
      (g.epsgZone ? `  ·  EPSG:${g.epsgZone} Y ${m(g.yZone)}` : ''),
  ];
}

export function attachCoords(map) {
  const box = el('div', { class: 'coords maplibregl-ctrl', id: 'coords' }, el('div'), el('div'));
  const ctrl = { onAdd: () => box, onRemove: () => box.remove() };
  map.addControl(ctrl, 'bottom-left');
  const show = (ll) => {
    const [a, b] = coordsText(ll.lng, ll.lat);
    box.children[0].textContent = a;
    box.children[1].textContent = b;
  };
  let last = map.getCenter();
  map.on('mousemove', (e) => { last = e.lngLat; show(last); });
  onLangChange(() => show(last));
  show(last);
  return box;
}

// Optional raster basemap -------------------------------------------------

const BASEMAP_KEY = 'vp.basemap';

export function basemapPanel(map) {
  let cfg = {};
  try { cfg = JSON.parse(localStorage.getItem(BASEMAP_KEY) || '{}'); } catch (e) { cfg = {}; }
  const apply = () => {
    if (map.getLayer('vp-basemap')) map.removeLayer('vp-basemap');
    if (map.getSource('vp-basemap')) map.removeSource('vp-basemap');
    if (!cfg.on || !cfg.url) return;
    map.addSource('vp-basemap', { type: 'raster', tiles: [cfg.url], tileSize: 256, attribution: cfg.attribution || '' });
    const first = map.getStyle().layers.find((l) => l.type !== 'background');
    map.addLayer({ id: 'vp-basemap', type: 'raster', source: 'vp-basemap', paint: { 'raster-opacity': 0.8 } }, first && first.id);
  };
  const save = () => { try { localStorage.setItem(BASEMAP_KEY, JSON.stringify(cfg)); } catch (e) { /* ignore */ } apply(); };
  const box = el('input', { type: 'checkbox', id: 'basemap-on', checked: !!cfg.on, disabled: !cfg.url });
  const url = el('input', { type: 'url', id: 'basemap-url', value: cfg.url || '', placeholder: 'https://…/{z}/{x}/{y}…' });
  box.addEventListener('change', () => { cfg.on = box.checked; save(); });
  const form = el('form', { class: 'basemap-form', onsubmit: (e) => {
    e.preventDefault();
    cfg.url = url.value.trim();
    cfg.on = !!cfg.url;
    box.checked = cfg.on;
    box.disabled = !cfg.url;
    save();
  } }, el('label', { for: 'basemap-url', 'data-i18n': 'basemapURL' }), url, el('button', { type: 'submit', 'data-i18n': 'save' }));
  apply();
  // The labels come from data-i18n: fill them now (the page's applyStatic
  // ran before this panel existed, which left it blank) and on a language
  // change.
  const panel = el('details', { class: 'group basemap', id: 'basemap' },
    el('summary', { 'data-i18n': 'basemap' }),
    el('label', { class: 'row' }, box, el('span', { 'data-i18n': 'basemapOn' })),
    el('p', { class: 'muted', 'data-i18n': cfg.url ? 'basemapURL' : 'basemapNone' }),
    form);
  applyStatic(panel);
  onLangChange(() => applyStatic(panel));
  return panel;
}

// Page chrome -------------------------------------------------------------

// initChrome wires the language switch and the sample-data badge.
export function initChrome(meta) {
  applyStatic();
  const btn = document.getElementById('lang');
  if (btn) btn.addEventListener('click', () => setLang(lang === 'en' ? 'zh' : 'en'));
  const badge = document.getElementById('sample');
  if (badge && meta && meta.sample) badge.hidden = false;
}

export { t, pick, lang, onLangChange, applyStatic, fmt };

// fatal shows a load error in place of the map.
export function fatal(container, err) {
  console.error(err);
  container.append(el('div', { class: 'fatal' }, t('loadError') + (err && err.message ? err.message : String(err))));
}
