"""Reports people act on: negative-transfer flags, one scratch baseline, integer ranks,
ranks within the candidate count, tables that fit 1280 and 800 px (headless Chromium),
low-confidence badges, a readable evidence graph (labels neither overlap nor are clipped,
also as the browser draws them)."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from html import unescape as html_unescape
from pathlib import Path

import pandas as pd
import pytest

from kgtransfer.report import read_report, write_report

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
N = 22  # candidates per target, as in the report (rank 23 of 22)


def _rows(n: int = N, targets: tuple[str, ...] = ("t1", "t2")) -> pd.DataFrame:
    parts = []
    for t in targets:
        parts.append(
            pd.DataFrame(
                {
                    "target": t,
                    "model": [f"m{i}" for i in range(n)],
                    "rank": range(1, n + 1),
                    "predicted": [0.9 - 0.01 * i for i in range(n)],
                    "low": [0.8 - 0.01 * i for i in range(n)],
                    "high": [0.95 - 0.01 * i for i in range(n)],
                    "scratch": 0.6,
                    "actual": [0.5 + 0.01 * i for i in range(n)],  # m0 measured worst
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


# evaluate()'s summary: gain over its own scratch run (0.581), source rank among every
# model with a record on the target (23) although the report has 22 candidates
_OUTCOME = {
    "target": "t1",
    "transfer_source": "m0",
    "transfer_method": "finetune",
    "transfer_value": 0.45,
    "transfer_scratch": 0.581,
    "transfer_gain": -0.131,
    "negative_transfer": True,
    "transfer_source_rank": 23,
}


def test_ranks_are_integers_in_every_format(tmp_path: Path) -> None:
    paths = write_report(_rows(), tmp_path, formats=("csv", "json", "md"), summaries=[_OUTCOME])
    with open(paths["csv"], newline="") as fh:
        ranks = [row["rank"] for row in csv.DictReader(fh)]
    assert ranks[:3] == ["1", "2", "3"]
    assert str(read_report(paths["csv"])["rank"].dtype) == "Int64"
    assert str(read_report(paths["json"])["rank"].dtype) == "Int64"
    doc = json.loads(paths["json"].read_text())
    first = doc["targets"][0]["candidates"][0]["rank"]
    assert first == 1 and isinstance(first, int)
    with open(paths["targets_csv"], newline="") as fh:
        targets = list(csv.DictReader(fh))
    # t2 has no transfer outcome: the column still holds integers, not 1.0 / NaN floats
    assert [t["transfer_source_rank"] for t in targets] == ["22", ""]
    assert [t["n_candidates"] for t in targets] == ["22", "22"]
    assert "| 1 | m0 |" in paths["md"].read_text()


def test_rank_filled_from_predicted_is_integer(tmp_path: Path) -> None:
    rows = pd.DataFrame({"target": ["t", "t"], "model": ["x", "y"], "predicted": [0.2, 0.9]})
    doc = json.loads(write_report(rows, tmp_path, formats=("json",))["json"].read_text())
    assert [c["rank"] for c in doc["targets"][0]["candidates"]] == [1, 2]
    assert all(isinstance(c["rank"], int) for c in doc["targets"][0]["candidates"])


def test_fractional_rank_is_refused(tmp_path: Path) -> None:
    rows = _rows().assign(rank=1.5)
    with pytest.raises(ValueError, match=r"rank.*whole numbers"):
        write_report(rows, tmp_path)


def test_one_scratch_baseline_per_target(tmp_path: Path) -> None:
    paths = write_report(_rows(), tmp_path, formats=("json", "md"), summaries=[_OUTCOME])
    t1 = json.loads(paths["json"].read_text())["targets"][0]
    # the transfer gain is over the same scratch the summary shows
    assert t1["scratch"] == pytest.approx(0.6)
    assert t1["transfer_gain"] == pytest.approx(t1["transfer_value"] - t1["scratch"])
    assert t1["transfer_gain"] == pytest.approx(-0.15)
    # the transfer's own (paired) scratch run and its gain are kept, named as such
    assert t1["transfer_scratch"] == pytest.approx(0.581)
    assert t1["transfer_gain_paired"] == pytest.approx(-0.131)
    assert t1["negative_transfer"] is True
    assert "one scratch baseline per target" in paths["md"].read_text()


def test_transfer_scratch_is_the_baseline_when_the_target_has_none(tmp_path: Path) -> None:
    rows = _rows().assign(scratch=float("nan"))
    paths = write_report(rows, tmp_path, formats=("json",), summaries=[_OUTCOME])
    t1 = json.loads(paths["json"].read_text())["targets"][0]
    assert t1["scratch"] == pytest.approx(0.581)
    assert t1["scratch_source"] == "measured with the transfer"
    assert t1["transfer_gain"] == pytest.approx(-0.131)
    assert "transfer_gain_paired" not in t1


def test_source_rank_never_exceeds_candidate_count(tmp_path: Path) -> None:
    outcomes = [
        _OUTCOME,  # worst of 22 measured candidates
        {**_OUTCOME, "target": "t2", "transfer_source": "m5", "transfer_value": 0.99},
    ]
    paths = write_report(_rows(), tmp_path, formats=("json",), summaries=outcomes)
    t1, t2 = json.loads(paths["json"].read_text())["targets"]
    assert t1["n_candidates"] == N
    assert t1["transfer_source_rank"] == N and t1["transfer_ranked_among"] == N
    assert t2["transfer_source_rank"] == 1
    for t in (t1, t2):
        assert 1 <= t["transfer_source_rank"] <= t["n_candidates"]


def test_source_outside_the_candidates_has_no_rank(tmp_path: Path) -> None:
    outcome = {**_OUTCOME, "transfer_source": "not-a-candidate"}
    paths = write_report(_rows(), tmp_path, formats=("json",), summaries=[outcome])
    assert json.loads(paths["json"].read_text())["targets"][0]["transfer_source_rank"] is None


def test_negative_transfer_is_flagged_in_words_in_html_and_markdown(tmp_path: Path) -> None:
    positive = {**_OUTCOME, "target": "t2", "transfer_value": 0.7, "transfer_scratch": 0.6}
    paths = write_report(
        _rows(), tmp_path, formats=("html", "md"), summaries=[_OUTCOME, positive], plots=False
    )
    html = paths["html"].read_text()
    summary = html[html.index('id="summary"') : html.index("</table>", html.index('id="summary"'))]
    rows = re.findall(r"<tr[^>]*>.*?</tr>", summary, flags=re.S)[1:]
    assert len(rows) == 2
    assert 'class="negative"' in rows[0] and "negative transfer" in rows[0]
    assert 'class="num neg"' in rows[0] and "-0.150" in rows[0]
    assert "negative transfer" not in rows[1] and "negative" not in rows[1].split(">")[0]
    md = paths["md"].read_text()
    md_rows = {
        line.split("|")[1].strip(): line for line in md.splitlines() if line.startswith("| t")
    }
    assert "-0.150 ▼ negative transfer" in md_rows["t1"]
    assert "negative transfer" not in md_rows["t2"]
    # candidates measured below scratch are flagged too (m0..m9: 0.50-0.59 < 0.60)
    assert "| -0.100 ▼ negative transfer |" in md


def test_html_escapes_hostile_text_through_the_template(tmp_path: Path) -> None:
    hostile = '<img src=x onerror="alert(1)">'
    rows = _rows(3).assign(model=[hostile, "{{ 7*7 }}", "{% raw %}"] * 2)
    outcome = {**_OUTCOME, "transfer_method": hostile, "note": "</p><script>x()</script>"}
    paths = write_report(
        rows, tmp_path, formats=("html",), summaries=[outcome], plots=False, title=hostile
    )
    html = paths["html"].read_text()
    assert "<img" not in html and html.count("<script") == 1
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    assert "{{ 7*7 }}" in html and ">49<" not in html  # ids are never template source
    assert "&lt;/p&gt;&lt;script&gt;x()&lt;/script&gt;" in html


def _probe(html: Path, out: Path) -> Path:
    """A copy of the page that writes layout facts into the DOM once laid out."""
    script = """<script>
(function(){
  var facts={tables:[],badges:[],low:[],labels:[]};
  document.querySelectorAll('.wrap').forEach(function(w){
    var t=w.querySelector('table');
    facts.tables.push({id:t.id,scroll:w.scrollWidth,client:w.clientWidth,
      table:t.getBoundingClientRect().right,page:document.documentElement.clientWidth});
  });
  document.querySelectorAll('.badge-neg').forEach(function(b){
    var r=b.getBoundingClientRect();var s=getComputedStyle(b);
    facts.badges.push({w:r.width,h:r.height,left:r.left,right:r.right,
      visible:s.visibility==='visible'&&s.display!=='none',text:b.textContent});
  });
  document.querySelectorAll('.badge-low').forEach(function(b){
    var r=b.getBoundingClientRect();
    facts.low.push({w:r.width,h:r.height,left:r.left,right:r.right,text:b.textContent,
      title:b.getAttribute('title')});
  });
  // the evidence graphs (figures under a target heading): every drawn label's box
  document.querySelectorAll('h2[id^="target-"] ~ .figs svg').forEach(function(svg,i){
    var box=svg.getBoundingClientRect();
    svg.querySelectorAll('text').forEach(function(t){
      if(!t.textContent.trim()){return;}
      var r=t.getBoundingClientRect();
      facts.labels.push({fig:i,text:t.textContent,x0:r.left,x1:r.right,y0:r.top,y1:r.bottom,
        legend:!!t.closest('[id*="legend"]'),
        svg:{x0:box.left,x1:box.right,y0:box.top,y1:box.bottom}});
    });
  });
  var root=document.documentElement;
  facts.page={scroll:root.scrollWidth,client:root.clientWidth};
  document.body.setAttribute('data-probe',JSON.stringify(facts));
})();
</script></body>"""
    out.write_text(html.read_text().replace("</body>", script), encoding="utf-8")
    return out


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
@pytest.mark.parametrize("width", [1280, 800])
def test_summary_fits_the_page_and_flag_is_visible(tmp_path: Path, width: int) -> None:
    long_id = "organisation-with-a-long-name/" + "very-long-model-identifier-" * 3 + "v2"
    rows = _rows(4).assign(model=[long_id + "-a", long_id + "-b", "m2", "m3"] * 2)
    rows["risk"] = [0.35, 0.1, 0.05, 0.6] * 2  # the first and last are low-confidence
    rows["target"] = rows["target"].map({"t1": "target-" + "x" * 70, "t2": "t2"})
    outcome = {
        **_OUTCOME,
        "target": "target-" + "x" * 70,
        "transfer_source": long_id + "-a",
        "best_in_hindsight": long_id + "-b",
        "note": "a long note " * 10,
    }
    paths = write_report(rows, tmp_path / "r", formats=("html",), summaries=[outcome])
    page = _probe(paths["html"], tmp_path / "probe.html")
    run = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--window-size={width},1000",
            "--dump-dom",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    found = re.search(r'data-probe="([^"]*)"', run.stdout)
    assert found, run.stderr[-2000:]
    facts = json.loads(html_unescape(found.group(1)))
    assert facts["page"]["scroll"] <= facts["page"]["client"] <= width, facts["page"]
    assert len(facts["tables"]) == 3  # summary + one per target
    for t in facts["tables"]:
        assert t["scroll"] <= t["client"], t  # no horizontal scrolling, no cut column
        assert t["table"] <= t["page"], t
    assert facts["badges"], "no negative-transfer badge on the page"
    for b in facts["badges"]:
        assert b["visible"] and b["w"] > 0 and b["h"] > 0, b
        assert b["left"] >= 0 and b["right"] <= width, b
        assert "negative transfer" in b["text"]
    # the recommended source of each target (risk 0.35) and m3 (0.6): 2 + 2 x 2 badges
    assert len(facts["low"]) == 6, facts["low"]
    for b in facts["low"]:
        assert b["w"] > 0 and b["h"] > 0 and b["left"] >= 0 and b["right"] <= width, b
        assert "low confidence" in b["text"] and "P(gain<0) = " in b["title"]
    labels = facts["labels"]
    assert {lab["fig"] for lab in labels} == {0, 1}, "no evidence graph drawn"
    assert sum(lab["fig"] == 0 for lab in labels) >= 5, labels  # nodes, title, legend
    slack = 0.5  # px: sub-pixel rounding of the browser's boxes
    for i, a in enumerate(labels):
        s = a["svg"]
        assert s["x0"] - slack <= a["x0"] and a["x1"] <= s["x1"] + slack, ("clipped", a)
        assert s["y0"] - slack <= a["y0"] and a["y1"] <= s["y1"] + slack, ("clipped", a)
        for b in labels[i + 1 :]:
            if b["fig"] != a["fig"]:
                continue
            overlap = (
                min(a["x1"], b["x1"]) - max(a["x0"], b["x0"]) > slack
                and min(a["y1"], b["y1"]) - max(a["y0"], b["y0"]) > slack
            )
            assert not overlap, ("labels overlap", a["text"], b["text"])


def _overlaps(a: object, b: object) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1  # type: ignore[attr-defined]


def test_evidence_graph_labels_do_not_overlap_and_have_a_legend() -> None:
    from kgtransfer.report import _plots

    long_id = "organisation/very-long-model-identifier-" * 2 + "v2"
    models = [long_id, "b", "c", "$x^2$", "e-" + "y" * 60]
    rows = pd.DataFrame(
        {"model": models, "rank": range(1, 6), "predicted": [0.8, 0.7, 0.6, 0.5, 0.4]}
    )
    context = {
        "neighbours": [{"dataset": n, "similarity": 0.9 - 0.1 * i} for i, n in enumerate("pqrs")],
        "trained_on": {long_id: "p", "b": "far-" + "z" * 50, "c": "q"},
        "base_model": {"b": long_id, "c": "a-base-model"},
    }
    fig = _plots._evidence_figure("target-" + "x" * 60, rows, context)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    ax = fig.axes[0]
    boxes = [t.get_window_extent(renderer) for t in ax.texts if t.get_text()]
    assert len(boxes) == 1 + 5 + 1 + 5 + 1  # target, candidates, base, datasets, title
    for i, a in enumerate(boxes):
        assert page.x0 <= a.x0 and a.x1 <= page.x1 and page.y0 <= a.y0 and a.y1 <= page.y1
        for b in boxes[i + 1 :]:
            assert not _overlaps(a, b), (a, b)
    legend = ax.get_legend()
    assert legend is not None
    entries = {t.get_text() for t in legend.get_texts()}
    assert {"target dataset", "trained on", "derived from", "similar to the target"} <= entries
    legend_box = legend.get_window_extent(renderer)
    assert page.y0 <= legend_box.y0 and legend_box.x0 >= page.x0 and legend_box.x1 <= page.x1
    for b in boxes:
        assert not _overlaps(legend_box, b)
    import matplotlib.pyplot as plt

    plt.close(fig)
    svg = _plots.evidence_svg("t", rows, context)
    assert "candidate model" in svg and "$x^2$" in svg  # legend drawn, ids literal


def test_long_ids_are_cut_in_gain_and_scatter_plots() -> None:
    from kgtransfer.report import _plots

    long_target = "target-" + "x" * 70
    rows = _rows(3).assign(target=[long_target] * 3 + ["t2"] * 3)
    rows["predicted_gain"] = rows["predicted"] - rows["scratch"]
    targets = [
        {"target": long_target, "recommended": "m0", "predicted_gain": 0.3, "scratch": 0.6},
        {"target": "t2", "recommended": "m0", "predicted_gain": 0.3, "scratch": 0.6},
    ]
    for svg in (_plots.gain_svg(targets, rows), _plots.predicted_vs_actual_svg(rows)):
        assert svg is not None
        assert long_target not in svg and "target-xxxxxxxxxxxxxxxxxxxx" in svg and "…" in svg


def test_low_confidence_is_flagged_in_words_in_html_markdown_and_json(tmp_path: Path) -> None:
    from kgtransfer.report._rows import LOW_CONFIDENCE_RISK, LOW_CONFIDENCE_WIDTH, low_confidence

    rows = _rows(3)
    rows["risk"] = [0.25, 0.05, 0.05, 0.05, 0.05, 0.05]  # t1's top: P(gain<0) too high
    rows.loc[4, ["low", "high"]] = [0.5, 0.9]  # t2's m1: a 0.4-wide interval
    paths = write_report(rows, tmp_path, formats=("html", "md", "json"), plots=False)
    html = paths["html"].read_text()
    summary = html[html.index('id="summary"') : html.index("</table>", html.index('id="summary"'))]
    t1_row, t2_row = re.findall(r"<tr[^>]*>.*?</tr>", summary, flags=re.S)[1:]
    assert "◆ low confidence" in t1_row and 'title="P(gain&lt;0) = 0.25 &gt;= 0.20"' in t1_row
    assert "low confidence" not in t2_row  # t2's top (m0) is confident
    assert html.count('class="badge badge-low"') == 1 + 1 + 1  # summary, t1's m0, t2's m1
    assert "90 % interval 0.40 wide &gt;= 0.25" in html
    assert "0.20 or more of losing to scratch" in html  # the rule, said on the page
    md = paths["md"].read_text()
    assert "| t1 | m0 | 0.900 ◆ low confidence |" in md
    assert "| 2 | m1 | 0.890 ◆ low confidence | [0.500, 0.900] |" in md
    assert md.count("◆ low confidence") == 3 + 1  # + the rule under the summary
    t1, t2 = json.loads(paths["json"].read_text())["targets"]
    assert t1["low_confidence"] is True and t2["low_confidence"] is False
    assert t1["low_confidence_why"] == "P(gain<0) = 0.25 >= 0.20"
    # the rule's edges
    assert low_confidence(LOW_CONFIDENCE_RISK, 0.5, 0.6) is not None
    assert low_confidence(LOW_CONFIDENCE_RISK - 0.01, 0.5, 0.5 + LOW_CONFIDENCE_WIDTH) is not None
    assert low_confidence(0.1, 0.5, 0.5 + LOW_CONFIDENCE_WIDTH - 0.01) is None
    assert (
        low_confidence(None, None, 0.9) is None and low_confidence(float("nan"), 0.1, 0.2) is None
    )
