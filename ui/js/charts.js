// Charts: uPlot for series (metrics by epoch, live-appended, drag to zoom, double-click to
// reset), Chart.js for aggregate charts from query results (bar, line, scatter). Both libraries
// are vendored (ui/vendor) and loaded on first use.
import { h, clear, fmtNum, perFrame } from './util.js';

const loaded = new Map();
export function loadScript(src) {
  if (!loaded.has(src)) {
    loaded.set(src, new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = src;
      s.onload = () => resolve();
      s.onerror = () => { loaded.delete(src); reject(new Error(`could not load ${src}`)); };
      document.head.append(s);
    }));
  }
  return loaded.get(src);
}
export const ensureUPlot = () => loadScript('/ui/vendor/uplot.iife.min.js');
export const ensureChartJs = () => loadScript('/ui/vendor/chart.min.js');

export const PALETTE = ['#2f6fdb', '#e5732a', '#2a9d5b', '#c23b7a', '#7a52c7', '#c9a227', '#1fa3b5', '#d64545', '#5b6b7f', '#8c6d3f',
  '#4bb3fd', '#f29e4c', '#6cc788', '#e46fa6', '#a98be0', '#e1c55b', '#63c7d3', '#ee8a8a', '#95a3b5', '#b99870'];
export const color = (i) => PALETTE[i % PALETTE.length];

function sortedPairs(xs, ys) {
  let sorted = true;
  for (let i = 1; i < xs.length; i++) if (!(xs[i] >= xs[i - 1])) { sorted = false; break; }
  if (sorted) return [xs, ys];
  const idx = xs.map((_, i) => i).filter((i) => typeof xs[i] === 'number').sort((a, b) => xs[a] - xs[b]);
  return [idx.map((i) => xs[i]), idx.map((i) => ys[i])];
}

/**
 * A uPlot chart of several series sharing an x axis (each with its own x values; they are
 * aligned with uPlot.join). series: [{label, color, dash, stepped, pointsOnly, width}].
 * The container gets data-points="n1,n2,..." (non-null y values drawn per series).
 * `onZoom(min, max)` (optional) is called when the user zooms the x axis, `(null, null)` when
 * the zoom is reset.
 */
export class SeriesChart {
  constructor(container, { title, xLabel = 'epoch', yLabel = '', series = [], height = 260, logY = false }) {
    this.container = container;
    this.opts = { title, xLabel, yLabel, height, logY };
    this.defs = [];
    this.tables = [];
    this.u = null;
    this.zoomed = false;
    this.plotEl = h('div.plot');
    this.resetBtn = h('button.btn.small.reset-zoom', { type: 'button', hidden: true, title: 'Show the whole x range (or double-click the chart)' }, 'Reset zoom');
    this.resetBtn.addEventListener('click', () => this.resetZoom());
    container.classList.add('chart');
    container.append(this.plotEl, this.resetBtn);
    container.__chart = this;
    this.redraw = perFrame(() => this.draw());
    for (const s of series) this.addSeries(s);
    this.ro = new ResizeObserver(() => { if (this.u) this.u.setSize({ width: this.width(), height: this.opts.height }); });
    this.ro.observe(container);
  }

  width() { return Math.max(280, this.container.clientWidth - 4); }

  addSeries(def, xs = [], ys = []) {
    this.defs.push(def);
    this.tables.push(sortedPairs(xs.slice(), ys.slice()));
    this.rebuild = true;
    this.redraw();
    return this.defs.length - 1;
  }

  setSeriesData(i, xs, ys) { this.tables[i] = sortedPairs(xs.slice(), ys.slice()); this.redraw(); }

  /** Appends points to series i (x ascending; an x already there replaces its y). */
  append(i, xs, ys) {
    const [tx, ty] = this.tables[i];
    for (let k = 0; k < xs.length; k++) {
      const x = xs[k];
      if (typeof x !== 'number') continue;
      if (tx.length && x <= tx[tx.length - 1]) {
        const j = tx.lastIndexOf(x);
        if (j >= 0) { ty[j] = ys[k]; continue; }
        this.tables[i] = sortedPairs([...tx, x], [...ty, ys[k]]);
        continue;
      }
      tx.push(x);
      ty.push(ys[k]);
    }
    this.redraw();
  }

  count(i) { return this.tables[i][0].length; }
  lastX(i) { const xs = this.tables[i][0]; return xs.length ? xs[xs.length - 1] : 0; }

  resetZoom() {
    this.zoomed = false;
    this.resetBtn.hidden = true;
    if (this.u) this.u.setData(this.u.data, true);
    this.onZoom?.(null, null);
  }

  data() {
    const nonEmpty = this.tables.map((t) => t[0].length > 0);
    if (!nonEmpty.some(Boolean)) return [[], ...this.tables.map(() => [])];
    // uPlot.join needs at least one table; empty ones are joined as a single null point.
    const tables = this.tables.map((t) => (t[0].length ? [t[0], t[1].map((v) => (v === null || v === undefined || !Number.isFinite(v) ? null : v))] : [[this.tables.find((x) => x[0].length)[0][0]], [null]]));
    return uPlot.join(tables, tables.map(() => 1)); // keep explicit nulls as gaps
  }

  draw() {
    if (typeof uPlot === 'undefined') return;
    const data = this.data();
    if (!this.u || this.rebuild) {
      this.rebuild = false;
      this.u?.destroy();
      clear(this.plotEl);
      this.u = new uPlot(this.options(), data, this.plotEl);
    } else {
      this.u.setData(data, !this.zoomed);
    }
    const counts = this.defs.map((_, i) => (this.u.data[i + 1] || []).filter((v) => v !== null && v !== undefined).length);
    this.container.dataset.points = counts.join(',');
    this.container.dataset.series = this.defs.map((d) => d.label).join('|');
  }

  options() {
    const { title, xLabel, yLabel, height, logY } = this.opts;
    const self = this;
    const fmt = (u, v) => (v === null || v === undefined ? '–' : fmtNum(v));
    return {
      title, width: this.width(), height,
      cursor: { drag: { x: true, y: false, setScale: true }, focus: { prox: 24 } },
      focus: { alpha: 0.35 },
      scales: { x: { time: false }, y: logY ? { distr: 3 } : {} },
      legend: { live: true },
      axes: [
        { label: xLabel, labelSize: 18, size: 36, stroke: '#5f6b7a', grid: { stroke: '#eef1f4' } },
        { label: yLabel, labelSize: 18, size: 60, stroke: '#5f6b7a', grid: { stroke: '#eef1f4' }, values: (u, vals) => vals.map((v) => fmtNum(v)) },
      ],
      series: [
        { label: xLabel, value: fmt },
        ...this.defs.map((d) => ({
          label: d.label,
          stroke: d.color,
          width: d.width || 1.6,
          dash: d.dash,
          spanGaps: true,
          value: fmt,
          fill: undefined,
          paths: d.pointsOnly ? () => null : d.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined,
          points: d.pointsOnly ? { show: true, size: 9, stroke: d.color, fill: d.color } : { show: undefined, size: 5 },
        })),
      ],
      hooks: {
        setSelect: [(u) => {
          if (u.select.width <= 0) return;
          self.zoomed = true;
          self.resetBtn.hidden = false;
          // The x range chosen, for an owner that fetches more detail there (`onZoom`).
          const min = u.posToVal(u.select.left, 'x'), max = u.posToVal(u.select.left + u.select.width, 'x');
          self.onZoom?.(min, max);
        }],
        ready: [(u) => u.over.addEventListener('dblclick', () => { self.zoomed = false; self.resetBtn.hidden = true; self.onZoom?.(null, null); })],
      },
    };
  }

  destroy() { this.ro.disconnect(); this.u?.destroy(); this.u = null; }
}

// -- Chart.js: charts of query results ----------------------------------------------------

/**
 * Draws `result` ({columns, rows}) as spec {type: line|bar|scatter, x, y: [..], group?} into
 * container (a canvas is created). Returns {chart, points} (points: how many values are drawn).
 */
export async function resultChart(container, result, spec) {
  await ensureChartJs();
  const names = result.columns.map((c) => (typeof c === 'string' ? c : c.name));
  const xi = names.indexOf(spec.x);
  const yis = (spec.y || []).map((y) => names.indexOf(y));
  const gi = spec.group ? names.indexOf(spec.group) : -1;
  if (xi < 0) throw new Error(`the result has no column '${spec.x}'`);
  for (const [k, yi] of yis.entries()) if (yi < 0) throw new Error(`the result has no column '${spec.y[k]}'`);
  if (spec.group && gi < 0) throw new Error(`the result has no column '${spec.group}'`);
  const type = spec.type || 'line';
  const numericX = result.rows.every((r) => r[xi] === null || typeof r[xi] === 'number');
  const datasets = [];
  let labels;
  let points = 0;
  const groups = new Map();
  for (const r of result.rows) {
    const g = gi >= 0 ? String(r[gi]) : '';
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g).push(r);
  }
  const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  if (type === 'bar' || !numericX) {
    labels = [...new Set(result.rows.map((r) => r[xi]))];
    if (numericX) labels.sort((a, b) => a - b);
    let n = 0;
    for (const [g, rows] of groups) {
      for (const [k, yi] of yis.entries()) {
        const byX = new Map(rows.map((r) => [r[xi], num(r[yi])]));
        const data = labels.map((l) => (byX.has(l) ? byX.get(l) : null));
        points += data.filter((v) => v !== null).length;
        datasets.push({ label: [g, yis.length > 1 || !g ? spec.y[k] : ''].filter(Boolean).join(' · '), data, backgroundColor: color(n) + (type === 'bar' ? 'cc' : ''), borderColor: color(n), spanGaps: true, pointRadius: type === 'line' ? 2 : 3, showLine: type !== 'scatter' });
        n++;
      }
    }
    labels = labels.map((l) => (typeof l === 'number' ? fmtNum(l) : String(l)));
  } else {
    let n = 0;
    for (const [g, rows] of groups) {
      for (const [k, yi] of yis.entries()) {
        const data = rows.filter((r) => num(r[xi]) !== null && num(r[yi]) !== null).map((r) => ({ x: r[xi], y: r[yi] })).sort((a, b) => a.x - b.x);
        points += data.length;
        datasets.push({ label: [g, yis.length > 1 || !g ? spec.y[k] : ''].filter(Boolean).join(' · '), data, borderColor: color(n), backgroundColor: color(n), pointRadius: type === 'scatter' ? 3 : 2, showLine: type === 'line', borderWidth: 1.6 });
        n++;
      }
    }
  }
  container.__chartjs?.destroy();
  clear(container);
  container.classList.add('chart');
  const canvas = h('canvas', { role: 'img', 'aria-label': `${type} chart of ${spec.y.join(', ')} by ${spec.x}` });
  container.append(h('div', { style: { position: 'relative', height: '260px' } }, canvas));
  const chart = new Chart(canvas, {
    type: type === 'scatter' ? 'scatter' : type === 'bar' ? 'bar' : 'line',
    data: labels ? { labels, datasets } : { datasets },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false, normalized: true,
      interaction: { mode: 'nearest', intersect: false },
      plugins: { legend: { display: datasets.length > 1 || !!spec.group, position: 'bottom', labels: { boxWidth: 12 } } },
      scales: {
        x: labels ? { type: 'category', title: { display: true, text: spec.x } } : { type: 'linear', title: { display: true, text: spec.x } },
        y: { title: { display: true, text: spec.y.join(', ') }, beginAtZero: type === 'bar' },
      },
    },
  });
  container.dataset.points = String(points);
  container.__chartjs = chart;
  return { chart, points };
}
