// #/d/{tag}/sql?q=<sql>&type=&x=&y=&group= : the SQL console. Ctrl+Enter runs; errors (a
// writing statement's 403 included) are shown; CSV download; chart the result and save the
// chart to the dashboard.
import * as api from '../api.js';
import { h, clear, fmtMs, errorBox, loading, resultTable, toCSV, download } from '../util.js';
import { href, dfPath, setQuery } from '../router.js';
import { resultChart } from '../charts.js';

export async function render(root, route, ctx) {
  const tag = route.tag;
  const q = route.query;
  const sets = await api.sets(tag).catch(() => []);
  const example = sets.some((s) => s.tag === 'otrainingmodel')
    ? 'select trainingmodel_task_id as model_id, max(accuracy) as accuracy, min(loss) as loss\n  from ds_otrainingmodel group by trainingmodel_task_id'
    : sets.length ? `select * from ${sets[0].table || 'ds_' + sets[0].tag} limit 100` : 'select * from dataflow';
  const area = h('textarea.sql#sql-input', { spellcheck: 'false', 'aria-label': 'SQL statement', placeholder: 'select … (Ctrl+Enter runs)' });
  area.value = q.get('q') || example;
  const runBtn = h('button.btn.primary#sql-run', { type: 'button', title: 'Ctrl+Enter' }, 'Run');
  const limit = h('select#sql-limit', { 'aria-label': 'Row limit' }, [100, 1000, 10000, 100000].map((n) => h('option', { value: n, selected: n === 10000 }, `limit ${n}`)));
  const csvBtn = h('button.btn#sql-csv', { type: 'button', disabled: true }, 'Download CSV');
  const meta = h('p.result-meta#sql-meta', { 'aria-live': 'polite' });
  const resultBox = h('div.result#sql-result');
  const chartPanel = h('section.card#chart-panel', { hidden: true });
  root.append(h('div.page-head', h('h1', 'SQL console'),
    h('span.muted.small', 'One read-only statement on this dataflow’s tables (', h('code', 'ds_<set>'), ') and the global ones (task, dataflow_execution, …).')),
  h('div.section', area, h('div.row-gap', runBtn, limit, csvBtn, h('span.muted.small', 'Ctrl+Enter runs · only reading statements run')), meta, resultBox),
  h('div.section', chartPanel));
  const tables = h('p.small.muted.section', 'Tables: ', sets.map((s, i) => [i ? ', ' : '', h('code', s.table || 'ds_' + s.tag)]));
  root.append(tables);

  let result = null;
  let ranSql = '';
  async function run() {
    const sql = area.value.trim();
    if (!sql) return;
    setQuery({ q: sql });
    runBtn.disabled = true;
    meta.textContent = '';
    clear(resultBox).append(loading('Running…'));
    try {
      result = await api.post('/api/v1/query', { sql, dataflow: tag, limit: Number(limit.value) }, { signal: ctx.signal });
      ranSql = sql;
      meta.textContent = `${result.rows.length} row${result.rows.length === 1 ? '' : 's'} · ${fmtMs(result.elapsed_ms)}${result.truncated ? ` · truncated (${result.limit === 'bytes' ? 'answer size limit' : 'row limit'})` : ''}`;
      clear(resultBox).append(resultTable(result.columns, result.rows));
      resultBox.dataset.rows = String(result.rows.length);
      csvBtn.disabled = false;
      renderChartPanel();
    } catch (e) {
      if (e.name === 'AbortError') return;
      result = null;
      csvBtn.disabled = true;
      delete resultBox.dataset.rows;
      clear(resultBox).append(h('div#sql-error', errorBox(e)));
      chartPanel.hidden = true;
    } finally { runBtn.disabled = false; }
  }
  runBtn.addEventListener('click', run);
  area.addEventListener('keydown', (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') { e.preventDefault(); run(); }
  });
  csvBtn.addEventListener('click', () => { if (result) download(`${tag}-query.csv`, toCSV(result.columns.map((c) => c.name), result.rows)); });

  // -- chart this result -------------------------------------------------------------------
  const spec = { type: q.get('type') || 'line', x: q.get('x') || '', y: (q.get('y') || '').split(',').filter(Boolean), group: q.get('group') || '' };
  function renderChartPanel() {
    chartPanel.hidden = false;
    const names = result.columns.map((c) => c.name);
    const numeric = names.filter((n, i) => result.rows.some((r) => typeof r[i] === 'number'));
    if (!names.includes(spec.x)) spec.x = names[0] || '';
    spec.y = spec.y.filter((y) => numeric.includes(y));
    if (!spec.y.length) spec.y = numeric.filter((n) => n !== spec.x).slice(0, 1);
    if (spec.group && !names.includes(spec.group)) spec.group = '';
    const type = h('select#chart-type', { 'aria-label': 'Chart type' }, ['line', 'bar', 'scatter'].map((t) => h('option', { value: t, selected: t === spec.type }, t)));
    const x = h('select#chart-x', { 'aria-label': 'x' }, names.map((n) => h('option', { value: n, selected: n === spec.x }, n)));
    const group = h('select#chart-group', { 'aria-label': 'Group by' }, h('option', { value: '' }, '(none)'), names.map((n) => h('option', { value: n, selected: n === spec.group }, n)));
    const ys = h('span.group#chart-y', numeric.map((n) => {
      const cb = h('input', { type: 'checkbox', value: n, checked: spec.y.includes(n) });
      cb.addEventListener('change', () => { spec.y = [...ys.querySelectorAll('input:checked')].map((c) => c.value); draw(); });
      return h('label.check', cb, n);
    }));
    type.addEventListener('change', () => { spec.type = type.value; draw(); });
    x.addEventListener('change', () => { spec.x = x.value; draw(); });
    group.addEventListener('change', () => { spec.group = group.value; draw(); });
    const title = h('input#chart-title', { type: 'text', placeholder: 'Chart title', 'aria-label': 'Chart title', value: q.get('title') || '' });
    const save = h('button.btn.primary#chart-save', { type: 'button' }, 'Save to dashboard');
    const saved = h('div#chart-saved', { 'aria-live': 'polite' });
    const box = h('div#console-chart');
    save.addEventListener('click', async () => {
      clear(saved);
      if (!spec.y.length) { saved.append(errorBox(new Error('Choose at least one y column.'))); return; }
      const t = title.value.trim() || `${spec.y.join(', ')} by ${spec.x}${spec.group ? ' per ' + spec.group : ''}`;
      try {
        const c = await api.post('/api/v1/charts', { dataflow: tag, title: t, sql: ranSql, chart: { type: spec.type, x: spec.x, y: spec.y, group: spec.group || undefined } });
        saved.append(h('div.ok-box', 'Saved “', c.title, '”. ', h('a', { href: href(dfPath(tag, '/dashboard')) }, 'Open the dashboard')));
      } catch (e) { saved.append(errorBox(e)); }
    });
    clear(chartPanel).append(h('div.card-head', h('h2', 'Chart this result')),
      h('div.row-gap', h('label', 'type ', type), h('label', 'x ', x), h('span', 'y '), ys, h('label', 'group by ', group)),
      box, h('div.row-gap', title, save), saved);
    async function draw() {
      setQuery({ type: spec.type, x: spec.x, y: spec.y.join(','), group: spec.group });
      if (!spec.y.length) { clear(box).append(h('p.muted', 'Choose a y column.')); return; }
      try { await resultChart(box, result, spec); } catch (e) { clear(box).append(errorBox(e)); }
    }
    draw();
  }
  await run();
}
