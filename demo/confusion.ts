// The per-class confusion table of the test split: rows are true classes, columns predictions;
// the last column is each class's recall, the last row each prediction's precision.

const pct = (num: number, den: number) => (den ? `${((100 * num) / den).toFixed(1)}%` : '–');

export function renderConfusion(table: HTMLTableElement, confusion: number[][]): void {
  const C = confusion.length;
  const max = Math.max(1, ...confusion.flat());
  const colTotals = Array.from({ length: C }, (_, j) => confusion.reduce((s, row) => s + row[j], 0));
  const cell = (tag: 'th' | 'td', text: string, className = '', title = '') => {
    const el = document.createElement(tag);
    el.textContent = text;
    if (className) el.className = className;
    if (title) el.title = title;
    return el;
  };
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  head.append(cell('th', 'true \\ predicted', 'corner'));
  for (let j = 0; j < C; j++) head.append(cell('th', `${j}`));
  head.append(cell('th', 'recall', 'summary'));
  const body = table.createTBody();
  confusion.forEach((row, i) => {
    const tr = body.insertRow();
    tr.append(cell('th', `class ${i}`));
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((n, j) => {
      const td = cell('td', String(n), i === j ? 'diag' : n ? 'off' : 'zero', `true ${i}, predicted ${j}: ${n} test nodes`);
      // Shade by count so the diagonal and the main confusions stand out.
      td.style.setProperty('--shade', (n / max).toFixed(3));
      tr.append(td);
    });
    tr.append(cell('td', pct(row[i], total), 'summary', `${row[i]} of ${total}`));
  });
  const foot = table.createTFoot().insertRow();
  foot.append(cell('th', 'precision'));
  for (let j = 0; j < C; j++) foot.append(cell('td', pct(confusion[j][j], colTotals[j]), 'summary', `${confusion[j][j]} of ${colTotals[j]}`));
  foot.append(cell('td', ''));
}
