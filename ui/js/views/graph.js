// #/d/{tag}/graph : the dataflow viewer (vis-network). Datasets are nodes (input datasets green,
// the others blue), transformations are labelled edges. A click on a dataset shows its
// attributes, types and a sample of its rows; on a transformation, its tasks. Datasets can be
// picked as the source / target of a query ("query from here"). Every node and edge is also in
// the side list as a button, for the keyboard.
import * as api from '../api.js';
import { h, clear, errorBox, loading, resultTable, fmtTime } from '../util.js';
import { href, dfPath, setQuery } from '../router.js';
import { loadScript } from '../charts.js';

const COLORS = {
  input: { background: '#d7f0df', border: '#3a9d5d', highlight: { background: '#bfe8cc', border: '#2a7d47' }, hover: { background: '#c8ecd4', border: '#2a7d47' } },
  inter: { background: '#dbe7fb', border: '#3d7be0', highlight: { background: '#c3d7fa', border: '#2257b5' }, hover: { background: '#cddffb', border: '#2257b5' } },
  output: { background: '#e9effa', border: '#2257b5', highlight: { background: '#c3d7fa', border: '#163f86' }, hover: { background: '#dbe5f7', border: '#163f86' } },
};

export async function render(root, route, ctx) {
  const tag = route.tag;
  const q = route.query;
  const pick = { source: (q.get('source') || '').split(',').filter(Boolean), target: (q.get('target') || '').split(',').filter(Boolean) };
  root.append(h('div.page-head', h('h1', 'Dataflow graph'),
    h('span.legend-row', h('span', h('span.sw', { style: { background: COLORS.input.background, border: '1px solid ' + COLORS.input.border } }), 'input dataset'),
      h('span', h('span.sw', { style: { background: COLORS.inter.background, border: '1px solid ' + COLORS.inter.border } }), 'produced dataset'),
      h('span', '→ transformation'))));
  const pickBar = h('div.controls#query-from-here');
  root.append(pickBar);
  const canvas = h('div#graph-canvas', { role: 'img', 'aria-label': `Dataflow ${tag}: datasets and transformations (the list on the right has the same content)` });
  const side = h('aside.side#graph-side', { 'aria-live': 'polite' });
  root.append(h('div.graph-layout', canvas, side));
  side.append(loading());

  let graph, sets;
  try {
    [graph, sets] = await Promise.all([api.graph(tag), api.sets(tag), loadScript('/ui/vendor/vis-network.min.js')]).then((r) => [r[0], r[1]]);
  } catch (e) {
    if (e.name === 'AbortError') return;
    clear(side).append(errorBox(e, () => ctx.rerender()));
    return;
  }
  const setByTag = new Map(sets.map((s) => [s.tag, s]));
  const setById = new Map(sets.map((s) => [String(s.id), s]));
  const kind = (s) => (!s || !s.producers.length ? 'input' : s.consumers.length ? 'inter' : 'output');
  const nodeSet = (n) => setById.get(String(n.id)) || setByTag.get(n.label);

  const nodes = new vis.DataSet(graph.graph.nodes.map((n) => {
    const s = nodeSet(n);
    const k = kind(s);
    return { id: n.id, label: n.label, title: undefined, shape: 'box', color: COLORS[k], font: { face: 'system-ui, sans-serif', size: 14, color: '#1d2430' }, margin: 10, borderWidth: 1.5, kind: k };
  }));
  const edges = new vis.DataSet(graph.graph.edges.map((e, i) => ({
    id: `e${i}`, from: e.from, to: e.to, label: e.label, arrows: 'to',
    font: { face: 'system-ui, sans-serif', size: 12, color: '#5f6b7a', strokeWidth: 4, strokeColor: '#ffffff', align: 'horizontal' },
    color: { color: '#8b97a8', highlight: '#2f6fdb', hover: '#2f6fdb' }, width: 1.5, selectionWidth: 1.5,
    smooth: { type: 'cubicBezier', forceDirection: 'horizontal', roundness: 0.4 },
  })));
  const network = new vis.Network(canvas, { nodes, edges }, {
    layout: { hierarchical: { enabled: true, direction: 'LR', sortMethod: 'directed', levelSeparation: 240, nodeSpacing: 110, shakeTowards: 'roots' } },
    physics: { enabled: false },
    interaction: { hover: true, tooltipDelay: 200, navigationButtons: false, keyboard: false, multiselect: false },
  });
  ctx.cleanup(() => network.destroy());
  canvas.__network = network;

  function showSet(s) {
    clear(side);
    if (!s) return;
    const tableName = s.table || `ds_${s.tag}`;
    side.append(h('h2', s.tag, ' ', h('span.muted.small', kind(s) === 'input' ? 'input dataset' : 'dataset')),
      h('p.small.muted', 'Table ', h('code', tableName), s.producers.length ? ` · produced by ${s.producers.join(', ')}` : '', s.consumers.length ? ` · consumed by ${s.consumers.join(', ')}` : ''),
      h('div.row-gap',
        h('button.btn.small', { type: 'button', onclick: () => togglePick('source', s.tag) }, pick.source.includes(s.tag) ? 'Unset source' : 'Use as query source'),
        h('button.btn.small', { type: 'button', onclick: () => togglePick('target', s.tag) }, pick.target.includes(s.tag) ? 'Unset target' : 'Use as query target'),
        h('a.btn.small', { href: href(dfPath(tag, '/sql'), { q: `select * from ${tableName} order by id desc limit 100` }) }, 'Open in SQL')),
      h('h3', { style: { marginTop: '10px' } }, 'Attributes'),
      h('table.grid#set-attributes', { dataset: { set: s.tag } }, h('thead', h('tr', h('th', 'name'), h('th', 'type'))),
        h('tbody', s.attributes.map((a) => h('tr', h('td', a.name), h('td', a.type))))),
      h('h3', { style: { marginTop: '10px' } }, 'Sample rows (latest 20)'));
    const sample = h('div#set-sample', loading());
    side.append(sample);
    api.get(`${api.df(tag)}/sets/${encodeURIComponent(s.tag)}/rows${api.qs({ limit: 20 })}`, { signal: ctx.signal })
      .then((ans) => clear(sample).append(ans.rows.length ? resultTable(ans.columns, ans.rows) : h('p.muted', 'No rows yet.')))
      .catch((e) => { if (e.name !== 'AbortError') clear(sample).append(errorBox(e)); });
  }

  async function showTransformation(name) {
    clear(side).append(h('h2', name, ' ', h('span.muted.small', 'transformation')),
      h('p.small.muted', 'Uses ', graph.graph.edges.filter((e) => e.label === name).map((e) => nodes.get(e.from)?.label).filter((v, i, a) => a.indexOf(v) === i).join(', ') || '–',
        '; produces ', sets.filter((s) => s.producers.includes(name)).map((s) => s.tag).join(', ') || '–'));
    const box = h('div#transformation-tasks', loading('Loading tasks…'));
    side.append(h('h3', 'Tasks'), box);
    try {
      const tasks = (await api.get(`${api.df(tag)}/tasks`, { signal: ctx.signal })).filter((t) => t.transformation === name);
      const shown = tasks.slice(-200).reverse();
      clear(box).append(tasks.length ? resultTable(['id', 'execution', 'identifier', 'status', 'start_time', 'end_time'].map((n) => ({ name: n })),
        shown.map((t) => [t.id, t.execution, t.identifier, t.status, fmtTime(t.start_time), fmtTime(t.end_time)])) : h('p.muted', 'No tasks yet.'),
      tasks.length > shown.length ? h('p.muted.small', `The latest ${shown.length} of ${tasks.length} tasks.`) : null);
    } catch (e) { if (e.name !== 'AbortError') clear(box).append(errorBox(e)); }
  }

  function overview() {
    clear(side).append(h('h2', 'Dataflow ', tag),
      h('p.small.muted', 'Click a dataset (box) for its attributes and rows, or a transformation (arrow) for its tasks. Drag to pan, scroll to zoom.'),
      h('h3', 'Datasets'), h('ul.plain', graph.graph.nodes.map((n) => h('li', h('button.btn.small', { type: 'button', dataset: { set: n.label }, onclick: () => select(n.label) }, n.label)))),
      h('h3', 'Transformations'), h('ul.plain', [...new Set(graph.graph.edges.map((e) => e.label))].map((t) => h('li', h('button.btn.small', { type: 'button', dataset: { transformation: t }, onclick: () => selectTransformation(t) }, t)))));
  }

  /** Selects a dataset by tag, as a click on it would (also the test hook). */
  function select(setTag) {
    const n = graph.graph.nodes.find((x) => x.label === setTag);
    if (!n) return false;
    network.selectNodes([n.id]);
    showSet(nodeSet(n));
    return true;
  }
  function selectTransformation(t) {
    network.selectEdges(edges.getIds({ filter: (e) => e.label === t }));
    showTransformation(t);
  }

  network.on('click', (p) => {
    if (p.nodes.length) showSet(nodeSet(nodes.get(p.nodes[0])));
    else if (p.edges.length) showTransformation(edges.get(p.edges[0]).label);
    else overview();
  });

  function togglePick(which, setTag) {
    const list = pick[which];
    const i = list.indexOf(setTag);
    if (i >= 0) list.splice(i, 1); else list.push(setTag);
    setQuery({ source: pick.source.join(','), target: pick.target.join(',') });
    renderPick();
    const sel = network.getSelectedNodes();
    if (sel.length) showSet(nodeSet(nodes.get(sel[0])));
  }
  function renderPick() {
    clear(pickBar).append(h('span.lbl.muted', 'Query from here:'),
      h('span.group', h('span.lbl', 'source'), pick.source.length ? pick.source.map((s) => h('span.chip', s, h('button', { type: 'button', 'aria-label': `Remove source ${s}`, onclick: () => togglePick('source', s) }, '×'))) : h('span.muted', 'pick a dataset')),
      h('span.group', h('span.lbl', 'target'), pick.target.length ? pick.target.map((s) => h('span.chip', s, h('button', { type: 'button', 'aria-label': `Remove target ${s}`, onclick: () => togglePick('target', s) }, '×'))) : h('span.muted', 'pick a dataset')),
      h('a.btn.small.primary#open-query-builder', { href: href(dfPath(tag, '/query'), { source: pick.source, target: pick.target }) }, 'Open the query builder'));
    for (const n of graph.graph.nodes) {
      const picked = pick.source.includes(n.label) || pick.target.includes(n.label);
      nodes.update({ id: n.id, borderWidth: picked ? 4 : 1.5, shapeProperties: { borderDashes: pick.target.includes(n.label) ? [6, 3] : false } });
    }
  }
  renderPick();
  overview();
  network.once('afterDrawing', () => network.fit({ animation: false }));

  window.dnnprov.graph = { network, nodes, edges, select, selectTransformation };
  ctx.cleanup(() => { if (window.dnnprov.graph?.network === network) delete window.dnnprov.graph; });
  ctx.on('dataflow', () => { api.invalidate(`graph:${tag}`); api.invalidate(`sets:${tag}`); ctx.rerender(); });
}
