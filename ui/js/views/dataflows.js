// #/ : every dataflow with its run count, and links to its views.
import * as api from '../api.js';
import { h, clear, errorBox, loading } from '../util.js';
import { href, dfPath } from '../router.js';

export function instrumentHelp() {
  return h('div.help',
    h('p', 'Instrument training with the Python client (standard library only) and one Keras callback:'),
    h('pre.code', h('code',
      "pip install './clients/python[keras]'\n\n" +
      'from dnnprov.keras import ProvenanceCallback\n' +
      'model.fit(x, y, epochs=20, validation_split=0.2,\n' +
      '          callbacks=[ProvenanceCallback("alexnet", adaptation=True,\n' +
      '                     hyperparameters={"OPTIMIZER_NAME": True, "LEARNING_RATE": True})])')),
    h('p.muted', 'Scripts find this server through ', h('code', 'DNNPROV_URL'), ' (default http://localhost:22000). ',
      'Manual instrumentation (Dataflow, Transformation, Set, Task) and old DfAnalyzer scripts: see the README and ',
      h('code', 'clients/python/README.md'), '; the HTTP API: ', h('a', { href: '/openapi.json' }, '/openapi.json'), '.'));
}

export async function render(root, route, ctx) {
  const body = h('div.pad');
  root.append(h('div.page-head', h('h1', 'Dataflows'),
    h('button.btn', { type: 'button', onclick: () => load() }, 'Refresh')), body);
  body.append(loading());
  async function load() {
    let list;
    try {
      list = await api.get('/api/v1/dataflows', { signal: ctx.signal });
    } catch (e) {
      if (e.name === 'AbortError') return;
      clear(body).append(errorBox(e, load));
      return;
    }
    clear(body);
    if (!list.length) {
      body.append(h('div.empty', h('h2', 'No dataflows yet'), instrumentHelp()));
      return;
    }
    list.sort((a, b) => a.tag.localeCompare(b.tag));
    body.append(h('div.table-wrap', h('table.grid.dataflows',
      h('thead', h('tr', ['Dataflow', 'Runs', 'Transformations', 'Version', 'Views'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', list.map((d) => h('tr', { dataset: { tag: d.tag } },
        h('td', h('a.strong', { href: href(dfPath(d.tag)) }, d.tag)),
        h('td.num', String(d.executions ?? '')),
        h('td.num', String(d.transformations ?? '')),
        h('td.num', String(d.version ?? '')),
        h('td.links',
          h('a', { href: href(dfPath(d.tag, '/dashboard')) }, 'dashboard'), ' · ',
          h('a', { href: href(dfPath(d.tag, '/graph')) }, 'graph'), ' · ',
          h('a', { href: href(dfPath(d.tag, '/query')) }, 'query builder'), ' · ',
          h('a', { href: href(dfPath(d.tag, '/sql')) }, 'SQL'))))))));
  }
  await load();
  const timer = setInterval(() => { if (!document.hidden) load(); }, 10000);
  ctx.cleanup(() => clearInterval(timer));
}
