// Live updates of one dataflow over server-sent events. One EventSource per dataflow, shared
// by the views: EventSource reconnects by itself and sends Last-Event-ID, so the server replays
// what was missed (or sends `reset`). When the stream is closed for good (an HTTP error), it is
// reopened here with a backoff. Status changes go to onStatus listeners (the banner, the dot).

const EVENTS = ['run', 'rows', 'dataflow', 'reset'];
let current = null; // {tag, es, handlers: Map(type -> Set(fn)), lastId, retry}
const statusListeners = new Set();
let status = { state: 'off' }; // off | connecting | open | down

function setStatus(state, detail) {
  status = { state, detail, since: Date.now() };
  for (const fn of statusListeners) fn(status);
}
export function onStatus(fn) { statusListeners.add(fn); fn(status); return () => statusListeners.delete(fn); }
export function liveStatus() { return status; }

function open(c) {
  const url = `/api/v1/dataflows/${encodeURIComponent(c.tag)}/live` + (c.lastId != null ? `?since=${encodeURIComponent(c.lastId)}` : '');
  const es = new EventSource(url, { withCredentials: true });
  c.es = es;
  setStatus('connecting');
  es.onopen = () => { c.failures = 0; setStatus('open'); };
  es.onerror = () => {
    if (current !== c) return;
    if (es.readyState === EventSource.CLOSED) {
      // Closed for good (an HTTP error answer). A dataflow that does not exist has nothing to
      // follow (the view says so): stop, without a "reconnecting" banner. Otherwise reopen
      // ourselves, slower each time.
      fetch(`/api/v1/dataflows/${encodeURIComponent(c.tag)}`, { credentials: 'same-origin' }).then(
        (r) => r.status === 404, () => false).then((gone) => {
        if (current !== c) return;
        if (gone) { close(); return; }
        c.failures = (c.failures || 0) + 1;
        setStatus('down', 'closed');
        clearTimeout(c.retry);
        c.retry = setTimeout(() => { if (current === c) open(c); }, Math.min(15000, 1000 * 2 ** Math.min(c.failures, 4)));
      });
    } else {
      setStatus('down', 'reconnecting');
    }
  };
  for (const type of EVENTS) {
    es.addEventListener(type, (ev) => {
      if (current !== c) return;
      if (ev.lastEventId) c.lastId = ev.lastEventId;
      let data = null;
      try { data = ev.data ? JSON.parse(ev.data) : {}; } catch { return; }
      const fns = c.handlers.get(type);
      if (fns) for (const fn of [...fns]) { try { fn(data, ev); } catch (e) { console.error(e); } }
    });
  }
}

/**
 * Opens the stream of `tag` from `since` (the `seq` of a GET /runs answer), unless it is open:
 * what changed between that answer and the stream's start is replayed, so nothing falls in
 * between. Views call it right after fetching /runs, before subscribing.
 */
export function connect(tag, since) {
  if (current && current.tag === tag) return;
  close();
  current = { tag, es: null, handlers: new Map(), lastId: since ?? null, retry: null, failures: 0 };
  open(current);
}

/** Subscribes fn(data) to `type` events of dataflow `tag`; returns the unsubscribe function. */
export function subscribe(tag, type, fn) {
  if (!current || current.tag !== tag) {
    close();
    current = { tag, es: null, handlers: new Map(), lastId: null, retry: null, failures: 0 };
    open(current);
  }
  const c = current;
  if (!c.handlers.has(type)) c.handlers.set(type, new Set());
  c.handlers.get(type).add(fn);
  return () => { c.handlers.get(type)?.delete(fn); };
}

export function close() {
  if (current) {
    clearTimeout(current.retry);
    current.es?.close();
    current = null;
  }
  setStatus('off');
}

/** Reconnect now (the banner's Retry button). */
export function reconnect() {
  if (!current) return;
  clearTimeout(current.retry);
  current.es?.close();
  open(current);
}
