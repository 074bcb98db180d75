"""The self-contained HTML page: inline CSS, a small inline sort script, inline SVG figures."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from kgtransfer.report._rows import ReportData

__all__ = ["render_html"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;
color:#222;max-width:1200px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f2f4f8;cursor:pointer;user-select:none}
th.sorted-asc::after{content:" \\25B2"}th.sorted-desc::after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.top td{background:#f4fbf4}.muted{color:#777}.problems{color:#a33}
.figs{display:flex;flex-wrap:wrap;gap:16px}.figs svg{max-width:100%;height:auto}
.evidence{font-size:12px;color:#444}.wrap{overflow-x:auto;max-width:100%}
"""

# Sorts a table when its header cell is clicked (numbers numerically, text otherwise).
_JS = """
(function(){
  function key(cell){
    var t=cell.getAttribute('data-v');if(t===null){t=cell.textContent;}
    var n=parseFloat(t);return isNaN(n)?{n:false,v:t.toLowerCase()}:{n:true,v:n};
  }
  function sortBy(table,col,th){
    var body=table.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
    var asc=!th.classList.contains('sorted-asc');
    Array.prototype.forEach.call(table.tHead.rows[0].cells,function(c){
      c.classList.remove('sorted-asc','sorted-desc');});
    th.classList.add(asc?'sorted-asc':'sorted-desc');
    rows.sort(function(a,b){
      var x=key(a.cells[col]),y=key(b.cells[col]);var r;
      if(x.n&&y.n){r=x.v-y.v;}else{r=String(x.v).localeCompare(String(y.v));}
      return asc?r:-r;});
    rows.forEach(function(r){body.appendChild(r);});
  }
  var tables=document.querySelectorAll('table.sortable');
  Array.prototype.forEach.call(tables,function(table){
    Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,i){
      th.addEventListener('click',function(){sortBy(table,i,th);});});
  });
  document.body.setAttribute('data-ready',String(tables.length));
})();
"""

_CANDIDATE_HEAD = [
    ("rank", "rank"),
    ("model", "model"),
    ("predicted", "predicted"),
    ("low", "low"),
    ("high", "high"),
    ("predicted_gain", "pred. gain"),
    ("risk", "P(gain<0)"),
    ("actual", "measured"),
    ("actual_gain", "measured gain"),
    ("evidence", "evidence"),
]


def _cell(value: Any, *, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return '<td class="num muted" data-v="">–</td>'
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<td class="num" data-v="{float(value)!r}">{value:.{digits}f}</td>'
    return f"<td>{html.escape(str(value))}</td>"


def _table(frame: pd.DataFrame, head: list[tuple[str, str]], table_id: str) -> str:
    cols = [(c, label) for c, label in head if c in frame.columns]
    out = [f'<table class="sortable" id="{html.escape(table_id)}"><thead><tr>']
    out += [f"<th>{html.escape(label)}</th>" for _, label in cols]
    out.append("</tr></thead><tbody>")
    for _, row in frame.iterrows():
        cls = ' class="top"' if row.get("rank") == 1 else ""
        cells = []
        for c, _ in cols:
            v = row[c]
            if c == "rank" and pd.notna(v):
                cells.append(f'<td class="num" data-v="{int(v)}">{int(v)}</td>')
            elif c == "evidence":
                cells.append(f'<td class="evidence">{html.escape(str(v or ""))}</td>')
            else:
                cells.append(_cell(None if pd.isna(v) else v))
        out.append(f"<tr{cls}>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _summary_table(targets: list[dict[str, Any]]) -> str:
    keys = [
        ("target", "target"),
        ("kind", "kind"),
        ("recommended", "recommended"),
        ("recommended_predicted", "predicted"),
        ("recommended_actual", "measured"),
        ("scratch", "scratch"),
        ("predicted_gain", "pred. gain"),
        ("risk", "P(gain<0)"),
        ("transfer_method", "method"),
        ("transfer_value", "transferred"),
        ("transfer_gain", "transfer gain"),
        ("best_in_hindsight", "best in hindsight"),
        ("best_actual", "best value"),
        ("regret", "regret"),
    ]
    present = [(k, label) for k, label in keys if any(t.get(k) is not None for t in targets)]
    frame = pd.DataFrame([{k: t.get(k) for k, _ in present} for t in targets])
    return _table(frame, present, "summary")


def render_html(
    data: ReportData, *, title: str, meta: dict[str, Any], k: int, plots: bool = True
) -> str:
    """The whole report as one HTML string (no external resources)."""
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        '<p class="muted">'
        + esc(" · ".join(f"{key}: {value}" for key, value in meta.items() if value is not None))
        + "</p>",
    ]
    if data.problems:
        parts.append('<h2>Problems</h2><ul class="problems">')
        parts += [f"<li>{esc(p)}</li>" for p in data.problems]
        parts.append("</ul>")
    parts.append("<h2>Summary</h2>")
    parts.append('<div class="wrap">' + _summary_table(data.targets) + "</div>")
    if plots:  # matplotlib (~0.5 s at start-up) is imported only to draw figures
        from kgtransfer.report._plots import evidence_svg, gain_svg, predicted_vs_actual_svg

        drawn = [predicted_vs_actual_svg(data.candidates), gain_svg(data.targets, data.candidates)]
        figs = [f for f in drawn if f]
        if figs:
            parts.append('<div class="figs">' + "".join(figs) + "</div>")
    for i, summary in enumerate(data.targets):
        target = summary["target"]
        rows = data.candidates[data.candidates["target"] == target]
        parts.append(f'<h2 id="target-{i}">{esc(str(target))}</h2>')
        facts = []
        for key in ("kind", "scratch", "scratch_source", "neighbours", "best_in_hindsight", "note"):
            value = summary.get(key)
            if value is not None:
                shown = f"{value:.3f}" if isinstance(value, float) else str(value)
                facts.append(f"{key.replace('_', ' ')}: {shown}")
        if facts:
            parts.append(f'<p class="muted">{esc(" · ".join(map(str, facts)))}</p>')
        parts.append(_table(rows.head(k), _CANDIDATE_HEAD, f"candidates-{i}"))
        if plots and len(rows):
            ctx = data.contexts.get(str(target), {})
            parts.append(
                '<div class="figs">' + evidence_svg(str(target), rows, ctx, index=i) + "</div>"
            )
    parts.append(f"<script>{_JS}</script></body></html>")
    return "\n".join(parts)
