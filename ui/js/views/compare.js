// #/d/{tag}/compare?runs=1,2,3&y=loss,accuracy&set=otrainingmodel&pair=0 : one chart per
// metric, one series per run (validation twins dashed on the same chart), live.
import * as api from '../api.js';
import * as live from '../live.js';
import { h, clear, loading } from '../util.js';
import { href, dfPath, setQuery } from '../router.js';
import { primarySet, runLabel } from '../runs-model.js';
import { metricCharts, learningRateChart, chartGroups, xAttr } from '../metrics.js';
import { color } from '../charts.js';
import { selection, setSelection } from '../state.js';

export async function render(root, route, ctx) {
  const tag = route.tag;
  const q = route.query;
  let ids = (q.get('runs') || '').split(',').filter(Boolean).map(Number);
  if (!ids.length) ids = selection(tag);
  root.append(loading('Loading runs…'));
  const [ans, sets] = await Promise.all([api.get(`${api.df(tag)}/runs`, { signal: ctx.signal }), api.sets(tag)]);
  live.connect(tag, ans.seq);
  const all = ans.runs || [];
  clear(root);
  root.append(h('div.page-head', h('h1', 'Compare runs')));
  if (!ids.length) {
    root.append(h('div.pad', h('div.empty', h('h2', 'No runs selected'),
      h('p', 'Select runs with the checkboxes of the ', h('a', { href: href(dfPath(tag)) }, 'runs table'), ', then press Compare.'),
      all.length ? h('p', h('a.btn', { href: href(dfPath(tag, '/compare'), { runs: all.slice(-5).map((r) => r.id) }) }, `Compare the ${Math.min(5, all.length)} latest runs`)) : null)));
    return;
  }
  const runs = ids.map((id) => all.find((r) => r.id === id)).filter(Boolean).slice(0, 100);
  const missing = ids.filter((id) => !all.some((r) => r.id === id));
  setSelection(tag, runs.map((r) => r.id));

  const outSets = sets.filter((s) => s.producers.length && s.attributes.some((a) => a.type === 'NUMERIC'));
  const setTag = q.get('set') && outSets.some((s) => s.tag === q.get('set')) ? q.get('set') : (primarySet(runs) || outSets[0]?.tag);
  const set = outSets.find((s) => s.tag === setTag);
  const numeric = set ? set.attributes.filter((a) => a.type === 'NUMERIC') : [];
  const x = q.get('x') === 'step' ? null : (q.get('x') && numeric.some((a) => a.name === q.get('x')) ? q.get('x') : xAttr(numeric));
  const candidates = numeric.filter((a) => a.name !== x);
  const pair = q.get('pair') !== '0';
  const defaultY = candidates.filter((a) => !a.name.startsWith('val_')).map((a) => a.name).slice(0, 4);
  const ys = q.get('y') ? q.get('y').split(',').filter((y) => candidates.some((a) => a.name === y)) : defaultY;

  // Controls: runs (chips), set, x, y attributes, pairing.
  const chips = h('div.group#compare-runs', h('span.lbl', 'Runs'), runs.map((r, i) => h('span.chip', { dataset: { run: String(r.id) } },
    h('span.swatch', { style: { background: color(i) } }),
    h('a', { href: href(dfPath(tag, '/run/' + r.id)), title: r.execution }, runLabel(r, runs)),
    h('button', { type: 'button', 'aria-label': `Remove ${r.execution} from the comparison`, title: 'Remove', onclick: () => { location.hash = href(dfPath(tag, '/compare'), { ...Object.fromEntries(q), runs: runs.filter((o) => o.id !== r.id).map((o) => o.id) }); } }, '×'))),
    h('a.btn.small', { href: href(dfPath(tag), { sel: runs.map((r) => r.id) }) }, 'Change selection'));
  const setSel = h('select#compare-set', { 'aria-label': 'Dataset' }, outSets.map((s) => h('option', { value: s.tag, selected: s.tag === setTag }, s.tag)));
  setSel.addEventListener('change', () => { location.hash = href(dfPath(tag, '/compare'), { runs: ids, set: setSel.value }); });
  const xSel = h('select#compare-x', { 'aria-label': 'X axis' }, h('option', { value: 'step', selected: !x }, 'step (row index)'),
    numeric.map((a) => h('option', { value: a.name, selected: a.name === x }, a.name)));
  xSel.addEventListener('change', () => { location.hash = href(dfPath(tag, '/compare'), { ...Object.fromEntries(q), runs: ids, x: xSel.value }); });
  const yBoxes = h('div.group#compare-y', h('span.lbl', 'Metrics'), candidates.filter((a) => !(pair && a.name.startsWith('val_') && candidates.some((b) => b.name === a.name.slice(4)))).map((a) => {
    const cb = h('input', { type: 'checkbox', value: a.name, checked: ys.includes(a.name) });
    cb.addEventListener('change', () => {
      const next = [...yBoxes.querySelectorAll('input:checked')].map((c) => c.value);
      location.hash = href(dfPath(tag, '/compare'), { ...Object.fromEntries(q), runs: ids, y: next.length ? next : 'none' });
    });
    return h('label.check', cb, a.name);
  }));
  const pairBox = h('input#compare-pair', { type: 'checkbox', checked: pair });
  pairBox.addEventListener('change', () => { location.hash = href(dfPath(tag, '/compare'), { ...Object.fromEntries(q), runs: ids, pair: pairBox.checked ? '' : '0' }); });
  root.append(h('div.controls', chips),
    h('div.controls', h('label.group', h('span.lbl', 'Dataset'), setSel), h('label.group', h('span.lbl', 'x'), xSel), yBoxes,
      h('label.check', pairBox, 'train vs validation on one chart')));
  if (missing.length) root.append(h('p.pad.muted', `Not found in ${tag}: run ${missing.join(', ')}.`));
  if (!q.get('runs')) setQuery({ runs: runs.map((r) => r.id).join(',') });

  const host = h('div.cards#compare-charts');
  root.append(host);
  if (!set) { host.append(h('p.muted.pad', 'No numeric output sets to chart.')); return; }
  const groups = chartGroups(candidates, { pair, only: ys });
  metricCharts(host, { tag, ctx, set: setTag, x, runs, groups });
  if (sets.some((s) => s.tag === 'oadaptation') && setTag === primarySet(runs)) {
    learningRateChart(host, { tag, ctx, runs, trainSet: setTag, trainX: x });
  }
  ctx.on('reset', () => ctx.rerender());
}
