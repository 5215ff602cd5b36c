// #/d/{tag}/lineage?set=S&id=N&direction=back|forward|both&depth=D : the derivation path of one
// element (a row of a set) as a PROV graph, drawn like seed 003 Fig. 2: elements are yellow
// ovals, tasks blue boxes; edges are wasDerivedFrom, used, wasGeneratedBy, wasInformedBy. The
// side list holds every node with its values, for the keyboard and screen readers.
import * as api from '../api.js';
import { h, clear, errorBox, loading, fmtValue } from '../util.js';
import { setQuery } from '../router.js';
import { loadScript } from '../charts.js';

const ENTITY = { background: '#FFFC87', border: '#808080' };
const ACTIVITY = { background: '#9FB1FC', border: '#0000FF' };

export async function render(root, route, ctx) {
  const tag = route.tag;
  const q = route.query;
  const state = { set: q.get('set') || '', id: q.get('id') || '', direction: q.get('direction') || 'both', depth: q.get('depth') || '5' };
  const setIn = h('input#lineage-set', { value: state.set, placeholder: 'set (e.g. otrainingmodel)', 'aria-label': 'Set' });
  const idIn = h('input#lineage-id', { value: state.id, type: 'number', placeholder: 'row id', 'aria-label': 'Row id' });
  const dirIn = h('select#lineage-direction', { 'aria-label': 'Direction' },
    ...['back', 'forward', 'both'].map((d) => h('option', { value: d, selected: d === state.direction }, d)));
  const depthIn = h('input#lineage-depth', { value: state.depth, type: 'number', min: 0, max: 100, 'aria-label': 'Depth' });
  const go = h('button#lineage-go', { type: 'submit' }, 'Trace');
  const form = h('form.controls', setIn, idIn, dirIn, depthIn, go);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    setQuery({ set: setIn.value.trim(), id: idIn.value.trim(), direction: dirIn.value, depth: depthIn.value }, { push: true });
    ctx.rerender();
  });
  root.append(h('div.page-head', h('h1', 'Lineage'),
    h('span.legend-row', h('span', h('span.sw', { style: { background: ENTITY.background, border: '1px solid ' + ENTITY.border } }), 'element (entity)'),
      h('span', h('span.sw', { style: { background: ACTIVITY.background, border: '1px solid ' + ACTIVITY.border } }), 'task (activity)'))), form);
  const canvas = h('div#lineage-canvas', { role: 'img', 'aria-label': 'Derivation graph (the list on the right has the same content)', style: { height: '70vh' } });
  const side = h('aside.side#lineage-side', { 'aria-live': 'polite' });
  root.append(h('div.graph-layout', canvas, side));
  if (!state.set || !state.id) {
    side.append(h('p', 'Choose a set and a row id (the id column), e.g. the best accuracy of a training, and trace it back to its hyperparameters, filters and adaptations, or forward to what it fed.'));
    return;
  }
  side.append(loading());
  let ans;
  try {
    [ans] = await Promise.all([
      api.get(`${api.df(tag)}/lineage${api.qs({ set: state.set, id: state.id, direction: state.direction, depth: state.depth })}`, { signal: ctx.signal }),
      loadScript('/ui/vendor/vis-network.min.js')]);
  } catch (e) {
    if (e.name === 'AbortError') return;
    clear(side).append(errorBox(e, () => ctx.rerender()));
    return;
  }
  const label = (n) => n.kind === 'entity'
    ? `${n.set} #${n.row}\n` + Object.entries(n.values).slice(0, 4).map(([k, v]) => `${k} = ${fmtValue(v)}`).join('\n')
    : `${n.transformation}\ntask ${n.task}${n.execution ? '\n' + n.execution : ''}`;
  const minDepth = Math.min(0, ...ans.nodes.map((n) => n.depth));
  const nodes = new vis.DataSet(ans.nodes.map((n) => ({
    id: n.id, label: label(n), level: n.depth - minDepth, shape: n.kind === 'entity' ? 'ellipse' : 'box',
    color: n.kind === 'entity' ? ENTITY : ACTIVITY, borderWidth: n.id === ans.root ? 3 : 1, font: { face: 'monospace', size: 11 },
  })));
  const edges = new vis.DataSet(ans.edges.map((e, i) => ({
    id: i, from: e.from, to: e.to, label: e.relation, arrows: 'to', font: { size: 9, align: 'middle' },
    dashes: e.relation === 'wasDerivedFrom', color: { color: e.relation === 'wasDerivedFrom' ? '#b07000' : '#666' },
  })));
  const network = new vis.Network(canvas, { nodes, edges }, {
    layout: { hierarchical: { enabled: true, direction: 'LR', sortMethod: 'directed', levelSeparation: 220, nodeSpacing: 120 } },
    physics: { enabled: false },
    interaction: { hover: true, keyboard: false },
  });
  window.dnnprov.lineage = { network, nodes, edges, answer: ans };
  ctx.cleanup(() => { if (window.dnnprov.lineage?.network === network) delete window.dnnprov.lineage; network.destroy(); });
  clear(side).append(
    h('p', `${ans.nodes.length} nodes, ${ans.edges.length} relations${ans.truncated ? ' (truncated)' : ''}, ${ans.elapsed_ms.toFixed(1)} ms`),
    h('ul.lineage-list', ...ans.nodes.slice().sort((a, b) => a.depth - b.depth).map((n) => h('li',
      h('strong', n.kind === 'entity' ? `${n.set} #${n.row}` : `task ${n.task} (${n.transformation})`),
      ` depth ${n.depth}`,
      n.kind === 'entity' ? h('div', Object.entries(n.values).map(([k, v]) => `${k}=${fmtValue(v)}`).join(', ')) : null))));
}
