// DOM building, formatting, CSV.

/** h('div.card#x', {onclick, class, dataset, ...attrs}, children...) -> Element. */
export function h(spec, attrs, ...children) {
  if (attrs === null || attrs === undefined || typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs)) {
    if (attrs !== null && attrs !== undefined) children.unshift(attrs);
    attrs = {};
  }
  const m = spec.match(/^([a-z0-9-]+)?((?:[.#][\w-]+)*)$/i);
  const el = document.createElement((m && m[1]) || 'div');
  if (m && m[2]) {
    for (const part of m[2].match(/[.#][\w-]+/g)) {
      if (part[0] === '.') el.classList.add(part.slice(1)); else el.id = part.slice(1);
    }
  }
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className += (el.className ? ' ' : '') + v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked' || k === 'selected' || k === 'disabled' || k === 'indeterminate') el[k] = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

/** Numbers: up to 4 significant decimals, no exponent for usual magnitudes. */
export function fmtNum(v) {
  if (v === null || v === undefined || v === '') return '';
  if (typeof v !== 'number') return String(v);
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e7)) return v.toExponential(2);
  return String(Number(v.toPrecision(5)));
}

export function fmtValue(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return fmtNum(v);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Seconds -> '1h 02m', '3m 05s', '12.5s'. */
export function fmtDuration(s) {
  if (s === null || s === undefined || !Number.isFinite(s)) return '';
  if (s < 60) return (s < 10 ? s.toFixed(1) : Math.round(s)) + 's';
  const m = Math.floor(s / 60), sec = Math.round(s % 60);
  if (m < 60) return `${m}m ${String(sec).padStart(2, '0')}s`;
  const hr = Math.floor(m / 60);
  return `${hr}h ${String(m % 60).padStart(2, '0')}m`;
}

/** The server's UTC text 'YYYY-MM-DD HH:MM:SS.mmm' -> Date. */
export function parseTime(t) {
  if (!t) return null;
  const d = new Date(t.replace(' ', 'T') + (/[zZ]|[+-]\d\d:?\d\d$/.test(t) ? '' : 'Z'));
  return Number.isNaN(d.getTime()) ? null : d;
}

/** UTC text -> local 'YYYY-MM-DD HH:MM:SS' (title keeps the UTC text). */
export function fmtTime(t, { short = false } = {}) {
  const d = parseTime(t);
  if (!d) return t || '';
  const p = (n) => String(n).padStart(2, '0');
  const time = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  if (short && d.getFullYear() === new Date().getFullYear()) return `${p(d.getMonth() + 1)}-${p(d.getDate())} ${time}`;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${time}`;
}

/** RFC 4180 CSV: fields with a comma, quote, CR or LF are quoted, quotes doubled. */
export function toCSV(columns, rows) {
  const cell = (v) => {
    if (v === null || v === undefined) return '';
    const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
    return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  };
  const lines = [columns.map(cell).join(',')];
  for (const r of rows) lines.push(r.map(cell).join(','));
  return lines.join('\r\n') + '\r\n';
}

export function download(filename, text, type = 'text/csv;charset=utf-8') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function debounce(fn, ms) {
  let t;
  return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
}

/** Coalesces calls into one per animation frame. */
export function perFrame(fn) {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; fn(); });
  };
}

/** Lower is better for names with loss, error, time (and mse/mae/perplexity); else higher. */
export function lowerIsBetter(name) {
  return /loss|error|err$|time|mse|mae|rmse|perplexity|latency|duration/i.test(name);
}

export function statusBadge(status, stale) {
  const s = String(status || '').toUpperCase();
  const cls = stale ? 'stale' : s === 'RUNNING' ? 'running' : s === 'FINISHED' ? 'finished'
    : s.startsWith('FAIL') || s.includes('ERROR') ? 'failed' : 'other';
  const label = stale ? 'stale' : s.toLowerCase().replace(/_/g, ' ');
  return h('span.badge.' + cls, { title: stale ? `${s.toLowerCase()}, but nothing heard for a while` : s }, label);
}

export function loading(text = 'Loading…') { return h('p.muted.pad.loading', { role: 'status' }, text); }

export function errorBox(err, retry) {
  return h('div.error-box', { role: 'alert' },
    h('strong', err && err.status === 0 ? 'Server unreachable. ' : 'Error. '),
    err && err.message ? err.message : String(err),
    retry ? h('button.btn.small', { type: 'button', onclick: retry }, 'Retry') : null);
}

/** A plain result table (for query results and samples), optionally capped. */
export function resultTable(columns, rows, { max = 1000, caption } = {}) {
  const names = columns.map((c) => (typeof c === 'string' ? c : c.name));
  const table = h('table.grid',
    caption ? h('caption', caption) : null,
    h('thead', h('tr', names.map((n, i) => h('th', { scope: 'col', title: columns[i].type || '' }, n)))),
    h('tbody', rows.slice(0, max).map((r) => h('tr', r.map((v) => h('td', { class: typeof v === 'number' ? 'num' : null }, fmtValue(v)))))));
  return h('div.table-wrap', table,
    rows.length > max ? h('p.muted.small', `Showing ${max} of ${rows.length} rows (download CSV for all).`) : null);
}

export function sqlIdent(name) {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : '"' + name.replace(/"/g, '""') + '"';
}

export function fmtMs(ms) {
  if (typeof ms !== 'number') return '';
  return (ms < 10 ? ms.toFixed(1) : Math.round(ms)) + ' ms';
}
