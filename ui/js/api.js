// The fetch wrapper: JSON in and out, the server's {"error"} messages as ApiError, the CSRF
// header on writes, a redirect to /login on 401, and a shared "server unreachable" signal.

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status; // 0: the server could not be reached
    this.body = body;
  }
}

const listeners = new Set();
/** fn(ok: boolean, error?: ApiError) after every request: false when the server is unreachable. */
export function onConnectivity(fn) { listeners.add(fn); return () => listeners.delete(fn); }
function report(ok, err) { for (const fn of listeners) fn(ok, err); }

function cookie(name) {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return null;
}

export function loginUrl() {
  return '/login?next=' + encodeURIComponent('/' + location.hash);
}

export async function request(method, path, body, { signal, raw = false, attempt = 0 } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') {
    const csrf = cookie('dnnprov_csrf');
    if (csrf) headers['X-CSRF-Token'] = csrf;
  }
  let res;
  try {
    res = await fetch(path, {
      method, headers, signal, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    const err = new ApiError(0, 'The dnnprov server cannot be reached.');
    report(false, err);
    throw err;
  }
  report(true);
  if (res.status === 429 && attempt < 4) {
    // Busy (or this client's concurrent-query limit): nothing was done; wait as told and resend.
    const after = Math.min(5, Math.max(0.2, Number(res.headers.get('Retry-After')) || 0.5 * (attempt + 1)));
    await new Promise((resolve) => setTimeout(resolve, after * 1000));
    if (signal?.aborted) throw new DOMException('aborted', 'AbortError');
    return request(method, path, body, { signal, raw, attempt: attempt + 1 });
  }
  if (raw) return res;
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!res.ok) {
    if (res.status === 401) {
      location.assign(loginUrl());
    }
    const msg = (data && typeof data === 'object' && data.error) ? data.error
      : `${res.status} ${res.statusText || 'error'}`;
    throw new ApiError(res.status, msg, data);
  }
  return data;
}

export const get = (path, opts) => request('GET', path, undefined, opts);
export const post = (path, body, opts) => request('POST', path, body, opts);
export const del = (path, opts) => request('DELETE', path, undefined, opts);

const enc = encodeURIComponent;
export const df = (tag) => `/api/v1/dataflows/${enc(tag)}`;

/** Builds a query string from an object, skipping null/undefined/'' values. */
export function qs(params) {
  const parts = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    parts.push(`${enc(k)}=${enc(Array.isArray(v) ? v.join(',') : v)}`);
  }
  return parts.length ? '?' + parts.join('&') : '';
}

// Small caches for what rarely changes while a page is open (invalidated by live "dataflow").
const cache = new Map();
export function cached(key, fn) {
  if (!cache.has(key)) {
    const p = fn().catch((e) => { cache.delete(key); throw e; });
    cache.set(key, p);
  }
  return cache.get(key);
}
export function invalidate(prefix) {
  for (const k of [...cache.keys()]) if (k.startsWith(prefix)) cache.delete(k);
}

export const sets = (tag) => cached(`sets:${tag}`, () => get(`${df(tag)}/sets`));
export const graph = (tag) => cached(`graph:${tag}`, () => get(`/api/dataflows/${enc(tag)}`));

/** POST /api/v1/query → {columns, rows, truncated, elapsed_ms}. */
export const query = (sql, dataflow, limit = 10000, opts) => post('/api/v1/query', { sql, dataflow, limit }, opts);
