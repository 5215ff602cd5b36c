// #/d/{tag}/query?q=<query text> : the query builder of DfAnalyzer's query language. Pick the
// source and target datasets (and those the path must include or avoid), the attributes to
// project, the conditions and the mapping; the page writes the query text, the server
// generates the SQL (joins along the dataflow's paths) and runs it. CSV download of the result.
import * as api from '../api.js';
import { h, clear, fmtMs, errorBox, loading, resultTable, toCSV, download } from '../util.js';
import { setQuery } from '../router.js';

const OPS = ['=', '!=', '<', '<=', '>', '>=', 'LIKE'];

/** Reads query text into the form's state (what the builder writes; anything else is kept as text). */
export function parseQuery(text) {
  const st = { mapping: 'physical', source: [], target: [], include: [], exclude: [], projection: [], selection: [] };
  let i = 0;
  while (i < text.length) {
    const m = /^\s*([a-zA-Z_]+)\s*\(/.exec(text.slice(i));
    if (!m) break;
    i += m[0].length;
    let depth = 0, quote = null, j = i;
    for (; j < text.length; j++) {
      const c = text[j];
      if (quote) { if (c === quote) quote = null; } else if (c === "'" || c === '"') quote = c;
      else if (c === '(') depth++;
      else if (c === ')') { if (depth === 0) break; depth--; }
    }
    const args = text.slice(i, j);
    i = j + 1;
    const kw = m[1].toLowerCase();
    const items = splitTop(args);
    if (kw === 'mapping') st.mapping = (items[0] || 'physical').toLowerCase();
    else if (kw === 'selection') st.selection.push(...items.map(parseCond));
    else if (st[kw]) st[kw].push(...items.map((s) => (kw === 'projection' ? s : s.toLowerCase().replace(/^ds_/, ''))));
  }
  return st;
}

function splitTop(s, seps = ';') {
  const out = [];
  let cur = '', depth = 0, quote = null;
  for (const c of s) {
    if (quote) { if (c === quote) quote = null; cur += c; continue; }
    if (c === "'" || c === '"') { quote = c; cur += c; continue; }
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (depth === 0 && seps.includes(c)) { if (cur.trim()) out.push(cur.trim()); cur = ''; continue; }
    cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

function parseCond(s) {
  const m = /^([\w.\-"]+)\s*(<=|>=|!=|<>|=|<|>|\bLIKE\b)\s*(.+)$/i.exec(s);
  if (!m) return { raw: s };
  let v = m[3].trim();
  if (/^'.*'$/.test(v)) v = v.slice(1, -1).replace(/''/g, "'");
  return { attr: m[1], op: m[2].toUpperCase() === 'LIKE' ? 'LIKE' : m[2] === '<>' ? '!=' : m[2], value: v };
}

function literal(v, type) {
  if (type === 'NUMERIC' && v.trim() !== '' && !Number.isNaN(Number(v))) return String(Number(v));
  return "'" + String(v).replace(/'/g, "''") + "'";
}

/** The query text of a form state. */
export function writeQuery(st, types = new Map()) {
  const lines = [`mapping(${st.mapping})`];
  for (const k of ['source', 'target', 'include', 'exclude']) if (st[k].length) lines.push(`${k}(${st[k].join(';')})`);
  if (st.projection.length) lines.push(`projection(${st.projection.join(';')})`);
  const conds = st.selection.map((c) => (c.raw ? c.raw : c.attr && c.value !== '' ? `${c.attr} ${c.op} ${literal(c.value, types.get(c.attr))}` : null)).filter(Boolean);
  if (conds.length) lines.push(`selection(${conds.join(';')})`);
  return lines.join('\n');
}

export async function render(root, route, ctx) {
  const tag = route.tag;
  const q = route.query;
  root.append(loading());
  const sets = await api.sets(tag);
  clear(root);
  const types = new Map();
  for (const s of sets) for (const a of s.attributes) types.set(`${s.tag}.${a.name}`, a.type);

  let st;
  if (q.get('q')) st = parseQuery(q.get('q'));
  else {
    st = parseQuery('');
    st.source = (q.get('source') || '').split(',').filter(Boolean);
    st.target = (q.get('target') || '').split(',').filter(Boolean);
    if (!st.source.length && !st.target.length) {
      // A first example: the main input dataset (iTrainingModel, else the widest input) and what its transformation produces.
      const inputs = sets.filter((x) => !x.producers.length && x.consumers.length);
      const src = inputs.find((x) => /^itrain/.test(x.tag)) || inputs.sort((a, b) => b.attributes.length - a.attributes.length)[0];
      const outs = src ? sets.filter((x) => x.producers.some((p) => src.consumers.includes(p))) : [];
      const tgt = outs.find((x) => /^otrain/.test(x.tag)) || outs[0];
      if (src && tgt) { st.source = [src.tag]; st.target = [tgt.tag]; }
    }
    if (!st.projection.length) for (const t of [...st.source, ...st.target]) for (const a of sets.find((s) => s.tag === t)?.attributes || []) st.projection.push(`${t}.${a.name}`);
  }
  let result = null;

  root.append(h('div.page-head', h('h1', 'Query builder'),
    h('span.muted.small', 'DfAnalyzer’s query language: the server joins the datasets along the dataflow’s paths.')));
  const form = h('form.qb-form#qb-form', { novalidate: true });
  const out = h('div.qb-out');
  root.append(h('div.qb', form, out));

  const queryPre = h('pre.query-text#qb-text', { tabindex: '0', 'aria-label': 'Query text' });
  const sqlPre = h('pre.sql-text#qb-sql', { tabindex: '0', 'aria-label': 'Generated SQL' }, h('span.muted', 'Run the query to see the SQL the server generates.'));
  const resultBox = h('div.result#qb-result');
  const runBtn = h('button.btn.primary#qb-run', { type: 'submit' }, 'Run query');
  const csvBtn = h('button.btn#qb-csv', { type: 'button', disabled: true }, 'Download CSV');
  const toSql = h('a.btn#qb-to-sql', { href: '#', 'aria-disabled': 'true' }, 'Open SQL in console');
  out.append(h('h2', 'Query'), queryPre, h('div.row-gap', runBtn, csvBtn, toSql), h('h2', { style: { marginTop: '10px' } }, 'Generated SQL'), sqlPre, h('h2', 'Result'), resultBox);
  runBtn.setAttribute('form', 'qb-form');

  function setPicker(kind, label, help) {
    return h('fieldset', { dataset: { kind } }, h('legend', label), help ? h('p.small.muted', help) : null,
      h('div', sets.map((s) => {
        const cb = h('input', { type: 'checkbox', value: s.tag, checked: st[kind].includes(s.tag), name: kind });
        cb.addEventListener('change', () => {
          st[kind] = cb.checked ? [...st[kind], s.tag] : st[kind].filter((x) => x !== s.tag);
          if (kind === 'source' || kind === 'target') renderAttrs();
          changed();
        });
        return h('label.check', cb, s.tag);
      })));
  }
  const mapping = h('fieldset', h('legend', 'Mapping'), ['physical', 'logical', 'hybrid'].map((m) => {
    const r = h('input', { type: 'radio', name: 'mapping', value: m, checked: st.mapping === m });
    r.addEventListener('change', () => { st.mapping = m; changed(); });
    return h('label.check', { title: { physical: 'join on the task ids (what produced / consumed what)', logical: 'join on the attributes the datasets share', hybrid: 'both' }[m] }, r, m);
  }));
  const attrsBox = h('div.attrs');
  const projField = h('fieldset', h('legend', 'Attributes to show (projection)'), attrsBox);
  const condBox = h('div#qb-conds');
  const addCond = h('button.btn.small#qb-add-cond', { type: 'button' }, 'Add condition');
  addCond.addEventListener('click', () => { st.selection.push({ attr: allAttrs()[0] || '', op: '=', value: '' }); renderConds(); changed(); condBox.querySelector('.cond-row:last-child select')?.focus(); });
  const condField = h('fieldset', h('legend', 'Conditions (all must hold)'), condBox, addCond);
  const path = h('details', st.include.length || st.exclude.length ? { open: true } : {}, h('summary', 'Path: datasets to include or avoid'),
    setPicker('include', 'Include', 'the path must go through these'), setPicker('exclude', 'Exclude', 'the path must avoid these'));
  form.append(setPicker('source', 'Source datasets'), setPicker('target', 'Target datasets'), mapping, projField, condField, path);

  const relevant = () => [...new Set([...st.source, ...st.target, ...st.include])];
  // Conditions may use any dataset's attributes (those on the path between source and target).
  const ordered = () => [...relevant(), ...sets.map((s) => s.tag).filter((t) => !relevant().includes(t))];
  const allAttrs = () => ordered().flatMap((t) => (sets.find((s) => s.tag === t)?.attributes || []).map((a) => `${t}.${a.name}`));

  function renderAttrs() {
    clear(attrsBox);
    const tags = relevant();
    if (!tags.length) { attrsBox.append(h('p.small.muted', 'Pick a source and a target first.')); return; }
    const others = sets.map((x) => x.tag).filter((t) => !tags.includes(t));
    const more = h('details', others.some((t) => st.projection.some((k) => k.startsWith(t + '.'))) ? { open: true } : {},
      h('summary.small', 'Datasets on the path between them'));
    for (const t of [...tags, ...others]) {
      const s = sets.find((x) => x.tag === t);
      if (!s) continue;
      (tags.includes(t) ? attrsBox : more).append(h('div', h('strong.small', t), ' ', h('button.btn.small', { type: 'button', onclick: () => { const keys = s.attributes.map((a) => `${t}.${a.name}`); const all = keys.every((k) => st.projection.includes(k)); st.projection = all ? st.projection.filter((k) => !keys.includes(k)) : [...new Set([...st.projection, ...keys])]; renderAttrs(); changed(); } }, 'all / none')),
        h('div', s.attributes.map((a) => {
          const key = `${t}.${a.name}`;
          const cb = h('input', { type: 'checkbox', value: key, checked: st.projection.includes(key), dataset: { attr: key } });
          cb.addEventListener('change', () => { st.projection = cb.checked ? [...st.projection, key] : st.projection.filter((k) => k !== key); changed(); });
          return h('label.check', { title: a.type }, cb, a.name);
        })));
    }
    if (others.length) attrsBox.append(more);
  }

  function renderConds() {
    clear(condBox);
    st.selection.forEach((c, i) => {
      if (c.raw) {
        condBox.append(h('div.cond-row', h('code', { style: { gridColumn: 'span 3' } }, c.raw), removeBtn(i)));
        return;
      }
      const attrs = allAttrs();
      if (c.attr && !attrs.includes(c.attr)) attrs.push(c.attr);
      const a = h('select', { 'aria-label': 'Attribute' }, attrs.map((k) => h('option', { value: k, selected: k === c.attr }, k)));
      const op = h('select', { 'aria-label': 'Operator' }, OPS.map((o) => h('option', { value: o, selected: o === c.op }, o)));
      const v = h('input', { type: 'text', value: c.value, 'aria-label': 'Value', placeholder: 'value' });
      a.addEventListener('change', () => { c.attr = a.value; changed(); });
      op.addEventListener('change', () => { c.op = op.value; changed(); });
      v.addEventListener('input', () => { c.value = v.value; changed(); });
      condBox.append(h('div.cond-row', a, op, v, removeBtn(i)));
    });
    if (!st.selection.length) condBox.append(h('p.small.muted', 'No conditions: every row.'));
  }
  function removeBtn(i) {
    return h('button.btn.small', { type: 'button', 'aria-label': 'Remove condition', title: 'Remove', onclick: () => { st.selection.splice(i, 1); renderConds(); changed(); } }, '×');
  }

  const text = () => writeQuery(st, types);
  function changed() {
    const t = text();
    queryPre.textContent = t;
    setQuery({ q: t, source: '', target: '' });
  }

  async function run() {
    const t = text();
    clear(resultBox).append(loading('Running…'));
    runBtn.disabled = true;
    try {
      const ans = await api.post(`${api.df(tag)}/dfquery`, { query: t, run: true, limit: 10000 }, { signal: ctx.signal });
      result = ans.result;
      sqlPre.textContent = ans.sql;
      toSql.href = `#/d/${encodeURIComponent(tag)}/sql?q=${encodeURIComponent(ans.sql)}`;
      toSql.setAttribute('aria-disabled', 'false');
      clear(resultBox).append(
        h('p.result-meta', `${result.rows.length} row${result.rows.length === 1 ? '' : 's'}${result.truncated ? ' (truncated: limit reached)' : ''} · ${fmtMs(result.elapsed_ms)}`),
        resultTable(result.columns, result.rows));
      resultBox.__result = result;
      resultBox.dataset.rows = String(result.rows.length);
      csvBtn.disabled = false;
    } catch (e) {
      if (e.name === 'AbortError') return;
      result = null;
      csvBtn.disabled = true;
      clear(resultBox).append(errorBox(e));
      delete resultBox.dataset.rows;
    } finally { runBtn.disabled = false; }
  }
  form.addEventListener('submit', (e) => { e.preventDefault(); run(); });
  csvBtn.addEventListener('click', () => {
    if (result) download(`${tag}-query.csv`, toCSV(result.columns.map((c) => c.name), result.rows));
  });
  toSql.addEventListener('click', (e) => { if (toSql.getAttribute('aria-disabled') === 'true') e.preventDefault(); });

  renderAttrs();
  renderConds();
  queryPre.textContent = text();
  if (!q.get('q')) setQuery({ q: text(), source: '', target: '' });
  if (st.source.length) run();
}
