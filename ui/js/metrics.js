// Metric charts of runs: series fetched from GET /series, then kept live by `rows` events.
// Used by the run page (one run, train against validation) and the compare page (one series
// per run). Also the learning-rate chart with its adaptation points.
import * as api from './api.js';
import { h, clear, errorBox } from './util.js';
import { SeriesChart, ensureUPlot, color } from './charts.js';
import { runLabel, shortExecution } from './runs-model.js';

// A series of GET /series: {run, execution, attribute, count, downsampled, last_id, x, y}.
const attrOf = (s) => s.attribute ?? (typeof s.y === 'string' ? s.y : null);
const valuesOf = (s) => (Array.isArray(s.y) ? s.y : s.values || []);

/** Groups a set's numeric attributes into charts: X with val_X together (train vs validation). */
export function chartGroups(attrs, { pair = true, only = null } = {}) {
  const names = attrs.map((a) => a.name);
  const groups = [];
  const used = new Set();
  for (const n of names) {
    if (used.has(n) || (only && !only.includes(n) && !(pair && n.startsWith('val_') && only.includes(n.slice(4))))) continue;
    if (pair && n.startsWith('val_') && names.includes(n.slice(4)) && (!only || only.includes(n.slice(4)))) continue; // drawn with its train twin
    const ys = [n];
    if (pair && names.includes('val_' + n)) ys.push('val_' + n);
    ys.forEach((y) => used.add(y));
    groups.push({ title: ys.length > 1 ? `${n} (train vs validation)` : n, key: n, ys });
  }
  return groups;
}

/**
 * Points per series asked of the server: a chart draws about 20,000 points at most, however
 * many runs it compares (drawing the canvas is what costs on a zoom, not uPlot's work).
 */
export const pointsPerSeries = (series) => Math.max(250, Math.min(2000, Math.floor(20000 / Math.max(1, series))));

/** The x attribute of a set: epoch-like when it has one, else the row index ("step"). */
export function xAttr(attrs) {
  const names = attrs.map((a) => a.name);
  return ['epoch', 'epoch_id', 'step', 'iteration', 'batch'].find((n) => names.includes(n)) || null;
}

/**
 * Renders one chart per group into `host` for `runs` (RunSummary objects), fetching the
 * series and appending live rows. Returns {charts, ready: Promise}.
 */
export function metricCharts(host, { tag, ctx, set, x, runs, groups, height = 240 }) {
  const multi = runs.length > 1;
  const charts = [];
  const index = new Map(); // `${run}|${y}` -> [{chart, i}]
  for (const g of groups) {
    const card = h('section.card.metric-card', { dataset: { metric: g.key } },
      h('div.card-head', h('h3', g.title), g.ys.length > 1 ? h('span.chart-note', 'dashed: validation') : null, h('span.chart-note', { dataset: { role: 'note' } })));
    const box = h('div.chart', { dataset: { metric: g.key, set } });
    card.append(box);
    host.append(card);
    const chart = { g, box, card, sc: null };
    charts.push(chart);
  }
  const pending = []; // live rows that arrive while the first fetch runs
  let fetched = false;
  const lastId = new Map(); // run -> highest row id drawn

  const applyRows = (ev) => {
    const runIdx = runs.findIndex((r) => r.id === ev.run);
    if (runIdx < 0 || ev.set !== set) return;
    if (ev.truncated) { reload(); return; }
    const cols = ev.columns;
    const idI = cols.indexOf('id');
    const xI = x ? cols.indexOf(x) : -1;
    let rows = ev.rows;
    const seen = lastId.get(ev.run) ?? -Infinity;
    if (idI >= 0) rows = rows.filter((r) => r[idI] > seen);
    if (!rows.length) return;
    if (idI >= 0) lastId.set(ev.run, rows[rows.length - 1][idI]);
    for (const c of charts) {
      for (const y of c.g.ys) {
        const targets = index.get(`${ev.run}|${y}`) || [];
        const yI = cols.indexOf(y);
        if (yI < 0) continue;
        for (const { sc, i } of targets) {
          let base = sc.lastX(i);
          const xs = rows.map((r) => (xI >= 0 ? r[xI] : ++base));
          const ys = rows.map((r) => (typeof r[yI] === 'number' ? r[yI] : null));
          sc.append(i, xs, ys);
        }
      }
    }
  };
  ctx.on('rows', (ev) => { if (!fetched) pending.push(ev); else applyRows(ev); });

  const perChart = runs.length * Math.max(1, ...groups.map((g) => g.ys.length));
  const seriesOf = (ys, range) => api.get(`${api.df(tag)}/series${api.qs({
    set, y: ys, x, runs: runs.map((r) => r.id), points: pointsPerSeries(perChart), from: range?.[0], to: range?.[1],
  })}`, { signal: ctx.signal });
  const note = (c, series, range) => {
    const down = series.filter((s) => s.downsampled);
    c.card.querySelector('[data-role=note]').textContent = !down.length ? ''
      : range ? `zoomed: ${down.map((s) => s.x.length).join(', ')} points, still downsampled (zoom closer)`
        : `downsampled: ${down.map((s) => `${s.x.length} of ${s.count}`).join(', ')} points (zoom to look closer)`;
  };

  /** A zoomed chart whose series were downsampled asks for the rows in view, at full detail;
   * a reset zoom brings the whole range back. */
  async function zoom(c, min, max) {
    if (!c.downsampled) return;
    const range = min === null ? null : [Math.floor(min), Math.ceil(max)];
    const seq = (c.zoomSeq = (c.zoomSeq || 0) + 1);
    try {
      const ans = await seriesOf(c.g.ys, range);
      if (seq !== c.zoomSeq || !c.sc) return; // a newer zoom won
      for (const s of ans.series) {
        for (const { sc, i } of index.get(`${s.run}|${attrOf(s)}`) || []) if (sc === c.sc) sc.setSeriesData(i, s.x, valuesOf(s));
      }
      note(c, ans.series, range);
    } catch (e) {
      if (e.name !== 'AbortError') c.card.querySelector('[data-role=note]').textContent = `could not load the zoomed range: ${e.message}`;
    }
  }

  async function reload() {
    const ys = [...new Set(groups.flatMap((g) => g.ys))];
    if (!ys.length || !runs.length) return;
    const ans = await seriesOf(ys, null);
    await ensureUPlot();
    index.clear();
    for (const c of charts) {
      c.sc?.destroy();
      clear(c.box);
      c.sc = new SeriesChart(c.box, { xLabel: x || 'step', yLabel: c.g.ys.length === 1 ? c.g.ys[0] : c.g.key, height });
      let k = 0;
      for (const [ri, run] of runs.entries()) {
        for (const [yi, y] of c.g.ys.entries()) {
          const s = ans.series.find((z) => z.run === run.id && attrOf(z) === y);
          const label = multi ? `${shortExecution(run.execution, run.id)}${c.g.ys.length > 1 ? ' · ' + y : ''}` : y;
          const col = multi ? color(ri) : color(yi);
          const i = c.sc.addSeries({ label, color: col, dash: y.startsWith('val_') ? [6, 4] : undefined }, s ? s.x : [], s ? valuesOf(s) : []);
          if (!index.has(`${run.id}|${y}`)) index.set(`${run.id}|${y}`, []);
          index.get(`${run.id}|${y}`).push({ sc: c.sc, i });
          k++;
        }
      }
      const mine = ans.series.filter((s) => c.g.ys.includes(attrOf(s)));
      c.downsampled = mine.some((s) => s.downsampled);
      note(c, mine, null);
      c.sc.onZoom = (min, max) => zoom(c, min, max);
      void k;
    }
    for (const s of ans.series) lastId.set(s.run, Math.max(lastId.get(s.run) ?? -Infinity, s.last_id ?? -Infinity));
    fetched = true;
    for (const ev of pending.splice(0)) applyRows(ev);
  }

  const ready = reload().catch((e) => {
    if (e.name === 'AbortError') return;
    for (const c of charts) clear(c.box).append(errorBox(e));
  });
  ctx.cleanup(() => charts.forEach((c) => c.sc?.destroy()));
  return { charts, ready, reload };
}

/**
 * The learning rate of each run by epoch: a stepped line from its initial value, with the
 * adaptation points (oadaptation.new_lrate at epoch_id) marked.
 */
export function learningRateChart(host, { tag, ctx, runs, adaptSet = 'oadaptation', trainSet, trainX }) {
  const card = h('section.card.metric-card', { dataset: { metric: 'learning_rate' } },
    h('div.card-head', h('h3', 'learning rate (adaptations marked)')));
  const box = h('div.chart', { dataset: { metric: 'learning_rate', set: adaptSet } });
  card.append(box);
  host.append(card);
  const multi = runs.length > 1;
  let sc = null;
  const state = new Map(); // run -> {lr0, points: [[epoch, lr]], lastEpoch, step, mark}
  const initial = (run) => {
    for (const vals of Object.values(run.params || {})) {
      for (const k of ['learning_rate', 'lr', 'initial_lrate', 'initial_lr']) if (typeof vals[k] === 'number') return vals[k];
    }
    return null;
  };
  function stepSeries(st) {
    const xs = [], ys = [];
    let lr = st.lr0;
    const first = 1;
    if (lr !== null) { xs.push(first); ys.push(lr); }
    for (const [e, v] of st.points) { if (lr === null) { xs.push(e); ys.push(v); } else if (e > first) { xs.push(e); ys.push(v); } else ys[0] = v; lr = v; }
    if (st.lastEpoch > (xs[xs.length - 1] ?? 0) && ys.length) { xs.push(st.lastEpoch); ys.push(ys[ys.length - 1]); }
    return [xs, ys];
  }
  function redraw() {
    for (const [run, st] of state) {
      const [xs, ys] = stepSeries(st);
      sc.setSeriesData(st.step, xs, ys);
      sc.setSeriesData(st.mark, st.points.map((p) => p[0]), st.points.map((p) => p[1]));
      void run;
    }
  }
  const ready = (async () => {
    const [ad, tr] = await Promise.all([
      api.get(`${api.df(tag)}/series${api.qs({ set: adaptSet, y: 'new_lrate', x: 'epoch_id', runs: runs.map((r) => r.id) })}`, { signal: ctx.signal }),
      trainSet ? api.get(`${api.df(tag)}/series${api.qs({ set: trainSet, y: trainX || 'epoch', x: trainX, runs: runs.map((r) => r.id), points: 10 })}`, { signal: ctx.signal }).catch(() => null) : null,
    ]);
    await ensureUPlot();
    sc = new SeriesChart(box, { xLabel: 'epoch', yLabel: 'learning rate', height: 220 });
    for (const [ri, run] of runs.entries()) {
      const s = ad.series.find((z) => z.run === run.id);
      const t = tr?.series.find((z) => z.run === run.id);
      const points = s ? s.x.map((e, i) => [e, valuesOf(s)[i]]).filter((p) => typeof p[0] === 'number' && typeof p[1] === 'number') : [];
      const lastEpoch = t && t.x.length ? t.x[t.x.length - 1] : 0;
      const name = multi ? shortExecution(run.execution, run.id) : 'learning rate';
      const st = { lr0: initial(run), points, lastEpoch };
      st.step = sc.addSeries({ label: name, color: color(multi ? ri : 0), stepped: true });
      st.mark = sc.addSeries({ label: multi ? `${name} · adaptations` : 'adaptations', color: multi ? color(ri) : '#d64545', pointsOnly: true });
      state.set(run.id, st);
    }
    redraw();
  })().catch((e) => { if (e.name !== 'AbortError') clear(box).append(errorBox(e)); });
  ctx.on('rows', (ev) => {
    const st = state.get(ev.run);
    if (!st || !sc) return;
    if (ev.set === adaptSet) {
      const eI = ev.columns.indexOf('epoch_id'), vI = ev.columns.indexOf('new_lrate');
      for (const r of ev.rows) if (typeof r[eI] === 'number' && typeof r[vI] === 'number' && !st.points.some((p) => p[0] === r[eI])) st.points.push([r[eI], r[vI]]);
      st.points.sort((a, b) => a[0] - b[0]);
      redraw();
    } else if (ev.set === trainSet) {
      const xI = trainX ? ev.columns.indexOf(trainX) : -1;
      const last = xI >= 0 ? Math.max(...ev.rows.map((r) => r[xI]).filter((v) => typeof v === 'number')) : st.lastEpoch + ev.rows.length;
      if (Number.isFinite(last) && last > st.lastEpoch) { st.lastEpoch = last; redraw(); }
    }
  });
  ctx.cleanup(() => sc?.destroy());
  return { card, ready };
}
