// The planners' web map (/map).

import {
  loadBasics, createMap, indexMeta, LayerState, attachPopups, attachCoords, basemapPanel, initChrome, fatal, el, getJSON,
} from './mapcore.js';
import { layerPanel, viewPanel, searchBox } from './panel.js';
import { mapTools } from './tools.js';

async function main() {
  const mapEl = document.getElementById('map');
  let basics;
  try {
    basics = await loadBasics();
  } catch (e) {
    initChrome(null);
    fatal(mapEl, e);
    return;
  }
  const { style, meta } = basics;
  initChrome(meta);
  const layers = indexMeta(meta);
  // Open on the villages unless the address has a map position.
  const bounds = !/^#[\d.]+\//.test(location.hash) && meta.extent
    ? [[meta.extent[0], meta.extent[1]], [meta.extent[2], meta.extent[3]]] : null;
  const map = await createMap(mapEl, style, { hash: true, bounds });
  const state = new LayerState(map, style);
  // A legible first view: the catalog's default layers (meta default_on);
  // the others are one click away.
  for (const l of layers.values()) state.set(l.id, !!l.default_on);
  layerPanel(document.getElementById('layers'), map, meta, layers, state);
  const views = viewPanel(document.getElementById('views'), document.getElementById('view-legend'), map, meta, layers, state);
  searchBox(document.getElementById('search'), document.getElementById('search-results'), map);
  document.getElementById('panel').append(basemapPanel(map));
  // Measure, identify, print; tiles reloaded when a layer changes.
  const tools = mapTools(map, meta, layers, state);
  // No popups while a feature is drawn or edited, or a tool is on.
  attachPopups(map, state, layers, { enabled: () => !window.vpEditing && !window.vpTool });
  attachCoords(map);
  // For the browser tests and the console: the map and the panel state.
  window.vp = { map, state, layers, meta, views, tools };
  // Editing mode only for an account whose role may edit a layer; its
  // code (and terra-draw) is loaded only then.
  const account = await getJSON('account').catch(() => null);
  if (account && account.authenticated) {
    tools.csrf = account.csrf_token;
    views.setSignedIn(true);
    // The map as of a past instant and the changes between two: history,
    // for signed-in users (the server answers 401 to anyone else).
    const hist = await import('./history.js');
    window.vp.history = hist.historyPanel(document.getElementById('panel'), map, meta, layers, state);
    const ed = await import('./edit.js');
    if (ed.editable(meta, account).length) {
      window.vp.edit = ed.editPanel(document.getElementById('panel'), map, meta, layers, state, account);
    }
  }
  document.body.dataset.ready = 'true';
}

main().catch((e) => {
  fatal(document.getElementById('map'), e);
  document.body.append(el('span', { hidden: true, id: 'failed' }));
});
