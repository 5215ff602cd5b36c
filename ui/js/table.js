// A virtualised table: only the rows in view (plus a margin) are in the DOM, so 10,000 runs
// scroll smoothly. Rows have a fixed height; the header is sticky and its buttons sort.
// Sorting and filtering are the caller's: it passes the rows in display order.
import { h, clear, perFrame } from './util.js';

export class VirtualTable {
  /**
   * columns: [{key, label, sub?, title?, width, num?, sortable?, render(row) -> Node|string, headerNode?}]
   * opts: {rowHeight, rowKey(row), sort: {key, desc}, onSort(key), rowClass(row), label}
   */
  constructor(opts) {
    this.opts = Object.assign({ rowHeight: 32, overscan: 8 }, opts);
    this.rows = [];
    this.columns = [];
    this.rowEls = new Map(); // key -> {el, row, colsVersion}
    this.colsVersion = 0;
    this.el = h('div.vt', { role: 'table', 'aria-label': opts.label || 'table', tabindex: '-1' });
    this.head = h('div.vt-head', { role: 'rowgroup' });
    this.body = h('div.vt-body', { role: 'rowgroup' });
    this.el.append(this.head, this.body);
    this.schedule = perFrame(() => this.renderRows());
    this.el.addEventListener('scroll', () => this.schedule(), { passive: true });
    if (typeof ResizeObserver !== 'undefined') {
      this.ro = new ResizeObserver(() => this.schedule());
      this.ro.observe(this.el);
    }
  }

  destroy() { this.ro?.disconnect(); }

  setColumns(columns, sort) {
    this.columns = columns;
    // Leading columns marked sticky stay in view when the table scrolls sideways.
    let left = 0;
    for (const c of columns) { c.stickyLeft = c.sticky ? left : null; left += c.width || 100; }
    if (sort !== undefined) this.opts.sort = sort;
    this.colsVersion++;
    const template = columns.map((c) => `${c.width || 100}px`).join(' ');
    const width = columns.reduce((a, c) => a + (c.width || 100), 0);
    this.el.style.setProperty('--vt-cols', template);
    this.el.style.setProperty('--vt-width', width + 'px');
    this.renderHead();
    this.schedule();
  }

  renderHead() {
    const { sort, onSort } = this.opts;
    const row = h('div.vt-row.vt-header', { role: 'row' });
    for (const c of this.columns) {
      const active = sort && sort.key === c.key;
      const cell = h('div.vt-cell', {
        role: 'columnheader', class: [c.num ? 'num' : '', c.sticky ? 'sticky' : ''].join(' ').trim() || null, title: c.title || null, dataset: { col: c.key },
        style: c.sticky ? { left: c.stickyLeft + 'px' } : null,
        'aria-sort': active ? (sort.desc ? 'descending' : 'ascending') : null,
      });
      if (c.headerNode) cell.append(c.headerNode);
      else if (c.sortable !== false && onSort) {
        cell.append(h('button.sort', { type: 'button', onclick: () => onSort(c.key), title: (c.title ? c.title + '. ' : '') + 'Sort by ' + c.label },
          h('span.lbl', c.label), c.sub ? h('span.sub', c.sub) : null,
          h('span.arrow', { 'aria-hidden': 'true' }, active ? (sort.desc ? '▼' : '▲') : '')));
      } else {
        cell.append(h('span.lbl', c.label), c.sub ? h('span.sub', c.sub) : null);
      }
      row.append(cell);
    }
    clear(this.head).append(row);
  }

  setRows(rows) {
    this.rows = rows;
    this.el.setAttribute('aria-rowcount', String(rows.length + 1));
    this.body.style.height = rows.length * this.opts.rowHeight + 'px';
    this.lastRange = null;
    this.schedule();
  }

  /** Re-renders the visible rows whose object changed (or all, with force). */
  refresh(force = false) {
    if (force) this.colsVersion++; // every row is rebuilt (in place) at the next frame
    this.lastRange = null;
    this.schedule();
  }

  scrollToTop() { this.el.scrollTop = 0; }

  renderRows() {
    const { rowHeight, overscan, rowKey, rowClass } = this.opts;
    const headH = this.head.offsetHeight || rowHeight;
    const top = Math.max(0, this.el.scrollTop - headH);
    const viewH = this.el.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / rowHeight) - overscan);
    const last = Math.min(this.rows.length, Math.ceil((top + viewH) / rowHeight) + overscan);
    const range = `${first}:${last}:${this.colsVersion}`;
    if (range === this.lastRange) return;
    this.lastRange = range;
    const keep = new Set();
    for (let i = first; i < last; i++) {
      const row = this.rows[i];
      const key = rowKey(row);
      keep.add(key);
      let rec = this.rowEls.get(key);
      if (!rec || rec.row !== row || rec.colsVersion !== this.colsVersion) {
        const el = h('div.vt-row', { role: 'row', dataset: { key: String(key) }, class: rowClass ? rowClass(row) : null });
        for (const c of this.columns) {
          const v = c.render(row);
          el.append(h('div.vt-cell', { role: 'cell', class: [c.num ? 'num' : '', c.sticky ? 'sticky' : ''].join(' ').trim() || null, dataset: { col: c.key }, style: c.sticky ? { left: c.stickyLeft + 'px' } : null }, v));
        }
        // Keep keyboard focus when a row is replaced (a live update of a focused row).
        const hadFocus = rec && rec.el.contains(document.activeElement);
        if (rec) rec.el.replaceWith(el); else this.body.append(el);
        rec = { el, row, colsVersion: this.colsVersion };
        this.rowEls.set(key, rec);
        if (hadFocus) el.querySelector('input,a,button')?.focus();
      }
      rec.el.style.transform = `translateY(${i * rowHeight}px)`;
      rec.el.setAttribute('aria-rowindex', String(i + 2));
    }
    for (const [key, rec] of this.rowEls) {
      if (!keep.has(key)) {
        if (rec.el.contains(document.activeElement)) continue; // never drop the focused row mid-tab
        rec.el.remove();
        this.rowEls.delete(key);
      }
    }
  }
}
