"""The report's own stylesheet and the script that sorts and filters its results table.

Written as files into the report folder (`assets/`), beside plotly.js: nothing is fetched from
elsewhere. The plots are plotly's; this script only orders and hides table rows.
"""

from __future__ import annotations

CSS = """\
:root { --fg: #1f2328; --muted: #656d76; --line: #d0d7de; --bg2: #f6f8fa; --accent: #0969da; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
       margin: 0 auto; padding: 16px 24px 48px; max-width: 1400px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; }
a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
code, pre { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { background: var(--bg2); border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px;
      overflow-x: auto; white-space: pre-wrap; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
         border: 1px solid var(--line); background: var(--bg2); margin-right: 4px; }
.s-succeeded, .s-cached { color: #1a7f37; } .s-failed { color: #cf222e; font-weight: 600; }
.s-skipped, .s-stopped { color: #9a6700; } .s-pending { color: var(--muted); }
.s-running { color: var(--accent); } .s-interrupted { color: #8250df; }
.synthetic { background: #fff1c2; border: 2px solid #d4a72c; color: #6b4b00; padding: 8px 12px;
             border-radius: 6px; font-weight: 600; margin: 10px 0; }
.badge.synthetic-tag { background: #fff1c2; border-color: #d4a72c; color: #6b4b00;
                      font-weight: 700; }
.live { background: #ddf4ff; border: 1px solid #54aeff; padding: 8px 12px; border-radius: 6px;
        margin: 10px 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
.controls { display: flex; gap: 12px; align-items: center; margin: 6px 0 8px; flex-wrap: wrap; }
.controls input { padding: 4px 8px; width: 280px; border: 1px solid var(--line); border-radius: 6px; }
.controls select { padding: 3px 6px; border: 1px solid var(--line); border-radius: 6px; }
.table-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; max-height: 70vh; }
table.results { border-collapse: collapse; width: 100%; font-size: 13px; }
table.results th, table.results td { padding: 4px 8px; border-bottom: 1px solid var(--line);
                                     text-align: left; white-space: nowrap; }
table.results th { background: var(--bg2); position: sticky; top: 0; cursor: pointer;
                   user-select: none; z-index: 1; }
table.results th[aria-sort="ascending"]::after { content: " \\25B2"; }
table.results th[aria-sort="descending"]::after { content: " \\25BC"; }
table.results td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.results td.inherited { color: var(--muted); font-style: italic; }
table.results td.error { max-width: 360px; overflow: hidden; text-overflow: ellipsis; }
tr.best { background: #dafbe1; } tr.reference { background: #f1f0ff; }
.tag { font-size: 11px; padding: 0 6px; border-radius: 8px; margin-left: 4px; color: #fff; }
.tag.best { background: #1a7f37; } .tag.reference { background: #8250df; }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 12px; }
.plot { border: 1px solid var(--line); border-radius: 6px; padding: 4px; }
.muted { color: var(--muted); }
table.config td { padding: 1px 10px 1px 0; vertical-align: top; font-family: ui-monospace, monospace;
                  font-size: 12.5px; }
table.config tr.set { background: #fff8c5; font-weight: 600; }
table.steps { border-collapse: collapse; font-size: 13px; }
table.steps th, table.steps td { padding: 3px 10px; border-bottom: 1px solid var(--line);
                                 text-align: left; vertical-align: top; }
footer { margin-top: 32px; color: var(--muted); font-size: 12.5px; }
"""

JS = """\
// Sort the results table by a column (click its header), filter it by text and by status.
(function () {
  const table = document.getElementById("results");
  if (!table) return;
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const headers = Array.from(table.tHead.rows[0].cells);
  function key(row, col, numeric) {
    const cell = row.cells[col];
    const raw = cell.dataset.v !== undefined ? cell.dataset.v : cell.textContent.trim();
    if (!numeric) return raw.toLowerCase();
    const value = parseFloat(raw);
    return Number.isNaN(value) ? null : value;
  }
  headers.forEach(function (th, col) {
    th.addEventListener("click", function () {
      const numeric = th.dataset.type === "num";
      const current = th.getAttribute("aria-sort");
      let order;
      if (current) order = current === "ascending" ? "descending" : "ascending";
      else order = th.dataset.first || "ascending";
      headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", order);
      const sign = order === "ascending" ? 1 : -1;
      const keyed = rows.map(function (row, i) { return [key(row, col, numeric), i, row]; });
      keyed.sort(function (a, b) {
        if (a[0] === b[0]) return a[1] - b[1];
        if (a[0] === null || a[0] === "") return 1;  // missing values last, either way
        if (b[0] === null || b[0] === "") return -1;
        return (a[0] < b[0] ? -1 : 1) * sign;
      });
      const fragment = document.createDocumentFragment();
      keyed.forEach(function (k) { fragment.appendChild(k[2]); });
      body.appendChild(fragment);
    });
  });
  const text = document.getElementById("filter");
  const status = document.getElementById("status-filter");
  const count = document.getElementById("shown");
  function filter() {
    const query = text.value.trim().toLowerCase();
    const wanted = status.value;
    let shown = 0;
    rows.forEach(function (row) {
      const visible = (!query || row.textContent.toLowerCase().includes(query))
        && (!wanted || row.dataset.status === wanted);
      row.hidden = !visible;
      if (visible) shown += 1;
    });
    count.textContent = shown + " of " + rows.length + " points";
  }
  text.addEventListener("input", filter);
  status.addEventListener("change", filter);
  filter();
})();
"""
