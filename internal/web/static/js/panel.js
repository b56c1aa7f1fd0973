// The layer panel: groups as planners think of them (from the catalog),
// a toggle and a legend (from the style) per layer, the thematic views and
// the village search.

import {
  el, t, pick, fmt, getJSON, legendEntries, legendList, swatch, onLangChange, applyStatic,
} from './mapcore.js';

// layerPanel renders the groups into container and keeps the toggles and
// the map in step.
export function layerPanel(container, map, meta, layers, state) {
  const covOn = new Set(); // layers whose coverage outline is drawn
  const covNone = new Set(); // layers found to have no coverage
  const render = () => {
    container.replaceChildren(...meta.groups.map((g) => {
      const rows = g.layers.map((l) => {
        const entries = legendEntries(l, state.byLayer.get(l.id));
        const box = el('input', {
          type: 'checkbox', id: `layer-${l.id}`, checked: state.isOn(l.id), dataset: { layer: l.id },
          onchange: (e) => state.set(l.id, e.target.checked),
        });
        const cov = el('button', {
          type: 'button', class: `coverage-toggle${covOn.has(l.id) ? ' on' : ''}${covNone.has(l.id) ? ' none' : ''}`,
          title: covNone.has(l.id) ? t('noCoverage') : t('coverageOutline'), 'aria-pressed': String(covOn.has(l.id)),
          dataset: { coverage: l.id },
          onclick: (e) => { e.preventDefault(); toggleCoverage(l.id); },
        }, '⬚');
        const head = el('label', { class: 'row', for: `layer-${l.id}` }, box,
          entries.length === 1 ? swatch(entries[0]) : null,
          el('span', { class: 'title' }, pick(l)),
          el('span', { class: 'zoomhint muted', dataset: { minzoom: l.minzoom } }, t('zoomIn', { z: l.minzoom })), cov);
        const legend = entries.length > 1
          ? el('details', { class: 'legend-box', open: entries.length <= 6 }, el('summary', null, t('legend')), legendList(entries))
          : null;
        const range = el('input', {
          type: 'range', class: 'opacity', min: 0, max: 100, step: 5, value: Math.round(state.opacityOf(l.id) * 100),
          title: t('opacity'), 'aria-label': `${pick(l)} ${t('opacity')}`, dataset: { opacity: l.id },
          oninput: (e) => state.setOpacity(l.id, Number(e.target.value) / 100),
        });
        return el('div', { class: 'layer', dataset: { layer: l.id } }, el('div', { class: 'layer-head' }, head, range), legend);
      });
      const groupBox = el('input', {
        type: 'checkbox', class: 'group-toggle', dataset: { group: g.id },
        checked: g.layers.some((l) => state.isOn(l.id)),
        onclick: (e) => e.stopPropagation(),
        onchange: (e) => { for (const l of g.layers) state.set(l.id, e.target.checked); render(); },
      });
      return el('details', { class: 'group', open: true, dataset: { group: g.id } },
        el('summary', null, groupBox, el('span', null, pick(g))), rows);
    }));
    zoomHints();
  };
  // toggleCoverage draws or removes the outline of a layer's coverage
  // (GET collections/{id}/coverage: where its data is complete; siting
  // answers REVIEW 无数据 outside it). A layer without one says so.
  const toggleCoverage = async (id) => {
    const lid = `vp-coverage-${id}`;
    if (covOn.has(id)) {
      covOn.delete(id);
      if (map.getLayer(lid)) map.removeLayer(lid);
      if (map.getSource(lid)) map.removeSource(lid);
      render();
      return;
    }
    try {
      const f = await getJSON(`collections/${encodeURIComponent(id)}/coverage`);
      if (!map.getSource(lid)) map.addSource(lid, { type: 'geojson', data: f });
      if (!map.getLayer(lid)) {
        map.addLayer({ id: lid, type: 'line', source: lid, metadata: { 'villageplan:coverage': id },
          paint: { 'line-color': '#6a3d9a', 'line-width': 2, 'line-dasharray': [3, 2] } });
      }
      covOn.add(id);
      covNone.delete(id);
    } catch (err) {
      if (err.status !== 404) throw err;
      covNone.add(id);
    }
    render();
  };
  const zoomHints = () => {
    const z = map.getZoom();
    for (const h of container.querySelectorAll('.zoomhint')) h.hidden = z >= Number(h.dataset.minzoom);
  };
  map.on('zoomend', zoomHints);
  state.onChange((id, on) => {
    const box = container.querySelector(`input[data-layer="${CSS.escape(id)}"]`);
    if (box) box.checked = on;
    for (const g of meta.groups) {
      const gb = container.querySelector(`input.group-toggle[data-group="${CSS.escape(g.id)}"]`);
      if (gb) gb.checked = g.layers.some((l) => state.isOn(l.id));
    }
  });
  onLangChange(render);
  render();
}

// views renders the thematic views; choosing one shows its layers only,
// raises its focus layer's opacity and draws its overlay.
export function viewPanel(container, legendBox, map, meta, layers, state) {
  let saved = null; // toggles before the first view
  let current = null;
  let signedIn = false;
  const overlayLayer = 'vp-view-overlay';
  const opacityRestore = [];

  const clear = () => {
    for (const [id, prop, v] of opacityRestore.splice(0)) if (map.getLayer(id)) map.setPaintProperty(id, prop, v);
    if (map.getLayer(overlayLayer + '-casing')) map.removeLayer(overlayLayer + '-casing');
    if (map.getLayer(overlayLayer + '-fill')) map.removeLayer(overlayLayer + '-fill');
    if (map.getLayer(overlayLayer)) map.removeLayer(overlayLayer);
    if (map.getSource(overlayLayer)) map.removeSource(overlayLayer);
    legendBox.replaceChildren();
    legendBox.hidden = true;
  };

  const apply = async (v) => {
    clear();
    current = v;
    if (!v) {
      if (saved) for (const [id, on] of saved) state.set(id, on);
      saved = null;
      return;
    }
    if (!saved) saved = new Map(state.visible);
    for (const id of layers.keys()) state.set(id, v.layers.includes(id));
    const focus = layers.get(v.focus);
    for (const sl of state.byLayer.get(v.focus) || []) {
      if (sl.type === 'fill') {
        opacityRestore.push([sl.id, 'fill-opacity', map.getPaintProperty(sl.id, 'fill-opacity')]);
        map.setPaintProperty(sl.id, 'fill-opacity', 0.75);
      }
    }
    const parts = [el('h3', null, pick(v))];
    if (v.note_zh) parts.push(el('p', { class: 'muted' }, pick(v, 'note')));
    if (focus && !v.overlay) parts.push(legendList(legendEntries(focus, state.byLayer.get(focus.id))));
    legendBox.replaceChildren(...parts);
    legendBox.hidden = false;
    if (v.overlay && v.overlay_kind === 'fill') {
      let gj;
      try {
        gj = await getJSON(v.overlay);
      } catch (e) {
        if (current !== v) return;
        legendBox.append(el('p', { class: 'error', id: 'view-error' }, e.status === 403 ? t('viewForbidden') : e.message));
        return;
      }
      if (current !== v) return;
      // Steps of the property; grey where a feature has no value.
      const steps = ['step', ['to-number', ['get', v.overlay_property]], v.overlay_legend[0].color];
      for (const c of v.overlay_legend.slice(1)) steps.push(c.min, c.color);
      map.addSource(overlayLayer, { type: 'geojson', data: gj });
      map.addLayer({ id: overlayLayer + '-fill', type: 'fill', source: overlayLayer,
        paint: { 'fill-color': ['case', ['==', ['get', v.overlay_property], null], '#cccccc', steps], 'fill-opacity': 0.7 } });
      map.addLayer({ id: overlayLayer, type: 'line', source: overlayLayer, paint: { 'line-color': '#333333', 'line-width': 1.5 } });
      legendBox.append(el('ul', { class: 'legend', id: 'view-steps' }, v.overlay_legend.map((c) =>
        el('li', null, swatch({ kind: 'fill', color: c.color, opacity: 0.7 }), el('span', null, pick(c))))));
      return;
    }
    if (v.overlay) {
      const gj = await getJSON(v.overlay);
      if (current !== v) return;
      const match = ['match', ['get', 'class']];
      for (const c of v.overlay_legend) match.push(c.class, c.color);
      match.push('#888');
      map.addSource(overlayLayer, { type: 'geojson', data: gj });
      const before = (state.byLayer.get(v.focus) || []).map((s) => s.id).find((id) => map.getLayer(id));
      const width = ['interpolate', ['linear'], ['zoom'], 11, 2, 14, 4, 17, 9];
      map.addLayer({ id: overlayLayer + '-casing', type: 'line', source: overlayLayer,
        layout: { 'line-cap': 'round', 'line-join': 'round' },
        paint: { 'line-color': '#ffffff', 'line-width': ['+', 2, width] } }, before);
      map.addLayer({ id: overlayLayer, type: 'line', source: overlayLayer,
        layout: { 'line-cap': 'round', 'line-join': 'round' },
        paint: { 'line-color': match, 'line-width': width } }, before);
      legendBox.append(el('ul', { class: 'legend' }, v.overlay_legend.map((c) =>
        el('li', null, swatch({ kind: 'line', color: c.color, opacity: 1 }), el('span', null, pick(c))))));
      if (gj.summary) {
        const s = gj.summary;
        legendBox.append(el('p', { class: 'summary', id: 'coverage-summary' }, t('coverageSummary', {
          total: fmt(s.total_m, 0), lit: fmt(s.lit_m, 0), unlit: fmt(s.unlit_m, 0), share: `${fmt(s.lit_share * 100, 1)}%`,
        })));
      }
      if (focus) legendBox.append(el('h4', null, pick(focus)), legendList(legendEntries(focus, state.byLayer.get(focus.id))));
    }
  };

  const render = () => {
    const radio = (v) => el('label', { class: 'row view' },
      el('input', { type: 'radio', name: 'view', value: v ? v.id : '', checked: (current && v && current.id === v.id) || (!current && !v),
        onchange: () => apply(v).catch((e) => console.error(e)) }),
      el('span', null, v ? pick(v) : t('viewAll')));
    container.replaceChildren(radio(null), ...meta.views.filter((v) => !v.signed_in || signedIn).map(radio));
  };
  onLangChange(() => { render(); if (current) apply(current); });
  render();
  // setSignedIn lists the views that need an account.
  const setSignedIn = (b) => { signedIn = b; render(); };
  return { apply, views: meta.views, setSignedIn };
}

// searchBox wires the village search form: a single hit flies there, more
// hits are listed to choose from.
export function searchBox(form, list, map) {
  const input = form.querySelector('input');
  const fly = (v) => {
    map.fitBounds([[v.bbox[0], v.bbox[1]], [v.bbox[2], v.bbox[3]]], { padding: 40, maxZoom: 16, duration: 800 });
    list.replaceChildren();
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const q = input.value.trim();
    if (!q) return;
    let res;
    try {
      res = await getJSON(`map/villages?q=${encodeURIComponent(q)}&limit=20`);
    } catch (err) {
      list.replaceChildren(el('li', { class: 'error' }, t('loadError') + err.message));
      return;
    }
    const vs = res.villages || [];
    if (vs.length === 1) { fly(vs[0]); return; }
    if (!vs.length) { list.replaceChildren(el('li', { class: 'muted' }, t('searchNone'))); return; }
    list.replaceChildren(...vs.map((v) => el('li', null,
      el('button', { type: 'button', class: 'link', onclick: () => fly(v) }, `${v.name} ${v.code}`))));
  });
  applyStatic(form);
}
