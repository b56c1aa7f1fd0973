// The 考核评估 dashboard (/assessment): a year's ranking as a bar chart,
// the villages coloured by score (ECharts map of
// assessment/villages.geojson), the scores of the closed years and the
// running one, the ranking table with each village's PDF sheet, the
// .xlsx export, and for the administrator the weights of the year and
// closing it. Charts: Apache ECharts, vendored (window.echarts).

import { el } from './mapcore.js';
import { api, loadAccount, has } from './session.js';

const $ = (id) => document.getElementById(id);
const charts = {};
const fmt = (v) => (v == null ? '—' : Number(v).toFixed(2).replace(/\.?0+$/, ''));

function chart(id) {
  if (!charts[id]) charts[id] = window.echarts.init($(id));
  return charts[id];
}

function showError(e) {
  const box = $('error');
  if (!e) { box.hidden = true; return; }
  const b = e.body || {};
  box.replaceChildren(el('strong', null, b.description_zh || e.message), b.description ? el('code', null, ' ' + b.description) : null);
  box.hidden = false;
}

function colour(score) {
  if (score == null) return '#cccccc';
  if (score >= 80) return '#1a9850';
  if (score >= 60) return '#91cf60';
  if (score >= 40) return '#fee08b';
  return '#d73027';
}

function drawRank(res) {
  const vs = res.villages.filter((v) => v.score != null).slice().reverse();
  chart('chart-rank').setOption({
    animation: false,
    grid: { left: 70, right: 40, top: 10, bottom: 24 },
    xAxis: { type: 'value', min: 0, max: 100 },
    yAxis: { type: 'category', data: vs.map((v) => v.name || v.village) },
    tooltip: { trigger: 'axis' },
    series: [{ type: 'bar', name: '得分', data: vs.map((v) => ({ value: v.score, itemStyle: { color: colour(v.score) } })),
      label: { show: true, position: 'right', formatter: (p) => fmt(p.value) } }],
  }, true);
}

function drawMap(gj, res) {
  window.echarts.registerMap('vp-villages', gj);
  const data = gj.features.map((f) => ({ name: f.properties.xzqdm, value: f.properties.score, label: f.properties.name }));
  chart('chart-map').setOption({
    animation: false,
    tooltip: { trigger: 'item', formatter: (p) => `${(p.data && p.data.label) || p.name}：${fmt(p.value)} 分` },
    visualMap: { min: 0, max: 100, left: 'left', bottom: 10, text: ['100', '0'], calculable: true,
      inRange: { color: ['#d73027', '#fee08b', '#1a9850'] } },
    series: [{ type: 'map', map: 'vp-villages', nameProperty: 'xzqdm', roam: true, data,
      label: { show: true, formatter: (p) => `${(p.data && p.data.label) || ''}\n${fmt(p.value)}`, fontSize: 11 },
      emphasis: { label: { show: true } } }],
  }, true);
  $('chart-map').dataset.features = String(gj.features.length);
}

function drawYears(hist) {
  chart('chart-years').setOption({
    animation: false,
    grid: { left: 40, right: 20, top: 30, bottom: 24 },
    legend: { type: 'scroll', top: 0 },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'category', data: hist.years.map(String) },
    yAxis: { type: 'value', min: 0, max: 100 },
    series: hist.villages.map((v) => ({ type: 'line', name: v.name || v.village, showSymbol: true, symbolSize: 8,
      data: hist.years.map((y) => { const s = v.years.find((x) => x.year === y); return s ? s.score : null; }) })),
  }, true);
}

function drawTable(res) {
  const prev = res.previous_year ? `${res.previous_year} 年` : '上年';
  const head = el('tr', null, ...['排名', '村', '得分', prev, '变化', '评估表'].map((h) => el('th', null, h)));
  const rows = res.villages.map((v) => el('tr', { dataset: { village: v.village } },
    el('td', { class: 'num' }, v.rank ? String(v.rank) : '—'),
    el('td', null, v.name || v.village),
    el('td', { class: 'num' }, fmt(v.score)),
    el('td', { class: 'num' }, v.prev_score == null ? '—' : `${fmt(v.prev_score)}（第 ${v.prev_rank} 名）`),
    el('td', { class: 'num ' + (v.change > 0 ? 'up' : v.change < 0 ? 'down' : '') }, v.change == null ? '—' : (v.change > 0 ? '+' : '') + fmt(v.change)),
    el('td', null, el('a', { href: `assessment/villages/${v.village}/sheet?year=${res.year}`, target: '_blank' }, 'PDF'))));
  $('table').replaceChildren(head, ...rows);
  const src = res.default_weights ? '默认权重（管理员尚未设置）' : '管理员设置的权重';
  $('weights-note').textContent = `${src}：` + res.keys.map((k) => {
    const w = res.weights.find((x) => x.key === k.key);
    return `${k.title_zh} ${w ? w.weight : 0}`;
  }).join('，') + '。单项得分与总分的算法见导出的 .xlsx（权重表）。';
}

async function drawWeights(year, closed) {
  const card = $('weights-card');
  if (!has('admin')) { card.hidden = true; return; }
  card.hidden = false;
  const [keys, ws] = await Promise.all([api('assessment/keys'), api(`assessment/weights/${year}`)]);
  const cur = Object.fromEntries(ws.weights.map((w) => [w.key, w.weight]));
  $('weights').replaceChildren(...keys.keys.flatMap((k) => [
    el('label', { for: 'w-' + k.key }, `${k.title_zh}（${k.unit}${k.higher_is_better ? '，越高越好' : '，越低越好'}）`),
    el('input', { id: 'w-' + k.key, type: 'number', min: '0', max: '1000', step: 'any', value: String(cur[k.key] || 0), disabled: closed, dataset: { key: k.key } })]));
  $('save-weights').disabled = closed;
}

async function load() {
  showError(null);
  const year = $('year').value;
  $('xlsx').href = `assessment/results?year=${year}&f=xlsx`;
  try {
    const [res, gj, hist] = await Promise.all([api(`assessment/results?year=${year}`),
      api(`assessment/villages.geojson?year=${year}`), api(`assessment/history?year=${year}`)]);
    $('state').textContent = res.closed ? `已结束（${res.closed_by} 于 ${new Date(res.closed_at).toLocaleDateString('zh-CN')} 结束），指标截至 ${res.as_of}`
      : `进行中：按当前数据计算，指标截至 ${res.as_of}`;
    $('state').className = 'state' + (res.closed ? ' closed' : '');
    drawRank(res);
    drawMap(gj, res);
    drawYears(hist);
    drawTable(res);
    $('close-year').hidden = !has('admin') || res.closed;
    await drawWeights(year, res.closed);
    document.body.dataset.year = year;
    document.body.dataset.ready = 'true';
  } catch (e) {
    showError(e);
  }
}

async function init() {
  await loadAccount();
  const y = new Date().getFullYear();
  $('year').append(...[y, y - 1, y - 2, y - 3].map((x) => el('option', { value: String(x) }, `${x} 年`)));
  const want = new URLSearchParams(location.search).get('year');
  if (want) $('year').value = want;
  $('year').addEventListener('change', load);
  $('save-weights').addEventListener('click', async () => {
    const weights = [...$('weights').querySelectorAll('input')].map((i) => ({ key: i.dataset.key, weight: Number(i.value) }));
    try {
      await api(`assessment/weights/${$('year').value}`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ weights }) });
      $('saved').textContent = '已保存';
      await load();
    } catch (e) { showError(e); }
  });
  $('close-year').addEventListener('click', async () => {
    if (!confirm(`结束 ${$('year').value} 年度考核后，结果与权重不再改变。继续？`)) return;
    try { await api(`assessment/years/${$('year').value}/close`, { method: 'POST' }); await load(); } catch (e) { showError(e); }
  });
  window.addEventListener('resize', () => Object.values(charts).forEach((c) => c.resize()));
  await load();
}

init();
