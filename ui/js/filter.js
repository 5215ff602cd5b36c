// The runs table's filter language.
//
//   optimizer_name=adam OR optimizer_name=nadam     alternatives
//   accuracy>0.9 AND epoch>=5                       both (AND may be left out: a b = a AND b)
//   loss:0.1..0.5   loss:..0.5   epoch:5..           an inclusive range
//   NOT status=failed   (a OR b) c   name~relu       negation, grouping, "contains"
//   adam   "run 12"                                 free text: execution, status, user, host, script, text values
//
// Operators: = != > >= < <= ~ (contains) and : (a range or, without `..`, like =). Text is
// compared without case; numbers as numbers. A field that the runs do not have is an error.

export class FilterError extends Error {}

function tokenize(src) {
  const out = [];
  const re = /\s+|(>=|<=|!=|==|=|>|<|~|:)|(\(|\))|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^\s()=<>!~:"']+)|(.)/gy;
  let m;
  while ((m = re.exec(src)) !== null) {
    if (m[0] === '') break;
    if (m[1]) out.push({ t: 'op', v: m[1] === '==' ? '=' : m[1] });
    else if (m[2]) out.push({ t: m[2] });
    else if (m[3] !== undefined) out.push({ t: 'word', v: m[3].replace(/\\(.)/g, '$1'), quoted: true });
    else if (m[4] !== undefined) out.push({ t: 'word', v: m[4].replace(/\\(.)/g, '$1'), quoted: true });
    else if (m[5]) {
      const u = m[5].toUpperCase();
      if ((u === 'AND' || u === 'OR' || u === 'NOT') ) out.push({ t: u, v: m[5] });
      else if (m[5] === '&&') out.push({ t: 'AND' });
      else if (m[5] === '||') out.push({ t: 'OR' });
      else out.push({ t: 'word', v: m[5] });
    } else if (m[6]) throw new FilterError(`unexpected character '${m[6]}'`);
  }
  return out;
}

const num = (s) => (s !== '' && s !== null && s !== undefined && !Number.isNaN(Number(s)) ? Number(s) : null);
const low = (v) => String(v).toLowerCase();

function compare(op, actual, want) {
  if (actual === null || actual === undefined || actual === '') return op === '!=' ? want !== '' : false;
  const wn = num(want);
  const an = typeof actual === 'number' ? actual : num(actual);
  if (op === '~') return low(actual).includes(low(want));
  if (wn !== null && an !== null) {
    switch (op) {
      case '=': return an === wn;
      case '!=': return an !== wn;
      case '>': return an > wn;
      case '>=': return an >= wn;
      case '<': return an < wn;
      case '<=': return an <= wn;
    }
  }
  const a = low(actual), w = low(want);
  switch (op) {
    case '=': return a === w;
    case '!=': return a !== w;
    case '>': return a > w;
    case '>=': return a >= w;
    case '<': return a < w;
    case '<=': return a <= w;
  }
  return false;
}

/**
 * Compiles `src` into a predicate run -> boolean.
 * resolve(name) -> getter(run) or null (unknown field); text(run) -> the free-text haystack.
 */
export function compile(src, resolve, text) {
  const toks = tokenize(src || '');
  let i = 0;
  const peek = () => toks[i];
  const next = () => toks[i++];
  const expect = (t) => { const k = next(); if (!k || k.t !== t) throw new FilterError(`expected '${t}'`); return k; };

  function parseOr() {
    let left = parseAnd();
    while (peek() && peek().t === 'OR') {
      next();
      const right = parseAnd();
      const l = left;
      left = (r) => l(r) || right(r);
    }
    return left;
  }
  function parseAnd() {
    let left = parseNot();
    while (peek() && (peek().t === 'AND' || peek().t === 'NOT' || peek().t === '(' || peek().t === 'word')) {
      if (peek().t === 'AND') next();
      const right = parseNot();
      const l = left;
      left = (r) => l(r) && right(r);
    }
    return left;
  }
  function parseNot() {
    const k = peek();
    if (!k) throw new FilterError('incomplete filter');
    if (k.t === 'NOT') { next(); const e = parseNot(); return (r) => !e(r); }
    if (k.t === '(') { next(); const e = parseOr(); expect(')'); return e; }
    if (k.t === 'word') return parseTerm();
    throw new FilterError(`unexpected '${k.v || k.t}'`);
  }
  function parseTerm() {
    const name = next();
    const op = peek();
    if (!op || op.t !== 'op' || name.quoted) {
      const needle = low(name.v);
      return (r) => text(r).includes(needle);
    }
    next();
    const val = next();
    if (!val || val.t !== 'word') throw new FilterError(`a value is missing after '${name.v}${op.v}'`);
    const get = resolve(name.v);
    if (!get) throw new FilterError(`unknown field '${name.v}'`);
    if (op.v === ':') {
      const m = !val.quoted && val.v.match(/^(.*?)\.\.(.*)$/);
      if (m) {
        const lo = m[1] === '' ? null : num(m[1]);
        const hi = m[2] === '' ? null : num(m[2]);
        if ((m[1] !== '' && lo === null) || (m[2] !== '' && hi === null)) throw new FilterError(`'${val.v}' is not a range of numbers (like 0.1..0.5)`);
        return (r) => {
          const v = get(r);
          const n = typeof v === 'number' ? v : num(v);
          return n !== null && (lo === null || n >= lo) && (hi === null || n <= hi);
        };
      }
      return (r) => compare('=', get(r), val.v);
    }
    return (r) => compare(op.v, get(r), val.v);
  }

  if (!toks.length) return () => true;
  const pred = parseOr();
  if (i < toks.length) throw new FilterError(`unexpected '${toks[i].v || toks[i].t}'`);
  return pred;
}
