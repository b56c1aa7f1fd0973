// History on the web map (/map), for signed-in users: the map as it was
// at an instant (the tiles' datetime=; a banner says the map is not the
// current state and leads back to now; the instant is kept in the page
// address as ?datetime=) and the changes between two instants
// (GET collections/{id}/changes) drawn as added, changed (with the shape
// before) and removed features, with a legend, for the layers chosen.

import { el, t, pick, getJSON, swatch, onLangChange, applyStatic } from './mapcore.js';
import { reloadTiles } from './tools.js';

const C = 'vp-changes';
const KINDS = [
  { kind: 'added', color: '#1a9850' },
  { kind: 'modified', color: '#f28e2b' },
  { kind: 'removed', color: '#d73027' },
];

const pad = (n) => String(n).padStart(2, '0');
const localDate = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const localTime = (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}`;
// instant turns a local date and time into an RFC 3339 instant (UTC).
const instant = (date, time) => new Date(`${date}T${time || '00:00'}`).toISOString();
const shown = (iso) => new Date(iso).toLocaleString(document.documentElement.lang, { dateStyle: 'medium', timeStyle: 'short' });

export function historyPanel(container, map, meta, layers, state) {
  // The tile URLs of the present, per vector source.
  const base = new Map();
  for (const [id, src] of Object.entries(map.getStyle().sources)) {
    const s = map.getSource(id);
    if (src.type === 'vector' && s && s.tiles) base.set(id, s.tiles.slice());
  }
  const now = new Date();
  const input = (type, id, value) => el('input', { type, id, value });
  const asofDate = input('date', 'asof-date', localDate(now));
  const asofTime = input('time', 'asof-time', localTime(now));
  asofTime.step = 1;
  const from = input('datetime-local', 'changes-from', `${localDate(new Date(now.getTime() - 30 * 864e5))}T00:00`);
  const to = input('datetime-local', 'changes-to', '');
  for (const i of [from, to]) i.step = 1;
  const btn = (id, key, fn, cls) => el('button', { type: 'button', id, class: cls, 'data-i18n': key, onclick: fn }, t(key));
  const picks = el('div', { class: 'changes-layers', id: 'changes-layers' }, [...layers.values()].map((l) =>
    el('label', { class: 'row' }, el('input', { type: 'checkbox', value: l.id, checked: state.isOn(l.id) }), el('span', null, pick(l)))));
  const legend = el('div', { id: 'changes-legend', class: 'view-legend', hidden: true });
  const banner = el('div', { id: 'asof-banner', class: 'asof-banner', role: 'status', hidden: true },
    el('span', { class: 'text' }), btn('asof-back', 'asofNow', () => setAsOf(null)));
  map.getContainer().append(banner);
  const section = el('section', { id: 'history', class: 'history' },
    el('h2', { 'data-i18n': 'history' }, t('history')),
    el('label', { class: 'block muted', 'data-i18n': 'asofLabel' }, t('asofLabel')),
    el('div', { class: 'history-row' }, asofDate, asofTime, btn('asof-go', 'asofGo', () => setAsOf(instant(asofDate.value, asofTime.value)), 'primary'),
      btn('asof-now', 'asofNow', () => setAsOf(null))),
    el('details', { class: 'changes' },
      el('summary', { 'data-i18n': 'changesLabel' }, t('changesLabel')),
      el('div', { class: 'history-row' }, el('span', { 'data-i18n': 'changesFrom' }), from, el('span', { 'data-i18n': 'changesTo' }), to),
      picks,
      el('div', { class: 'history-row' }, btn('changes-go', 'changesGo', () => showChanges().catch((e) => say(e.message)), 'primary'),
        btn('changes-clear', 'changesClear', () => clearChanges()))),
    legend);
  container.querySelector('#layers').closest('section').before(section);
  applyStatic(section);

  // setAsOf points the tiles at an instant (null: now) and says so.
  function setAsOf(iso) {
    window.vpAsOf = iso;
    reloadTiles(map, (id, tiles) => {
      const now = base.get(id) || tiles;
      return iso ? now.map((u) => `${u}${u.includes('?') ? '&' : '?'}datetime=${encodeURIComponent(iso)}`) : now;
    });
    const u = new URL(location.href);
    if (iso) u.searchParams.set('datetime', iso); else u.searchParams.delete('datetime');
    history.replaceState(null, '', u);
    document.body.classList.toggle('asof', !!iso);
    document.body.dataset.asof = iso || '';
    banner.hidden = !iso;
    renderBanner();
  }
  const renderBanner = () => {
    if (window.vpAsOf) banner.querySelector('.text').textContent = t('asofBanner', { d: shown(window.vpAsOf) });
  };

  const say = (msg) => { legend.replaceChildren(el('p', { class: 'error' }, msg)); legend.hidden = false; };

  // showChanges draws what changed in the chosen layers between the two
  // local date-times (to: now when empty).
  async function showChanges() {
    const chosen = [...picks.querySelectorAll('input:checked')].map((i) => layers.get(i.value));
    const fromIso = new Date(from.value).toISOString();
    const toIso = new Date(Math.min(to.value ? Date.parse(to.value) : Infinity, Date.now())).toISOString();
    const q = `from=${encodeURIComponent(fromIso)}&to=${encodeURIComponent(toIso)}`;
    const res = await Promise.all(chosen.map((l) => getJSON(`collections/${encodeURIComponent(l.id)}/changes?${q}`,
      { headers: { Accept: 'application/geo+json' } }).then((fc) => [l, fc.features || [], null], (e) => [l, [], e])));
    const features = [];
    const old = [];
    for (const [l, fs] of res) {
      for (const f of fs) {
        features.push({ ...f, properties: { change: f.properties.change, layer: l.id } });
        if (f.properties.change === 'modified' && f.properties.old_geometry) {
          old.push({ type: 'Feature', geometry: f.properties.old_geometry, properties: { change: 'old', layer: l.id } });
        }
      }
    }
    draw({ type: 'FeatureCollection', features: [...old, ...features] });
    const count = (fs, k) => fs.filter((f) => f.properties.change === k).length;
    legend.replaceChildren(el('div', null,
      el('h3', null, t('changesLabel')),
      el('ul', { class: 'legend', id: 'changes-kinds' }, KINDS.map((k) => el('li', { dataset: { kind: k.kind, n: count(features, k.kind) } },
        swatch({ kind: 'fill', color: k.color, opacity: 0.6 }), el('span', null, `${t(k.kind)} ${count(features, k.kind)}`))),
      el('li', null, swatch({ kind: 'line', color: '#555', opacity: 1 }), el('span', null, t('oldShape')))),
      features.length ? null : el('p', { class: 'muted' }, t('changesNone')),
      res.map(([l, fs, err]) => (err ? el('p', { class: 'error', dataset: { layer: l.id } }, `${pick(l)}: ${err.message}`)
        : fs.length ? el('p', { dataset: { layer: l.id } }, t('changesCount', { layer: pick(l), a: count(fs, 'added'), m: count(fs, 'modified'), r: count(fs, 'removed') }), ' ',
          el('a', { href: `collections/${encodeURIComponent(l.id)}/changes?${q}&f=gpkg`, class: 'gpkg', download: '' }, 'GeoPackage')) : null))));
    legend.hidden = false;
    document.body.dataset.changes = String(features.length);
    if (features.length) fit(features);
  }

  function draw(data) {
    if (map.getSource(C)) { map.getSource(C).setData(data); return; }
    map.addSource(C, { type: 'geojson', data });
    const color = ['match', ['get', 'change'], ...KINDS.flatMap((k) => [k.kind, k.color]), '#555'];
    const notOld = ['!=', ['get', 'change'], 'old'];
    map.addLayer({ id: `${C}-fill`, type: 'fill', source: C, filter: ['all', ['==', ['geometry-type'], 'Polygon'], notOld],
      paint: { 'fill-color': color, 'fill-opacity': 0.35 } });
    map.addLayer({ id: `${C}-old`, type: 'line', source: C, filter: ['==', ['get', 'change'], 'old'],
      paint: { 'line-color': '#555', 'line-width': 1.5, 'line-dasharray': [2, 2] } });
    map.addLayer({ id: `${C}-line`, type: 'line', source: C, filter: ['all', ['!=', ['geometry-type'], 'Point'], ['in', ['get', 'change'], ['literal', ['added', 'modified']]]],
      paint: { 'line-color': color, 'line-width': 3 } });
    map.addLayer({ id: `${C}-removed`, type: 'line', source: C, filter: ['all', ['!=', ['geometry-type'], 'Point'], ['==', ['get', 'change'], 'removed']],
      paint: { 'line-color': color, 'line-width': 3, 'line-dasharray': [1.5, 1] } });
    map.addLayer({ id: `${C}-point`, type: 'circle', source: C, filter: ['all', ['==', ['geometry-type'], 'Point'], notOld],
      paint: { 'circle-color': color, 'circle-radius': 6, 'circle-stroke-color': '#fff', 'circle-stroke-width': 1.5 } });
  }

  function fit(features) {
    let b = null;
    const walk = (c) => {
      if (typeof c[0] === 'number') { b = b ? [Math.min(b[0], c[0]), Math.min(b[1], c[1]), Math.max(b[2], c[0]), Math.max(b[3], c[1])] : [c[0], c[1], c[0], c[1]]; return; }
      for (const x of c) walk(x);
    };
    for (const f of features) if (f.geometry) walk(f.geometry.coordinates);
    if (b) map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 60, maxZoom: 17, duration: 0 });
  }

  function clearChanges() {
    for (const s of ['fill', 'old', 'line', 'removed', 'point']) if (map.getLayer(`${C}-${s}`)) map.removeLayer(`${C}-${s}`);
    if (map.getSource(C)) map.removeSource(C);
    legend.hidden = true;
    delete document.body.dataset.changes;
  }

  onLangChange(() => { applyStatic(section); applyStatic(banner); renderBanner(); });
  const start = new URLSearchParams(location.search).get('datetime');
  if (start && !Number.isNaN(Date.parse(start))) {
    const d = new Date(start);
    asofDate.value = localDate(d);
    asofTime.value = localTime(d);
    setAsOf(d.toISOString());
  }
  return { setAsOf, showChanges, clearChanges };
}
