// Hash routes: every view has its own URL, its state lives in the query part, and the back
// button works. `#/d/mnist/compare?runs=1,2&y=loss` -> {name: 'compare', tag: 'mnist', query}.

const routes = [
  [/^\/$/, 'dataflows'],
  [/^\/d\/([^/]+)\/?$/, 'runs'],
  [/^\/d\/([^/]+)\/run\/([^/]+)$/, 'run'],
  [/^\/d\/([^/]+)\/compare$/, 'compare'],
  [/^\/d\/([^/]+)\/graph$/, 'graph'],
  [/^\/d\/([^/]+)\/query$/, 'query'],
  [/^\/d\/([^/]+)\/sql$/, 'sql'],
  [/^\/d\/([^/]+)\/dashboard$/, 'dashboard'],
  [/^\/d\/([^/]+)\/lineage$/, 'lineage'],
];

export function parse(hash = location.hash) {
  let h = hash.replace(/^#/, '') || '/';
  const qi = h.indexOf('?');
  const path = qi >= 0 ? h.slice(0, qi) : h;
  const query = new URLSearchParams(qi >= 0 ? h.slice(qi + 1) : '');
  for (const [re, name] of routes) {
    const m = path.match(re);
    if (m) {
      return { name, tag: m[1] ? decodeURIComponent(m[1]) : null, id: m[2] ? decodeURIComponent(m[2]) : null, query, path };
    }
  }
  return { name: 'notfound', path, query };
}

/** '#/d/mnist/compare?runs=1,2' from a path and a params object (empty values dropped). */
export function href(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && !v.length)) continue;
    q.set(k, Array.isArray(v) ? v.join(',') : String(v));
  }
  const s = q.toString().replace(/%2C/g, ',');
  return '#' + path + (s ? '?' + s : '');
}

export const dfPath = (tag, rest = '') => `/d/${encodeURIComponent(tag)}${rest}`;

/** Replaces the current URL's query (view state) without a new history entry or a re-render. */
export function setQuery(params, { push = false } = {}) {
  const r = parse();
  const merged = Object.fromEntries(r.query.entries());
  for (const [k, v] of Object.entries(params)) merged[k] = v;
  const h = href(r.path, merged);
  if (h === location.hash) return;
  ignoreNext = true;
  if (push) history.pushState(null, '', h); else history.replaceState(null, '', h);
  ignoreNext = false;
  window.dispatchEvent(new CustomEvent('dnnprov:query'));
}

let ignoreNext = false;
export function onRoute(fn) {
  window.addEventListener('hashchange', () => { if (!ignoreNext) fn(parse()); });
}
export function go(h) { location.hash = h; }
