// Small per-tab state shared by views (the selected runs per dataflow), in sessionStorage.

export function selection(tag) {
  try { return JSON.parse(sessionStorage.getItem('dnnprov:sel:' + tag) || '[]'); } catch { return []; }
}
export function setSelection(tag, ids) {
  try { sessionStorage.setItem('dnnprov:sel:' + tag, JSON.stringify(ids)); } catch { /* private mode */ }
}
