// The planners' web map (/map).

import {
  loadBasics, createMap, indexMeta, LayerState, attachPopups, attachCoords, basemapPanel, initChrome, fatal, el,
} from './mapcore.js';
import { layerPanel, viewPanel, searchBox } from './panel.js';

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
  layerPanel(document.getElementById('layers'), map, meta, layers, state);
  const views = viewPanel(document.getElementById('views'), document.getElementById('view-legend'), map, meta, layers, state);
  searchBox(document.getElementById('search'), document.getElementById('search-results'), map);
  document.getElementById('panel').append(basemapPanel(map));
  attachPopups(map, state, layers);
  attachCoords(map);
  // For the browser tests and the console: the map and the panel state.
  window.vp = { map, state, layers, meta, views };
  document.body.dataset.ready = 'true';
}

main().catch((e) => {
  fatal(document.getElementById('map'), e);
  document.body.append(el('span', { hidden: true, id: 'failed' }));
});
