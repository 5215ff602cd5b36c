// The shell: header (dataflow switcher, view tabs), the banner for an unreachable server or a
// broken live stream, and the router that renders one view at a time into <main>.
import * as api from './api.js';
import * as live from './live.js';
import { parse, onRoute, href, dfPath } from './router.js';
import { h, clear, errorBox } from './util.js';
import { selection } from './state.js';

const views = {
  dataflows: () => import('./views/dataflows.js'),
  runs: () => import('./views/runs.js'),
  run: () => import('./views/run.js'),
  compare: () => import('./views/compare.js'),
  graph: () => import('./views/graph.js'),
  query: () => import('./views/query.js'),
  sql: () => import('./views/sql.js'),
  dashboard: () => import('./views/dashboard.js'),
  lineage: () => import('./views/lineage.js'),
};

const TABS = [
  ['runs', 'Runs', ''], ['compare', 'Compare', '/compare'], ['dashboard', 'Dashboard', '/dashboard'],
  ['graph', 'Graph', '/graph'], ['query', 'Query builder', '/query'], ['sql', 'SQL', '/sql'],
  ['lineage', 'Lineage', '/lineage'],
];

const main = document.getElementById('main');
let ctx = null;
let renderSeq = 0;

/** What a view gets: cleanup hooks, live subscriptions, an abort signal for its fetches. */
class ViewContext {
  constructor(route) {
    this.route = route;
    this.ctrl = new AbortController();
    this.signal = this.ctrl.signal;
    this.disposers = [];
    this.alive = true;
  }
  on(type, fn) { this.disposers.push(live.subscribe(this.route.tag, type, fn)); }
  cleanup(fn) { this.disposers.push(fn); }
  rerender() { if (this.alive) render(parse()); }
  dispose() {
    this.alive = false;
    this.ctrl.abort();
    for (const d of this.disposers.splice(0)) { try { d(); } catch (e) { console.error(e); } }
  }
}

async function render(route) {
  const seq = ++renderSeq;
  if (ctx) ctx.dispose();
  if (!route.tag) live.close();
  ctx = new ViewContext(route);
  const myCtx = ctx;
  delete main.dataset.ready;
  main.dataset.view = route.name;
  header(route);
  clear(main);
  if (route.name === 'notfound') {
    main.append(h('div.pad', h('h1', 'Page not found'), h('p', 'No view at ', h('code', route.path), '. ', h('a', { href: '#/' }, 'All dataflows'))));
    main.dataset.ready = location.hash;
    return;
  }
  try {
    const mod = await views[route.name]();
    if (seq !== renderSeq) return;
    await mod.render(main, route, myCtx);
    if (seq !== renderSeq) return;
    document.title = `${route.tag ? route.tag + ' · ' : ''}${viewTitle(route.name)} · dnnprov`;
  } catch (e) {
    if (e.name === 'AbortError' || seq !== renderSeq) return;
    console.error(e);
    clear(main).append(h('div.pad', errorBox(e, () => render(parse()))));
  }
  if (seq === renderSeq) main.dataset.ready = location.hash;
}

function viewTitle(name) {
  return { dataflows: 'Dataflows', runs: 'Runs', run: 'Run', compare: 'Compare', graph: 'Graph', query: 'Query builder', sql: 'SQL', dashboard: 'Dashboard', lineage: 'Lineage' }[name] || '';
}

let dataflowList = null;
async function header(route) {
  const crumbs = document.getElementById('crumbs');
  const tabs = document.getElementById('tabs');
  clear(tabs);
  clear(crumbs);
  if (!route.tag) return;
  const tab = route.name === 'run' ? 'runs' : route.name;
  for (const [name, label, suffix] of TABS) {
    let target = href(dfPath(route.tag, suffix));
    if (name === 'compare') {
      const sel = selection(route.tag);
      if (sel.length) target = href(dfPath(route.tag, '/compare'), { runs: sel });
    }
    tabs.append(h('a.tab', { href: target, 'aria-current': name === tab ? 'page' : null, dataset: { tab: name } }, label));
  }
  const select = h('select#df-select', { 'aria-label': 'Dataflow', title: 'Switch dataflow' }, h('option', { value: route.tag }, route.tag));
  crumbs.append(h('span.sep', '/'), select);
  select.addEventListener('change', () => {
    const r = parse();
    const suffix = { runs: '', run: '', compare: '/compare', graph: '/graph', query: '/query', sql: '/sql', dashboard: '/dashboard' }[r.name] || '';
    location.hash = href(dfPath(select.value, suffix));
  });
  try {
    dataflowList = dataflowList || await api.get('/api/v1/dataflows');
    for (const d of dataflowList) if (d.tag !== route.tag) select.append(h('option', { value: d.tag }, d.tag));
  } catch { /* the view shows the error */ }
}

// -- banner: server unreachable / live stream down -------------------------------------------

const banner = document.getElementById('banner');
const dot = document.getElementById('live-dot');
let unreachable = false;
let liveDownTimer = null;
let healthTimer = null;

function showBanner(kind, text, action) {
  clear(banner);
  banner.hidden = false;
  banner.dataset.kind = kind;
  banner.append(h('span', text));
  if (action) banner.append(h('button.btn.small', { type: 'button', onclick: action[1] }, action[0]));
}
function hideBanner(kind) {
  if (!banner.hidden && banner.dataset.kind === kind) { banner.hidden = true; clear(banner); delete banner.dataset.kind; }
}

api.onConnectivity((ok) => {
  if (!ok && !unreachable) {
    unreachable = true;
    showBanner('offline', 'The dnnprov server cannot be reached. Retrying every few seconds…', ['Retry now', pollHealth]);
    healthTimer = setInterval(pollHealth, 3000);
  } else if (ok && unreachable) {
    unreachable = false;
    clearInterval(healthTimer);
    hideBanner('offline');
    render(parse()); // what failed while it was down
  }
});
async function pollHealth() {
  try { await api.get('/health'); } catch { /* still down: onConnectivity keeps the banner */ }
}

live.onStatus((s) => {
  dot.dataset.state = s.state;
  dot.title = { off: 'Live updates off', connecting: 'Connecting to live updates…', open: 'Live: updates arrive as training runs', down: 'Live updates interrupted' }[s.state];
  dot.textContent = s.state === 'open' ? 'live' : s.state === 'down' ? 'offline' : s.state === 'connecting' ? '…' : '';
  if (s.state === 'down') {
    if (!liveDownTimer) {
      // Only when it stays down (EventSource retries every second): a blip shows nothing.
      liveDownTimer = setTimeout(async () => {
        await pollHealth(); // a server that is gone says so in its own banner
        if (!unreachable && live.liveStatus().state === 'down') showBanner('live', 'Live updates are interrupted: reconnecting… (what you see may be out of date)', ['Reconnect', live.reconnect]);
      }, 1500);
    }
  } else if (s.state === 'open' || s.state === 'off') {
    clearTimeout(liveDownTimer);
    liveDownTimer = null;
    hideBanner('live');
  }
});

// Live events that concern every view of a dataflow.
window.addEventListener('dnnprov:query', () => { main.dataset.ready = location.hash; });

// Signed in with a token (the session cookie comes with a readable CSRF cookie): offer to sign out.
if (/(^|;\s*)dnnprov_csrf=/.test(document.cookie)) document.getElementById('logout').hidden = false;

document.getElementById('skip-link').addEventListener('click', (e) => { e.preventDefault(); main.focus(); });

onRoute((route) => render(route));
if (!location.hash || location.hash === '#') history.replaceState(null, '', '#/');
render(parse());

// A small hook for tests and the console: the current view context.
window.dnnprov = { get view() { return ctx; }, api, live };
