// The planner's tools on /map: measure a distance or an area (PostGIS
// measures on the Gauss-Krüger plane of the siting checks: POST
// map/measure), identify the features of every layer at a point (the
// features API, hidden layers included), print or export the current view
// with legend, scale and north arrow, and keep an open map current: the
// tiles are reloaded when GET map/versions.json shows a layer changed
// (an edit through the API, psql or QGIS).

import { el, t, pick, fmt, getJSON, maplibregl, legendEntries, legendList, attrTable, onLangChange, applyStatic } from './mapcore.js';

const M = 'vp-measure';
const COLOR = '#d6336c';
const POLL_MS = 5000;
const MU_M2 = 2000 / 3; // 1 亩 = 666.67 m²

// reloadTiles makes MapLibre fetch the tiles of every vector source again
// (revalidated with their ETags: unchanged ones answer 304) and resolves
// when the map is idle again. MapLibre renders no frame of its own once a
// reload that changed nothing has finished, so the map is repainted then:
// without it an 'idle' awaited meanwhile would never come. tilesOf(id,
// tiles), when given, gives a source's new tile URLs (the date control's).
export function reloadTiles(map, tilesOf) {
  const ids = [];
  for (const [id, src] of Object.entries(map.getStyle().sources)) {
    const s = map.getSource(id);
    if (src.type === 'vector' && s && s.tiles) { s.setTiles(tilesOf ? tilesOf(id, s.tiles) : s.tiles); ids.push(id); }
  }
  return new Promise((resolve) => {
    const tick = () => {
      if (!ids.every((id) => map.isSourceLoaded(id)) || !map.areTilesLoaded()) { setTimeout(tick, 50); return; }
      map.once('idle', () => resolve(true));
      map.triggerRepaint();
    };
    setTimeout(tick, 0);
  });
}

export function mapTools(map, meta, layers, state) {
  let mode = null; // distance | area | identify | null
  let pts = [];
  let done = false;
  let last = null; // last measurement (POST map/measure answer)
  let seq = 0;
  const tools = { csrf: null };
  const result = el('div', { id: 'tool-result', class: 'tool-result', hidden: true });
  const btn = (id, key, fn) => el('button', { type: 'button', id, 'data-i18n': key, onclick: fn }, t(key));
  const bar = el('div', { class: 'maplibregl-ctrl maplibregl-ctrl-group vp-tools', id: 'tools' },
    btn('tool-distance', 'toolDistance', () => setMode('distance')), btn('tool-area', 'toolArea', () => setMode('area')),
    btn('tool-identify', 'toolIdentify', () => setMode('identify')), btn('tool-print', 'toolPrint', () => openPrint()),
    btn('tool-clear', 'toolClear', () => setMode(null)));
  map.addControl({ onAdd: () => bar, onRemove: () => bar.remove() }, 'top-left');
  map.getContainer().append(result);
  const popup = new maplibregl.Popup({ maxWidth: '380px', className: 'vp-popup' });

  map.addSource(M, { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  map.addLayer({ id: M + '-fill', type: 'fill', source: M, filter: ['==', '$type', 'Polygon'], paint: { 'fill-color': COLOR, 'fill-opacity': 0.15 } });
  map.addLayer({ id: M + '-line', type: 'line', source: M, filter: ['!=', '$type', 'Point'], paint: { 'line-color': COLOR, 'line-width': 2.5, 'line-dasharray': [3, 1.5] } });
  map.addLayer({ id: M + '-point', type: 'circle', source: M, filter: ['==', '$type', 'Point'],
    paint: { 'circle-color': '#fff', 'circle-radius': 4, 'circle-stroke-color': COLOR, 'circle-stroke-width': 2 } });

  const geom = () => {
    if (mode === 'area' && pts.length >= 3) return { type: 'Polygon', coordinates: [[...pts, pts[0]]] };
    if (pts.length >= 2) return { type: 'LineString', coordinates: pts };
    return null;
  };
  const drawMeasure = () => {
    const g = geom();
    map.getSource(M).setData({ type: 'FeatureCollection', features: [
      ...(g ? [{ type: 'Feature', geometry: g, properties: {} }] : []),
      ...pts.map((c) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: c }, properties: {} }))] });
  };
  const showResult = () => {
    if (!mode || mode === 'identify') { result.hidden = true; return; }
    const lines = [];
    if (!last) lines.push(el('span', { class: 'muted' }, t('measureHint')));
    else {
      lines.push(el('strong', { id: 'measure-value' }, last.type === 'Polygon'
        ? t('measureArea', { v: fmt(last.area_m2, 2), mu: fmt(last.area_m2 / MU_M2, 2), p: fmt(last.perimeter_m, 2) })
        : t('measureLength', { v: fmt(last.length_m, 2) })));
      lines.push(el('span', { class: 'muted' }, t('measurePlane', { plane: last.plane, epsg: last.epsg })));
    }
    result.replaceChildren(...lines);
    result.hidden = false;
  };
  async function measureNow() {
    const g = geom();
    const n = ++seq;
    if (!g) { last = null; showResult(); return; }
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
    if (tools.csrf) headers['X-CSRF-Token'] = tools.csrf;
    try {
      const m = await getJSON('map/measure', { method: 'POST', headers, body: JSON.stringify({ geometry: g }) });
      if (n !== seq) return;
      last = m;
      result.dataset.seq = String(n);
    } catch (e) {
      result.replaceChildren(el('span', { class: 'error' }, e.message));
      return;
    }
    showResult();
  }
  function setMode(m) {
    mode = m && m !== mode ? m : null;
    pts = []; done = false; last = null; seq++;
    drawMeasure();
    popup.remove();
    window.vpTool = !!mode;
    for (const b of bar.querySelectorAll('button')) b.classList.toggle('on', b.id === `tool-${mode}`);
    if (mode === 'distance' || mode === 'area') map.doubleClickZoom.disable(); else map.doubleClickZoom.enable();
    map.getCanvas().style.cursor = mode ? 'crosshair' : '';
    document.body.dataset.tool = mode || '';
    if (mode === 'identify') { result.replaceChildren(el('span', { class: 'muted' }, t('identifyHint'))); result.hidden = false; } else showResult();
  }
  map.on('click', (e) => {
    if (mode === 'identify') { identify(e.point, e.lngLat).catch((err) => console.error(err)); return; }
    if (mode !== 'distance' && mode !== 'area') return;
    if (done) { pts = []; done = false; }
    const c = [e.lngLat.lng, e.lngLat.lat].map((v) => Math.round(v * 1e9) / 1e9);
    const prev = pts[pts.length - 1];
    if (prev) {
      const a = map.project(prev);
      if (Math.hypot(a.x - e.point.x, a.y - e.point.y) < 3) return; // the second click of a double click
    }
    pts.push(c);
    drawMeasure();
    measureNow();
  });
  map.on('dblclick', () => { if (mode === 'distance' || mode === 'area') done = true; });
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && mode) setMode(null); });

  // identify lists the features of every catalog layer (shown or not)
  // within 4 pixels of the point, from the features API (as of the map's
  // instant when the date control shows the past).
  async function identify(p, lngLat) {
    const sw = map.unproject([p.x - 4, p.y + 4]);
    const ne = map.unproject([p.x + 4, p.y - 4]);
    const bbox = [sw.lng, sw.lat, ne.lng, ne.lat].map((v) => v.toFixed(8)).join(',');
    const at = window.vpAsOf ? `&datetime=${encodeURIComponent(window.vpAsOf)}` : ''; // the map's instant
    const all = await Promise.all([...layers.values()].map((l) => getJSON(`collections/${encodeURIComponent(l.id)}/items?bbox=${bbox}&limit=20${at}`,
      { headers: { Accept: 'application/geo+json' } }).then((fc) => [l, fc.features || []], () => [l, []])));
    const hits = all.filter(([, fs]) => fs.length);
    const body = el('div', { class: 'popup identify', id: 'identify', dataset: { layers: hits.map(([l]) => l.id).join(',') } },
      el('h3', null, hits.length ? t('identifyTitle', { n: hits.length }) : t('identifyNone')),
      hits.map(([l, fs]) => el('details', { class: 'identify-layer', open: hits.length <= 3, dataset: { layer: l.id } },
        el('summary', null, `${pick(l)} (${fs.length})`),
        fs.slice(0, 3).map((f) => el('div', { class: 'identify-feature', dataset: { fid: f.id } }, attrTable(l, f.properties || {}),
          el('a', { href: `collections/${encodeURIComponent(l.id)}/items/${encodeURIComponent(f.id)}?f=html`, target: '_blank', rel: 'noopener' }, t('details')))),
        fs.length > 3 ? el('p', { class: 'muted' }, t('identifyMore', { n: fs.length - 3 })) : null)));
    popup.setLngLat(lngLat).setDOMContent(body).addTo(map);
  }

  // Print and export ---------------------------------------------------

  const sheet = el('div', { id: 'print-sheet', class: 'print-sheet', hidden: true });
  document.body.append(sheet);

  // metresPerPixel at the map's centre (Web Mercator, 512 px tiles).
  const metresPerPixel = () => 40075016.686 * Math.cos(map.getCenter().lat * Math.PI / 180) / (512 * 2 ** map.getZoom());
  const nice = (x) => { const p = 10 ** Math.floor(Math.log10(x)); return [5, 2, 1].map((k) => k * p).find((v) => v <= x) || p; };

  // snapshot draws the map as rendered now on a 2-D canvas, with a scale
  // bar and a north arrow (the map is never rotated) in the image itself,
  // so they scale with it wherever it is printed.
  function snapshot() {
    return new Promise((resolve) => {
      map.once('render', () => {
        const src = map.getCanvas();
        const out = document.createElement('canvas');
        out.width = src.width; out.height = src.height;
        const g = out.getContext('2d');
        g.drawImage(src, 0, 0);
        const k = src.width / src.clientWidth;
        const mpp = metresPerPixel();
        const len = nice(mpp * 160);
        const px = len / mpp * k;
        const x0 = 16 * k; const y0 = out.height - 18 * k;
        g.fillStyle = 'rgba(255,255,255,.85)';
        g.fillRect(x0 - 8 * k, y0 - 22 * k, px + 70 * k, 34 * k);
        g.fillStyle = '#222';
        g.fillRect(x0, y0 - 4 * k, px, 4 * k);
        g.fillRect(x0, y0 - 10 * k, 2 * k, 10 * k);
        g.fillRect(x0 + px - 2 * k, y0 - 10 * k, 2 * k, 10 * k);
        g.font = `${12 * k}px sans-serif`;
        g.fillText(len >= 1000 ? `${len / 1000} km` : `${len} m`, x0 + px + 6 * k, y0);
        const nx = out.width - 34 * k; const ny = 18 * k;
        g.fillStyle = 'rgba(255,255,255,.85)';
        g.fillRect(nx - 18 * k, ny - 8 * k, 36 * k, 58 * k);
        g.fillStyle = '#222';
        g.beginPath(); g.moveTo(nx, ny); g.lineTo(nx + 10 * k, ny + 30 * k); g.lineTo(nx, ny + 24 * k); g.lineTo(nx - 10 * k, ny + 30 * k); g.closePath(); g.fill();
        g.textAlign = 'center';
        g.font = `bold ${13 * k}px sans-serif`;
        g.fillText(t('north'), nx, ny + 46 * k);
        resolve(out);
      });
      map.triggerRepaint();
    });
  }

  // preparePrint fills the print sheet: title, time (and the as-of
  // instant when the map shows the past), the map image with scale bar and
  // north arrow, the scale, and the legend of the layers shown.
  tools.preparePrint = async () => {
    const canvas = await snapshot();
    const url = canvas.toDataURL('image/png');
    const scale = Math.round(metresPerPixel() / 0.0254 * 96 / 10) * 10;
    const shown = [...layers.values()].filter((l) => state.isOn(l.id) && map.getZoom() >= l.minzoom - 0.5);
    const now = new Date().toLocaleString(document.documentElement.lang);
    sheet.replaceChildren(
      el('div', { class: 'print-actions' },
        el('button', { type: 'button', class: 'primary', onclick: () => window.print() }, t('printGo')),
        el('a', { href: url, download: 'villageplan-map.png', id: 'print-png' }, t('printPNG')),
        el('button', { type: 'button', onclick: () => closePrint() }, '×')),
      el('div', { class: 'print-map' }, el('img', { id: 'print-map', src: url, alt: t('appTitle') })),
      el('aside', { class: 'print-side' },
        el('h1', null, t('appTitle')),
        window.vpAsOf ? el('p', { class: 'print-asof' }, t('printAsOf', { d: new Date(window.vpAsOf).toLocaleString(document.documentElement.lang) })) : null,
        el('p', null, t('printDate', { d: now })),
        el('p', { id: 'print-scale' }, t('printScale', { n: fmt(scale, 0) })),
        el('h2', null, t('legend')),
        shown.map((l) => el('div', { class: 'print-legend', dataset: { layer: l.id } }, el('h3', null, pick(l)),
          legendList(legendEntries(l, state.byLayer.get(l.id)))))));
    sheet.hidden = false;
    document.body.classList.add('print-ready');
    return { scale, layers: shown.map((l) => l.id), width: canvas.width, height: canvas.height };
  };
  function openPrint() { setMode(null); tools.preparePrint().catch((e) => console.error(e)); }
  function closePrint() { sheet.hidden = true; document.body.classList.remove('print-ready'); }

  // Live tiles ----------------------------------------------------------

  // poll reads the layer versions; when one moved since the last poll
  // (and the map shows the present), the tiles are reloaded.
  let versions = null;
  tools.poll = async () => {
    if (document.hidden) return false;
    let v;
    try { v = (await getJSON('map/versions.json')).layers; } catch (e) { return false; }
    const changed = versions ? Object.keys(v).filter((k) => v[k] !== versions[k]) : [];
    versions = v;
    if (!changed.length || window.vpAsOf) return false;
    reloadTiles(map);
    document.body.dataset.refreshed = changed.join(',');
    return true;
  };
  tools.poll();
  setInterval(tools.poll, window.vpPollMS || POLL_MS);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) tools.poll(); });

  tools.setMode = setMode;
  tools.points = () => pts.slice();
  tools.last = () => last;
  onLangChange(() => { applyStatic(bar); showResult(); });
  return tools;
}
