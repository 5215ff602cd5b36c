// #/d/{tag}/run/{id} : one run: status, times, agents, hyperparameters, metric summary, charts
// (train vs validation, elapsed time, learning rate), its tasks and its table sets (layers).
import * as api from '../api.js';
import * as live from '../live.js';
import { h, append, clear, errorBox, loading, fmtNum, fmtValue, fmtTime, fmtDuration, statusBadge, resultTable } from '../util.js';
import { href, dfPath } from '../router.js';
import { best, duration, primarySet, orderedEntries } from '../runs-model.js';
import { metricCharts, learningRateChart, chartGroups, xAttr } from '../metrics.js';
import { setSelection, selection } from '../state.js';

export async function render(root, route, ctx) {
  const tag = route.tag;
  const id = Number(route.id);
  root.append(loading('Loading the run…'));
  const [runsAns, sets] = await Promise.all([api.get(`${api.df(tag)}/runs`, { signal: ctx.signal }), api.sets(tag)]);
  live.connect(tag, runsAns.seq);
  let run = (runsAns.runs || []).find((r) => r.id === id);
  clear(root);
  if (!run) {
    root.append(h('div.pad', h('h1', 'No such run'), h('p', `Run ${route.id} is not in dataflow ${tag}. `, h('a', { href: href(dfPath(tag)) }, 'All runs'))));
    return;
  }
  const title = h('h1', run.execution);
  const badgeHost = h('span#run-status');
  const addCmp = h('a.btn', { href: href(dfPath(tag, '/compare'), { runs: [...new Set([...selection(tag), id])] }), title: 'Compare this run with the runs selected in the table' }, 'Compare with selected');
  root.append(h('div.page-head', h('a', { href: href(dfPath(tag)), title: 'All runs' }, '← Runs'), title, badgeHost, addCmp));
  addCmp.addEventListener('click', () => setSelection(tag, [...new Set([...selection(tag), id])]));

  const infoLine = h('p.meta-line#run-info');
  const paramCard = h('section.card#hyperparameters', h('h2', 'Hyperparameters'));
  const metricCard = h('section.card#metric-summary', h('h2', 'Metrics'));
  root.append(infoLine, h('div.two-col', paramCard, metricCard));

  function renderSummary() {
    clear(badgeHost).append(statusBadge(run.status, run.stale));
    const item = (label, v, title) => (v === null || v === undefined || v === '' ? null : h('span.meta', { title: title || null }, h('span.muted', label + ' '), String(v)));
    append(clear(infoLine), [
      item('run', `#${run.id}`), item('started', fmtTime(run.start_time), run.start_time + ' UTC'),
      run.end_time ? item('ended', fmtTime(run.end_time), run.end_time + ' UTC') : null,
      item('duration', fmtDuration(duration(run))), item('last update', fmtTime(run.updated_at), run.updated_at + ' UTC'),
      item('by', [run.user, run.host].filter(Boolean).join('@')), item('script', run.script), item('tasks', run.tasks),
      run.stale ? h('span.meta.warn', 'stale: nothing heard from this run for a while') : null]);
    clear(paramCard).append(h('h2', 'Hyperparameters'));
    const params = Object.entries(run.params || {}).sort((a, b) => Object.keys(b[1]).length - Object.keys(a[1]).length);
    if (!params.length) paramCard.append(h('p.muted', 'None recorded (sets with one row per run appear here).'));
    const wrap = h('div.kv-sets');
    for (const [set, vals] of params) {
      wrap.append(h('table.grid.kv', { dataset: { set } }, h('caption', set), h('tbody', orderedEntries(vals, set, sets).map(([k, v]) => kv(k, fmtValue(v), k)))));
    }
    for (const [set, n] of Object.entries(run.tables || {})) {
      wrap.append(h('table.grid.kv', h('caption', set), h('tbody', kv('rows', n))));
    }
    paramCard.append(wrap);
    clear(metricCard).append(h('h2', 'Metrics'));
    const msets = Object.entries(run.metrics || {}).sort((a, b) => (a[0] === primarySet([run]) ? -1 : b[0] === primarySet([run]) ? 1 : 0));
    if (!msets.length) metricCard.append(h('p.muted', 'No metrics yet.'));
    for (const [set, attrs] of msets) {
      metricCard.append(h('div.table-wrap', h('table.grid', { dataset: { set } }, h('caption', set),
        h('thead', h('tr', ['attribute', 'last', 'best', 'min', 'max', 'count'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', orderedEntries(attrs, set, sets).map(([a, s]) => h('tr', { dataset: { attr: a } },
          h('th', { scope: 'row' }, a), h('td.num', { dataset: { stat: 'last' } }, fmtNum(s.last)), h('td.num', fmtNum(best(a, s))),
          h('td.num', fmtNum(s.min)), h('td.num', fmtNum(s.max)), h('td.num', String(s.count))))))));
    }
  }
  renderSummary();

  // Charts of the main output set; the learning rate when the dataflow adapts it.
  const primary = primarySet([run]) || sets.find((s) => s.producers.length && s.attributes.some((a) => a.type === 'NUMERIC'))?.tag;
  const chartsHost = h('div.cards#run-charts');
  root.append(h('div.section', h('h2', 'Charts'), primary ? null : h('p.muted', 'No metrics to chart yet.')), chartsHost);
  if (primary) {
    const set = sets.find((s) => s.tag === primary);
    const numeric = set.attributes.filter((a) => a.type === 'NUMERIC');
    const x = xAttr(numeric);
    const groups = chartGroups(numeric.filter((a) => a.name !== x));
    metricCharts(chartsHost, { tag, ctx, set: primary, x, runs: [run], groups });
    if (sets.some((s) => s.tag === 'oadaptation')) {
      learningRateChart(chartsHost, { tag, ctx, runs: [run], trainSet: primary, trainX: x });
    }
  }

  // Tasks and the run's table sets (e.g. the layers).
  const tasksCard = h('section.card#run-tasks', h('h2', 'Tasks'), loading());
  const tablesHost = h('div');
  root.append(h('div.section', tasksCard), h('div.section', tablesHost));
  async function loadTasks() {
    try {
      const tasks = await api.get(`${api.df(tag)}/tasks${api.qs({ execution: run.execution })}`, { signal: ctx.signal });
      clear(tasksCard).append(h('h2', 'Tasks'), resultTable(
        ['id', 'identifier', 'transformation', 'status', 'start_time', 'end_time', 'dependencies', 'error'].map((n) => ({ name: n })),
        tasks.map((t) => [t.id, t.identifier, t.transformation, t.status, fmtTime(t.start_time), fmtTime(t.end_time), (t.dependencies || []).join(', '), t.error || ''])));
    } catch (e) { if (e.name !== 'AbortError') clear(tasksCard).append(h('h2', 'Tasks'), errorBox(e, loadTasks)); }
  }
  loadTasks();
  for (const [set, n] of Object.entries(run.tables || {})) {
    const card = h('section.card', { dataset: { set } }, h('h2', `${set} (${n} rows)`), loading());
    tablesHost.append(card);
    api.get(`${api.df(tag)}/sets/${encodeURIComponent(set)}/rows${api.qs({ execution: run.execution, limit: 500 })}`, { signal: ctx.signal })
      .then((ans) => { card.lastChild.replaceWith(resultTable(ans.columns.filter((c) => !/(^id$|_task_id$)/.test(c.name)), ans.rows.map((r) => r.filter((_, i) => !/(^id$|_task_id$)/.test(ans.columns[i].name))))); })
      .catch((e) => { if (e.name !== 'AbortError') card.lastChild.replaceWith(errorBox(e)); });
  }

  ctx.on('run', (r) => {
    if (r.id !== id) return;
    const ended = run.status !== r.status;
    run = r;
    renderSummary();
    if (ended) loadTasks();
  });
  ctx.on('reset', () => ctx.rerender());
}

function kv(k, v, title) {
  return h('tr', { dataset: { key: k } }, h('th', { scope: 'row', title: title || null }, k), h('td', v === null || v === undefined ? '' : String(v)));
}
