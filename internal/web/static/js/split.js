// Split on the web map (loaded by edit.js on first use): the planner
// draws a line across the loaded polygon or line feature; PostGIS cuts it
// (POST collections/{id}/items/{fid}/split with If-Match, one changeset:
// the largest part keeps the feature, the others are new features with
// its attributes). A layer with unique fields (宗地代码 …) asks for the new
// part's values; refusals (topology, 412, a line that does not cross) are
// shown in the panel.

import { el, t, pick } from './mapcore.js';

export function startSplit(x) {
  const { map, draw, layer, cur, csrf, say, form, errPopup } = x;
  if (!cur || !cur.fid) return;
  errPopup.remove();
  x.mode('split');
  window.vpEditing = true;
  draw.setMode('linestring');
  say(t('editSplitHint'));
  const onFinish = (id, ctx) => {
    if (ctx.mode !== 'linestring' || x.mode() !== 'split') return;
    draw.off('finish', onFinish);
    const line = draw.getSnapshotFeature(id).geometry;
    // Leave the drawing mode once terra-draw has finished the line.
    setTimeout(() => { draw.setMode('static'); showForm(line); });
  };
  draw.on('finish', onFinish);

  // The split's own form (the attribute form stays as it is, hidden).
  const sf = el('form', { id: 'split-form', class: 'edit-form' });
  function showForm(line) {
    const unique = layer.fields.filter((f) => f.unique);
    form.hidden = true;
    form.after(sf);
    sf.replaceChildren(
      ...unique.map((f) => el('label', { class: 'field', dataset: { field: f.name } },
        el('span', { class: 'name' }, t('editSplitKey', { field: pick(f) }), f.required ? el('b', { class: 'req' }, ' *') : null),
        el('input', { type: 'text', name: f.name, required: f.required, maxlength: f.max_length || null }))),
      el('button', { type: 'submit', id: 'split-save' }, t('editSplitGo')));
    sf.onsubmit = (e) => { e.preventDefault(); send(line).catch((err) => say(err.message, 'error')); };
  }

  async function send(line) {
    const props = {};
    for (const f of layer.fields) {
      const i = sf.elements[f.name];
      if (i && i.value.trim()) props[f.name] = i.value.trim();
    }
    const r = await fetch(`collections/${encodeURIComponent(layer.id)}/items/${cur.fid}/split`, { method: 'POST',
      headers: { 'Content-Type': 'application/geo+json', Accept: 'application/json', 'If-Match': cur.etag, 'X-CSRF-Token': csrf },
      body: JSON.stringify({ type: 'Feature', geometry: line, properties: props }) });
    const body = await r.json().catch(() => null);
    if (r.ok) sf.remove();
    if (r.status === 202) { await x.done([t('editProposed'), ` (${t('editChangeset')} ${body.id})`], 'ok proposed'); return; }
    if (r.ok) {
      const ids = body.features.map((f) => f.feature_id);
      document.body.dataset.editSplit = ids.join(',');
      await x.done(t('editSplitDone', { n: ids.length, ids: ids.join('、') }), 'ok');
      return;
    }
    for (const b of sf.querySelectorAll('.bad')) b.classList.remove('bad');
    const f = body && body.field && sf.querySelector(`[data-field="${CSS.escape(body.field)}"]`);
    if (f) f.classList.add('bad');
    say(el('span', { id: 'split-error', dataset: { code: (body && body.code) || String(r.status) } },
      body ? pick(body, 'description') || body.description : `${r.status} ${r.statusText}`), 'error');
  }
}
