// #/d/{tag} : the runs table. State in the URL: sort, f (filter), cols, mv (metric values:
// last | best | both), sel (selected run ids). Live `run` events update rows in place.
import * as api from '../api.js';
import * as live from '../live.js';
import { h, clear, errorBox, loading, fmtNum, fmtValue, fmtTime, fmtDuration, statusBadge, debounce, perFrame, parseTime } from '../util.js';
import { href, dfPath, setQuery } from '../router.js';
import { VirtualTable } from '../table.js';
import { compile, FilterError } from '../filter.js';
import { FIXED, catalogue, primarySet, getParam, getTable, getStat, duration } from '../runs-model.js';
import { instrumentHelp } from './dataflows.js';
import { setSelection } from '../state.js';

const DEFAULT_FIXED = ['status', 'execution', 'start', 'duration'];

export async function render(root, route, ctx) {
  const tag = route.tag;
  const q = route.query;
  const state = {
    sort: q.get('sort') || '-start',
    filter: q.get('f') || '',
    cols: q.get('cols') ? q.get('cols').split(',').filter(Boolean) : null,
    mv: ['last', 'best', 'both'].includes(q.get('mv')) ? q.get('mv') : 'last',
    sel: new Set((q.get('sel') || '').split(',').filter(Boolean).map(Number)),
  };
  let runs = [];
  let specSets = [];
  const byId = new Map();
  let cat = { params: [], tables: [], metrics: [] };
  let primary = null;
  let skew = 0; // server clock - our clock (ms)
  let staleAfter = 300;
  let predicate = () => true;
  let shown = [];

  const head = h('div.page-head', h('h1', 'Runs ', h('span.muted.small#run-count')));
  const filterInput = h('input#run-filter.filter', {
    type: 'search', value: state.filter, spellcheck: 'false', autocomplete: 'off',
    placeholder: 'Filter: optimizer_name=adam OR optimizer_name=nadam · accuracy>0.9 AND epoch>=5 · loss:0.1..0.5 · text',
    'aria-label': 'Filter runs', 'aria-describedby': 'filter-msg',
  });
  const filterMsg = h('span#filter-msg.filter-msg', { 'aria-live': 'polite' });
  const mvSelect = h('select#metric-mode', { 'aria-label': 'Metric values shown' },
    ['last', 'best', 'both'].map((m) => h('option', { value: m, selected: m === state.mv }, { last: 'Metrics: last value', best: 'Metrics: best value', both: 'Metrics: last and best' }[m])));
  const colsBox = h('details.dropdown#col-chooser', h('summary.btn', 'Columns'), h('div.dropdown-panel'));
  const compareBtn = h('a.btn.primary#compare-btn', { href: '#', 'aria-disabled': 'true' }, 'Compare');
  const clearSel = h('button.btn#clear-sel', { type: 'button' }, 'Clear selection');
  const toolbar = h('div.toolbar', h('div.filter-wrap', filterInput, filterMsg), mvSelect, colsBox, compareBtn, clearSel);
  const tableHost = h('div.table-host');
  root.append(head, toolbar, tableHost);
  tableHost.append(loading('Loading runs…'));

  const table = new VirtualTable({
    label: 'Runs', rowHeight: 32, rowKey: (r) => r.id,
    rowClass: (r) => (state.sel.has(r.id) ? 'selected' : null),
    onSort: (key) => {
      state.sort = state.sort === '-' + key ? key : state.sort === key ? '-' + key : (isNumCol(key) ? '-' + key : key);
      setQuery({ sort: state.sort });
      buildColumns();
      recompute();
    },
  });
  ctx.cleanup(() => table.destroy());

  // -- columns ------------------------------------------------------------------------------
  let colIndex = new Map(); // key -> column (for sorting/filtering)

  function allColumnDefs() {
    const defs = [];
    for (const f of FIXED) {
      defs.push({ ...f, group: 'Run', get: f.key === 'duration' ? (r) => duration(r, skew) : f.get });
    }
    const attrCount = new Map();
    for (const p of cat.params) attrCount.set(p.attr, (attrCount.get(p.attr) || 0) + 1);
    for (const p of cat.params) {
      const label = attrCount.get(p.attr) > 1 ? `${p.set}.${p.attr}` : p.attr;
      defs.push({ key: `p:${p.set}.${p.attr}`, label, title: `hyperparameter ${p.set}.${p.attr}`, group: `Hyperparameters: ${p.set}`, width: fit(label, 72, 170), get: getParam(p.set, p.attr), param: true });
    }
    for (const t of cat.tables) {
      defs.push({ key: `t:${t}`, label: t, sub: 'rows', title: `rows of ${t} in the run`, group: 'Tables', width: fit(t, 70, 130), num: true, get: getTable(t) });
    }
    const mcount = new Map();
    for (const m of cat.metrics) mcount.set(m.attr, (mcount.get(m.attr) || 0) + 1);
    for (const m of cat.metrics) {
      const label = m.set === primary || mcount.get(m.attr) === 1 ? m.attr : `${m.set}.${m.attr}`;
      for (const stat of ['last', 'best']) {
        defs.push({ key: `${stat}:${m.set}.${m.attr}`, base: `m:${m.set}.${m.attr}`, stat, label, sub: stat === 'best' ? bestSub(m.attr) : 'last', title: `${m.set}.${m.attr}, ${stat === 'best' ? 'best value (' + bestSub(m.attr) + ')' : 'last value'}`, group: `Metrics: ${m.set}`, width: fit(label, 86, 140), num: true, get: getStat(m.set, m.attr, stat) });
      }
    }
    return defs;
  }

  function defaultCols() {
    const out = [...DEFAULT_FIXED];
    const mainParams = cat.params.length ? cat.params[0].set : null; // the biggest set of hyperparameters
    for (const p of cat.params) if (p.set === mainParams) out.push(`p:${p.set}.${p.attr}`);
    for (const m of cat.metrics) if (m.set === primary) out.push(`m:${m.set}.${m.attr}`);
    return out;
  }

  function buildColumns() {
    const defs = allColumnDefs();
    colIndex = new Map(defs.map((d) => [d.key, d]));
    const chosen = state.cols || defaultCols();
    const visible = [];
    for (const k of chosen) {
      if (k.startsWith('m:')) {
        for (const stat of state.mv === 'both' ? ['last', 'best'] : [state.mv]) {
          const d = colIndex.get(`${stat}:${k.slice(2)}`);
          if (d) visible.push(d);
        }
      } else if (colIndex.has(k)) visible.push(colIndex.get(k));
    }
    const [sk, desc] = state.sort.startsWith('-') ? [state.sort.slice(1), true] : [state.sort, false];
    const selectAll = h('input#select-all', { type: 'checkbox', 'aria-label': 'Select all shown runs', title: 'Select all shown runs' });
    selectAll.addEventListener('change', () => {
      for (const r of shown) { if (selectAll.checked) state.sel.add(r.id); else state.sel.delete(r.id); }
      selChanged(true);
    });
    const columns = [{ key: '_sel', label: '', width: 38, sortable: false, sticky: true, headerNode: selectAll, render: (r) => checkbox(r) }];
    let leading = true; // the first run columns (status, name) stay in view when scrolling sideways
    for (const d of visible) {
      leading = leading && (d.key === 'status' || d.key === 'execution');
      columns.push({ ...d, sticky: leading, render: (r) => cell(d, r) });
    }
    table.setColumns(columns, { key: sk, desc });
    renderChooser(defs, chosen);
  }

  function checkbox(r) {
    const cb = h('input.sel', { type: 'checkbox', checked: state.sel.has(r.id), 'aria-label': `Select run ${r.execution}`, dataset: { run: String(r.id) } });
    cb.addEventListener('change', () => { if (cb.checked) state.sel.add(r.id); else state.sel.delete(r.id); selChanged(false, cb); });
    return cb;
  }

  function cell(d, r) {
    switch (d.key) {
      case 'status': return statusBadge(r.status, isStale(r));
      case 'execution': return h('a.run-link', { href: href(dfPath(tag, '/run/' + r.id)), title: r.execution }, r.execution || `#${r.id}`);
      case 'start': case 'end': case 'updated': {
        const t = d.get(r);
        return h('span', { title: t ? t + ' UTC' : '' }, fmtTime(t, { short: true }));
      }
      case 'duration': return fmtDuration(d.get(r));
    }
    const v = d.get(r);
    if (d.stat) {
      const s = r.metrics?.[d.key.slice(d.key.indexOf(':') + 1).split('.')[0]];
      void s;
      return h('span', { title: v === null ? '' : String(v) }, fmtNum(v));
    }
    return h('span', { title: v === null ? '' : String(v) }, fmtValue(v));
  }

  function renderChooser(defs, chosen) {
    const panel = colsBox.querySelector('.dropdown-panel');
    clear(panel);
    const chosenSet = new Set(chosen);
    const groups = new Map();
    for (const d of defs) {
      const key = d.base || d.key;
      if (d.stat === 'best') continue;
      if (!groups.has(d.group)) groups.set(d.group, []);
      groups.get(d.group).push({ key, label: d.label });
    }
    for (const [g, items] of groups) {
      panel.append(h('fieldset', h('legend', g), items.map((it) => {
        const cb = h('input', { type: 'checkbox', checked: chosenSet.has(it.key), value: it.key });
        cb.addEventListener('change', () => {
          const cur = state.cols || defaultCols();
          state.cols = cb.checked ? [...cur.filter((k) => k !== it.key), it.key] : cur.filter((k) => k !== it.key);
          setQuery({ cols: state.cols.join(',') });
          buildColumns();
        });
        return h('label.check', cb, ' ', it.label);
      })));
    }
    panel.append(h('div.row-gap', h('button.btn.small', { type: 'button', onclick: () => { state.cols = null; setQuery({ cols: '' }); buildColumns(); } }, 'Default columns')));
  }

  const fit = (label, min, max) => Math.max(min, Math.min(max, Math.round(String(label).length * 7.6 + 24)));
  const bestSub = (attr) => (/loss|error|err$|time|mse|mae|perplexity|latency|duration/i.test(attr) ? 'best ↓' : 'best ↑');
  const isNumCol = (key) => { const d = colIndex.get(key); return !!(d && d.num); };
  const isStale = (r) => {
    if (r.stale) return true;
    if (r.status !== 'RUNNING') return false;
    const u = parseTime(r.updated_at);
    return !!u && (Date.now() + skew - u.getTime()) / 1000 > staleAfter;
  };

  // -- filtering and sorting ----------------------------------------------------------------
  const fixedNames = { id: 'id', run: 'execution', execution: 'execution', name: 'execution', status: 'status', user: 'user', host: 'host', script: 'script', start: 'start', start_time: 'start', end: 'end', end_time: 'end', duration: 'duration', tasks: 'tasks', updated: 'updated', updated_at: 'updated' };
  function resolve(name) {
    const n = name.toLowerCase();
    if (fixedNames[n]) {
      const d = colIndex.get(fixedNames[n]);
      return n === 'status' ? (r) => (isStale(r) ? 'stale' : r.status) : d.get;
    }
    const p = cat.params.find((x) => x.attr === n || `${x.set}.${x.attr}` === n);
    if (p) return getParam(p.set, p.attr);
    const m1 = n.match(/^(last|best|min|max|count)\.(.+)$/);
    const stat = m1 ? m1[1] : 'last';
    const rest = m1 ? m1[2] : n;
    const m = cat.metrics.find((x) => x.set === primary && x.attr === rest) || cat.metrics.find((x) => x.attr === rest || `${x.set}.${x.attr}` === rest);
    if (m) return getStat(m.set, m.attr, stat);
    const t = cat.tables.find((x) => x === n || `${x}.rows` === n);
    if (t) return getTable(t);
    return null;
  }
  function haystack(r) {
    if (r._text === undefined) {
      const parts = [r.execution, r.status, r.user, r.host, r.script, String(r.id)];
      for (const vals of Object.values(r.params || {})) for (const v of Object.values(vals)) if (typeof v === 'string') parts.push(v);
      r._text = parts.filter(Boolean).join(' \u0000 ').toLowerCase();
    }
    return r._text;
  }
  function setFilter(text) {
    try {
      predicate = compile(text, resolve, haystack);
      filterMsg.textContent = '';
      filterInput.removeAttribute('aria-invalid');
    } catch (e) {
      if (!(e instanceof FilterError)) throw e;
      filterMsg.textContent = e.message;
      filterInput.setAttribute('aria-invalid', 'true');
      predicate = null; // keep the last good result? show nothing wrong: keep all
    }
  }

  function sortRuns(list) {
    const desc = state.sort.startsWith('-');
    const key = desc ? state.sort.slice(1) : state.sort;
    const d = colIndex.get(key) || colIndex.get(`last:${key.replace(/^m:/, '')}`) || colIndex.get('start');
    const get = d.key === 'status' ? (r) => (isStale(r) ? 'STALE' : r.status) : d.get;
    const dir = desc ? -1 : 1;
    const keyed = list.map((r) => [get(r), r]);
    keyed.sort((a, b) => {
      const x = a[0], y = b[0];
      const xn = x === null || x === undefined || x === '', yn = y === null || y === undefined || y === '';
      if (xn || yn) return xn && yn ? b[1].id - a[1].id : xn ? 1 : -1; // empty values last, either way
      if (typeof x === 'number' && typeof y === 'number') return (x - y) * dir || (b[1].id - a[1].id);
      const c = String(x).localeCompare(String(y), undefined, { numeric: true });
      return c * dir || (b[1].id - a[1].id);
    });
    return keyed.map((k) => k[1]);
  }

  const recompute = perFrame(() => {
    const filtered = predicate ? runs.filter(predicate) : runs;
    shown = sortRuns(filtered);
    table.setRows(shown);
    document.getElementById('run-count').textContent =
      shown.length === runs.length ? `${runs.length} run${runs.length === 1 ? '' : 's'}` : `${shown.length} of ${runs.length} runs`;
    table.el.dataset.shown = String(shown.length);
    updateSelectAll();
  });

  function updateSelectAll() {
    const sa = document.getElementById('select-all');
    if (!sa) return;
    const n = shown.filter((r) => state.sel.has(r.id)).length;
    sa.checked = n > 0 && n === shown.length;
    sa.indeterminate = n > 0 && n < shown.length;
  }

  function selChanged(all, cbEl) {
    const ids = [...state.sel].sort((a, b) => a - b);
    setSelection(tag, ids);
    setQuery({ sel: ids.join(',') });
    compareBtn.textContent = ids.length ? `Compare ${ids.length} run${ids.length === 1 ? '' : 's'}` : 'Compare';
    compareBtn.href = ids.length ? href(dfPath(tag, '/compare'), { runs: ids }) : '#';
    compareBtn.setAttribute('aria-disabled', ids.length ? 'false' : 'true');
    const tab = document.querySelector('#tabs a[data-tab=compare]');
    if (tab) tab.href = ids.length ? compareBtn.href : href(dfPath(tag, '/compare'));
    clearSel.disabled = !ids.length;
    if (all) table.refresh(true);
    else if (cbEl) cbEl.closest('.vt-row')?.classList.toggle('selected', cbEl.checked);
    updateSelectAll();
  }
  compareBtn.addEventListener('click', (e) => { if (!state.sel.size) e.preventDefault(); });
  clearSel.addEventListener('click', () => { state.sel.clear(); selChanged(true); });

  filterInput.addEventListener('input', debounce(() => {
    state.filter = filterInput.value;
    setQuery({ f: state.filter });
    setFilter(state.filter);
    if (predicate) recompute();
  }, 120));
  mvSelect.addEventListener('change', () => { state.mv = mvSelect.value; setQuery({ mv: state.mv === 'last' ? '' : state.mv }); buildColumns(); });
  document.addEventListener('click', closeChooser);
  ctx.cleanup(() => document.removeEventListener('click', closeChooser));
  function closeChooser(e) { if (colsBox.open && !colsBox.contains(e.target)) colsBox.open = false; }

  // -- data ---------------------------------------------------------------------------------
  function ingest(list) {
    runs = list;
    byId.clear();
    for (const r of runs) byId.set(r.id, r);
    rebuildCatalogue();
  }
  function rebuildCatalogue() {
    cat = catalogue(runs, specSets);
    primary = primarySet(runs);
    buildColumns();
    setFilter(state.filter);
  }
  function catalogueKey(r) {
    return Object.entries(r.params || {}).map(([s, v]) => s + ':' + Object.keys(v)).join('|') + '#' +
      Object.keys(r.tables || {}).join('|') + '#' + Object.entries(r.metrics || {}).map(([s, v]) => s + ':' + Object.keys(v)).join('|');
  }

  async function load() {
    let ans;
    try {
      [ans, specSets] = await Promise.all([api.get(`${api.df(tag)}/runs`, { signal: ctx.signal }), api.sets(tag)]);
    } catch (e) {
      if (e.name === 'AbortError') return false;
      clear(tableHost).append(errorBox(e, load));
      return false;
    }
    live.connect(tag, ans.seq);
    const now = parseTime(ans.now);
    if (now) skew = now.getTime() - Date.now();
    if (ans.stale_after) staleAfter = ans.stale_after;
    ingest(ans.runs || []);
    clear(tableHost);
    if (!runs.length) {
      tableHost.append(h('div.empty#no-runs', h('h2', 'No runs yet'),
        h('p', 'Runs appear here as soon as a training script sends them (this page updates live).'), instrumentHelp()));
    }
    tableHost.append(table.el);
    table.el.hidden = !runs.length;
    selChanged(false);
    recompute();
    return true;
  }

  await load();

  // Live: a run's summary changed or a new run appeared.
  const liveRecompute = perFrame(() => recompute());
  ctx.on('run', (r) => {
    const old = byId.get(r.id);
    if (old) Object.assign(old, r, { _text: undefined });
    const obj = old ? { ...old } : r;
    if (old) runs[runs.indexOf(old)] = obj; else runs.push(obj);
    byId.set(r.id, obj);
    if (!old || catalogueKey(old) !== catalogueKey(obj)) rebuildCatalogue();
    if (table.el.hidden) { table.el.hidden = false; document.getElementById('no-runs')?.remove(); }
    liveRecompute();
  });
  ctx.on('reset', () => load());
  ctx.on('dataflow', () => { api.invalidate(`sets:${tag}`); load(); });
  // Durations of running runs and staleness move with the clock.
  const tick = setInterval(() => { if (!document.hidden && runs.some((r) => r.status === 'RUNNING')) table.refresh(true); }, 5000);
  ctx.cleanup(() => clearInterval(tick));
}
