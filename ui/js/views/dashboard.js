// #/d/{tag}/dashboard : the saved charts and the built-in ones (accuracy and loss per epoch per
// optimizer, mean epoch time per optimizer), each drawn by running its SQL. Refreshed live
// (at most every two seconds) while rows arrive.
import * as api from '../api.js';
import { h, clear, errorBox, loading } from '../util.js';
import { href, dfPath } from '../router.js';
import { resultChart } from '../charts.js';

export async function render(root, route, ctx) {
  const tag = route.tag;
  root.append(h('div.page-head', h('h1', 'Dashboard'), h('a.btn', { href: href(dfPath(tag, '/sql')) }, 'New chart (SQL console)')));
  const grid = h('div.cards#dashboard');
  root.append(grid);
  grid.append(loading());
  let charts;
  try {
    charts = await api.get(`/api/v1/charts${api.qs({ dataflow: tag })}`, { signal: ctx.signal });
  } catch (e) {
    if (e.name === 'AbortError') return;
    clear(grid).append(errorBox(e, () => ctx.rerender()));
    return;
  }
  clear(grid);
  if (!charts.length) {
    grid.append(h('div.empty', h('h2', 'No charts yet'), h('p', 'Run a query in the ', h('a', { href: href(dfPath(tag, '/sql')) }, 'SQL console'), ', chart its result and save it to this dashboard.')));
    return;
  }
  const cards = charts.map((c) => {
    const box = h('div.chart-box');
    const del = c.builtin ? null : h('button.btn.small.danger', { type: 'button', 'aria-label': `Delete the chart ${c.title}` }, 'Delete');
    const open = h('a.btn.small', { href: href(dfPath(tag, '/sql'), { q: c.sql, type: c.chart.type, x: c.chart.x, y: (c.chart.y || []).join(','), group: c.chart.group || '', title: c.title }) }, 'Open in console');
    const card = h('section.card.dash-card', { dataset: { chart: c.id, builtin: c.builtin ? 'true' : 'false' } },
      h('div.card-head', h('h3', c.title), c.builtin ? h('span.badge.other', { title: 'Built in: shown for dataflows with the predefined sets' }, 'built-in') : null, open, del), box);
    if (del) {
      del.addEventListener('click', async () => {
        if (!confirm(`Delete the chart “${c.title}”?`)) return;
        try { await api.del(`/api/v1/charts/${encodeURIComponent(c.id)}`); card.remove(); } catch (e) { box.prepend(errorBox(e)); }
      });
    }
    grid.append(card);
    return { c, box };
  });
  async function draw({ c, box }) {
    try {
      const result = await api.query(c.sql, tag, 10000, { signal: ctx.signal });
      if (!ctx.alive) return;
      if (!result.rows.length) { clear(box).append(h('p.muted', 'No rows yet.')); return; }
      await resultChart(box, result, c.chart);
    } catch (e) { if (ctx.alive && e.name !== 'AbortError') clear(box).append(errorBox(e)); }
  }
  // One query at a time: the server limits each client's concurrent queries.
  const drawAll = async () => { for (const c of cards) { if (!ctx.alive) return; await draw(c); } };
  await drawAll();
  let timer = null, last = Date.now();
  const refresh = () => {
    if (timer) return;
    timer = setTimeout(() => { timer = null; last = Date.now(); drawAll(); }, Math.max(0, 2000 - (Date.now() - last)));
  };
  ctx.on('rows', refresh);
  ctx.on('reset', refresh);
  ctx.cleanup(() => clearTimeout(timer));
}
