// What the runs table and the charts know about runs: the column catalogue built from the
// RunSummary objects of GET /runs, the value getters, and the "best" rule.
import { lowerIsBetter, parseTime } from './util.js';

/** The output set whose metrics matter most: the one with the most rows over all runs. */
export function primarySet(runs) {
  const score = new Map();
  for (const r of runs) for (const [set, attrs] of Object.entries(r.metrics || {})) {
    let n = 0;
    for (const s of Object.values(attrs)) n = Math.max(n, s.count || 0);
    score.set(set, (score.get(set) || 0) + n);
  }
  let best = null, bestN = -1;
  for (const [set, n] of score) {
    const pref = /^otrain/.test(set) ? 1e12 : 0; // the seeds' oTrainingModel first
    if (n + pref > bestN) { best = set; bestN = n + pref; }
  }
  return best;
}

export function best(name, stat) {
  if (!stat) return null;
  return lowerIsBetter(name) ? stat.min : stat.max;
}

/** The catalogue of columns: {params: [{set, attr}], tables: [set], metrics: [{set, attr}]}.
 * `sets` (GET /sets) gives the attributes' order as specified; without it, the answer's. */
export function catalogue(runs, sets = []) {
  const params = new Map(), tables = new Set(), metrics = new Map();
  for (const r of runs) {
    for (const [set, vals] of Object.entries(r.params || {})) for (const a of Object.keys(vals)) params.set(`${set}.${a}`, { set, attr: a });
    for (const set of Object.keys(r.tables || {})) tables.add(set);
    for (const [set, attrs] of Object.entries(r.metrics || {})) for (const a of Object.keys(attrs)) metrics.set(`${set}.${a}`, { set, attr: a });
  }
  const pos = new Map();
  for (const s of sets) s.attributes.forEach((a, i) => pos.set(`${s.tag}.${a.name}`, i));
  const attrOrder = (a, b) => (pos.get(`${a.set}.${a.attr}`) ?? 1e9) - (pos.get(`${b.set}.${b.attr}`) ?? 1e9);
  const bySet = (a, b) => (a.set === b.set ? attrOrder(a, b) : a.set < b.set ? -1 : 1);
  // Hyperparameter sets: the one with the most attributes first (iTrainingModel before iAdaptation).
  const size = new Map();
  for (const p of params.values()) size.set(p.set, (size.get(p.set) || 0) + 1);
  const bySize = (a, b) => (a.set === b.set ? attrOrder(a, b) : (size.get(b.set) - size.get(a.set)) || (a.set < b.set ? -1 : 1));
  // Metric sets: the main output set first.
  const main = primarySet(runs);
  const byMain = (a, b) => (a.set === b.set ? attrOrder(a, b) : a.set === main ? -1 : b.set === main ? 1 : bySet(a, b));
  return {
    params: [...params.values()].sort(bySize),
    tables: [...tables].sort(),
    metrics: [...metrics.values()].sort(byMain),
  };
}

/** Orders an object's keys as the set specifies its attributes. */
export function orderedEntries(obj, set, sets = []) {
  const s = sets.find((x) => x.tag === set);
  const pos = new Map((s ? s.attributes : []).map((a, i) => [a.name, i]));
  return Object.entries(obj || {}).sort((a, b) => (pos.get(a[0]) ?? 1e9) - (pos.get(b[0]) ?? 1e9));
}

export const FIXED = [
  { key: 'status', label: 'Status', width: 84, get: (r) => (r.stale ? 'stale' : r.status) },
  { key: 'execution', label: 'Run', width: 200, get: (r) => r.execution },
  { key: 'id', label: 'Id', width: 56, num: true, get: (r) => r.id },
  { key: 'start', label: 'Started', width: 140, get: (r) => r.start_time },
  { key: 'end', label: 'Ended', width: 140, get: (r) => r.end_time },
  { key: 'duration', label: 'Duration', width: 90, num: true, get: (r) => duration(r) },
  { key: 'updated', label: 'Updated', width: 140, get: (r) => r.updated_at },
  { key: 'user', label: 'User', width: 90, get: (r) => r.user },
  { key: 'host', label: 'Host', width: 110, get: (r) => r.host },
  { key: 'script', label: 'Script', width: 160, get: (r) => r.script },
  { key: 'tasks', label: 'Tasks', width: 60, num: true, get: (r) => r.tasks },
];

/** The run's duration in seconds; for a running run, up to now (with the server's clock). */
export function duration(r, skew = 0) {
  if (r.duration !== null && r.duration !== undefined && r.status !== 'RUNNING') return r.duration;
  const s = parseTime(r.start_time);
  if (!s) return r.duration ?? null;
  if (r.status === 'RUNNING') {
    const u = parseTime(r.updated_at);
    const now = Date.now() + skew;
    return Math.max(0, ((r.stale && u ? u.getTime() : now) - s.getTime()) / 1000);
  }
  const e = parseTime(r.end_time);
  return e ? (e - s) / 1000 : r.duration ?? null;
}

export const getParam = (set, attr) => (r) => r.params?.[set]?.[attr] ?? null;
export const getTable = (set) => (r) => r.tables?.[set] ?? null;
export const getStat = (set, attr, stat) => (r) => {
  const s = r.metrics?.[set]?.[attr];
  if (!s) return null;
  return stat === 'best' ? best(attr, s) : s[stat] ?? null;
};

/** Short text naming a run in legends: its execution plus its text hyperparameters and the
 * numeric ones that differ between the given runs. */
export function runLabel(run, among = []) {
  const text = [], nums = [];
  const sets = Object.entries(run.params || {}).sort((a, b) => Object.keys(b[1]).length - Object.keys(a[1]).length);
  for (const [set, vals] of sets) {
    for (const [a, v] of Object.entries(vals)) {
      if (v === null || v === undefined) continue;
      const differs = among.length > 1 && among.some((o) => (o.params?.[set]?.[a] ?? null) !== v);
      if (typeof v === 'string') { if (differs || among.length <= 1) text.push(v); }
      else if (differs && !nums.some((n) => n.startsWith(short(a) + '='))) nums.push(`${short(a)}=${v}`);
    }
  }
  const parts = [...text, ...nums].slice(0, 3);
  const name = shortExecution(run.execution, run.id);
  return parts.length ? `${name} (${parts.join(', ')})` : name;
}

function short(a) {
  return { learning_rate: 'lr', batch_size: 'bs', num_epochs: 'epochs', optimizer_name: 'opt' }[a] || a;
}

export function shortExecution(name, id) {
  if (!name) return `#${id}`;
  return name.length > 34 ? name.slice(0, 16) + '…' + name.slice(-14) : name;
}
