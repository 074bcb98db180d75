"""``kgtransfer ingest | query | stats | export`` with typer's CliRunner."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from kgtransfer.cli import app
from kgtransfer.cli.graph import default_store
from kgtransfer.kg import ZooGraph

runner = CliRunner()


@pytest.fixture()
def csvs(tmp_path: Path) -> dict[str, Path]:
    files = {
        "models": "model,architecture,modality,base_model,base_model_relation\n"
        "base,vit,image,,\nft,vit,image,base,finetune\ntext-model,bert,text,,\n",
        "datasets": "dataset,modality,n_classes\ncifar10,image,10\n",
        "records": "model,dataset,value\nbase,cifar10,0.8\nft,cifar10,0.9\n",
    }
    out = {}
    for name, text in files.items():
        out[name] = tmp_path / f"{name}.csv"
        out[name].write_text(text, encoding="utf-8")
    return out


def _ingest(csvs: dict[str, Path], store: Path) -> None:
    args = ["ingest", "--store", str(store), "--quiet"]
    for name, path in csvs.items():
        args += [f"--{name}", str(path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "models=3" in result.output and "records=2" in result.output


def test_default_store_follows_kgtransfer_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KGTRANSFER_HOME", str(tmp_path))
    assert default_store() == tmp_path / "graph"
    monkeypatch.delenv("KGTRANSFER_HOME")
    assert default_store() == Path.home() / ".cache" / "kgtransfer" / "graph"


def test_ingest_query_stats_export(csvs: dict[str, Path], tmp_path: Path) -> None:
    store = tmp_path / "store"
    _ingest(csvs, store)

    lineage = runner.invoke(app, ["query", "lineage", "-p", "model=ft", "--store", str(store)])
    assert lineage.exit_code == 0, lineage.output
    assert lineage.output.split() == ["ancestor", "child", "relation", "base", "ft", "finetune"]

    best = runner.invoke(
        app, ["query", "best_sources", "-p", "dataset=cifar10", "-f", "json", "--store", str(store)]
    )
    assert [r["model"] for r in json.loads(best.output)] == ["ft", "base"]

    cands = runner.invoke(
        app,
        [
            "query",
            "candidates",
            "-p",
            "dataset=cifar10",
            "-p",
            "modality=text",
            "-f",
            "csv",
            "--store",
            str(store),
        ],
    )
    assert cands.exit_code == 0, cands.output
    assert cands.output.splitlines()[1].startswith("text-model,bert")

    rq = tmp_path / "archs.rq"
    rq.write_text(
        "SELECT ?m ?arch WHERE { ?m kgt:architecture ?arch } ORDER BY ?m", encoding="utf-8"
    )
    custom = runner.invoke(
        app, ["query", str(rq), "-p", "arch=vit", "-f", "csv", "--store", str(store)]
    )
    assert custom.exit_code == 0, custom.output
    assert custom.output.splitlines() == ["m,arch", "base,vit", "ft,vit"]

    rq2 = tmp_path / "arch_of.rq"
    rq2.write_text("SELECT ?arch ?m WHERE { ?m kgt:architecture ?arch }", encoding="utf-8")
    bound = runner.invoke(
        app, ["query", str(rq2), "-e", "m=model:text-model", "-f", "json", "--store", str(store)]
    )
    assert bound.exit_code == 0, bound.output
    assert json.loads(bound.output) == [{"arch": "bert", "m": "text-model"}]
    bad_entity = runner.invoke(
        app, ["query", str(rq2), "-e", "m=text-model", "--store", str(store)]
    )
    assert bad_entity.exit_code == 1 and "KEY=KIND:ID" in bad_entity.output

    stats = runner.invoke(app, ["stats", "--store", str(store)])
    assert stats.exit_code == 0
    counts = dict(line.split() for line in stats.output.splitlines())
    assert counts["models"] == "3" and counts["lineage"] == "1" and counts["batches"] == "1"

    out = tmp_path / "zoo.ttl"
    exported = runner.invoke(app, ["export", str(out), "--store", str(store)])
    assert exported.exit_code == 0 and out.is_file()
    copy = ZooGraph()
    copy.load_rdf(out)
    assert copy.stats()["models"] == 3


def test_default_store_is_used(csvs: dict[str, Path]) -> None:
    result = runner.invoke(app, ["ingest", "--records", str(csvs["records"])])
    assert result.exit_code == 1 and "unknown model 'base'" in result.output
    result = runner.invoke(app, ["ingest", "--records", str(csvs["records"]), "--create-missing"])
    assert result.exit_code == 0, result.output
    assert default_store().is_dir()  # under the per-test KGTRANSFER_HOME
    assert "records" in runner.invoke(app, ["stats"]).output


def test_failures_are_one_line(csvs: dict[str, Path], tmp_path: Path) -> None:
    store = tmp_path / "store"
    nothing = runner.invoke(app, ["ingest", "--store", str(store)])
    assert nothing.exit_code == 1 and "nothing to ingest" in nothing.output

    bad = tmp_path / "bad.csv"
    bad.write_text("model,dataset,value\na,d,not-a-number\n", encoding="utf-8")
    failed = runner.invoke(app, ["ingest", "--records", str(bad), "--store", str(store)])
    assert failed.exit_code == 1
    assert failed.output.startswith("error: ") and "not-a-number" in failed.output
    assert len(failed.output.strip().splitlines()) == 1

    missing = runner.invoke(app, ["stats", "--store", str(tmp_path / "nope")])
    assert missing.exit_code == 1 and "no graph store" in missing.output

    _ingest(csvs, store)
    typo = runner.invoke(app, ["query", "linage", "--store", str(store)])
    assert typo.exit_code == 1 and "unknown query 'linage'" in typo.output
    no_param = runner.invoke(app, ["query", "lineage", "--store", str(store)])
    assert no_param.exit_code == 1 and "needs parameter 'model'" in no_param.output
    bad_param = runner.invoke(app, ["query", "lineage", "-p", "model", "--store", str(store)])
    assert bad_param.exit_code == 1 and "KEY=VALUE" in bad_param.output
    update = tmp_path / "drop.rq"
    update.write_text("DROP ALL", encoding="utf-8")
    refused = runner.invoke(app, ["query", str(update), "--store", str(store)])
    assert refused.exit_code == 1 and "allow_update" in refused.output


def test_ingest_merges_and_batches_list_show_remove(csvs: dict[str, Path], tmp_path: Path) -> None:
    store = tmp_path / "store"
    _ingest(csvs, store)
    changed = tmp_path / "changed.csv"
    changed.write_text("model,architecture\nft,deit\n", encoding="utf-8")
    result = runner.invoke(app, ["ingest", "--models", str(changed), "--store", str(store), "-q"])
    assert result.exit_code == 0, result.output
    assert "overwritten (1)" in result.output and "'vit' -> 'deit'" in result.output
    batch = result.output.split("batch ")[-1].split()[0]

    listed = runner.invoke(app, ["batches", "list", "--store", str(store)])
    assert listed.exit_code == 0, listed.output
    assert len(listed.output.splitlines()) == 2 and batch in listed.output
    shown = runner.invoke(app, ["batches", "show", batch, "--store", str(store)])
    assert shown.exit_code == 0, shown.output
    assert "overwritten: 1" in shown.output and "architecture 'vit' -> 'deit'" in shown.output
    with ZooGraph.open(store) as graph:
        models = graph.to_tables().models.set_index("model")
        assert models.loc["ft", "modality"] == "image"  # kept: the CSV did not say

    removed = runner.invoke(app, ["batches", "remove", batch, "--store", str(store)])
    assert removed.exit_code == 0, removed.output
    assert "statements, 0 records)" in removed.output
    with ZooGraph.open(store) as graph:
        assert graph.to_tables().models.set_index("model").loc["ft", "architecture"] == "vit"
        assert len(graph.batches()) == 1
    first = listed.output.split()[0]
    unknown = runner.invoke(app, ["batches", "show", first[:-1] + "x", "--store", str(store)])
    assert unknown.exit_code == 1 and f"Did you mean '{first}'" in unknown.output

    replaced = runner.invoke(
        app, ["ingest", "--models", str(changed), "--store", str(store), "-q", "--replace"]
    )
    assert replaced.exit_code == 0, replaced.output
    with ZooGraph.open(store) as graph:
        models = graph.to_tables().models.set_index("model")
        assert models.loc["ft", "architecture"] == "deit" and pd.isna(models.loc["ft", "modality"])


def test_migrate_command(tmp_path: Path) -> None:
    import pyoxigraph as ox

    store = tmp_path / "store"
    raw = ox.Store(str(store))
    dump = Path(__file__).parents[1] / "kg" / "data" / "store_v1.nq"
    raw.load(path=str(dump), format=ox.RdfFormat.N_QUADS)
    raw.flush()
    del raw
    refused = runner.invoke(app, ["stats", "--store", str(store)])
    assert refused.exit_code == 1 and "kgtransfer migrate" in refused.output
    del refused  # its exception context holds the store open (CliRunner runs in-process)
    gc.collect()
    result = runner.invoke(app, ["migrate", "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert "from format version 1 to 2; backup:" in result.output
    assert runner.invoke(app, ["stats", "--store", str(store)]).exit_code == 0
    again = runner.invoke(app, ["migrate", "--store", str(store)])
    assert "nothing to do" in again.output
    missing = runner.invoke(app, ["migrate", "--store", str(tmp_path / "none")])
    assert missing.exit_code == 1 and "no graph store" in missing.output


def test_query_csv_neutralises_formula_cells(tmp_path: Path) -> None:
    """Ids come from whoever wrote a table: CSV output must not hand a spreadsheet a formula."""
    models = tmp_path / "models.csv"
    models.write_text("model,architecture\n=1+2,vit\nplain,vit\n", encoding="utf-8")
    store = tmp_path / "store"
    result = runner.invoke(app, ["ingest", "--store", str(store), "--models", str(models), "-q"])
    assert result.exit_code == 0, result.output
    rq = tmp_path / "m.rq"
    rq.write_text("SELECT ?m WHERE { ?m kgt:architecture ?a } ORDER BY ?m", encoding="utf-8")
    out = runner.invoke(app, ["query", str(rq), "-f", "csv", "--store", str(store)])
    assert out.exit_code == 0, out.output
    assert out.output.splitlines() == ["m", "'=1+2", "plain"]
    as_json = runner.invoke(app, ["query", str(rq), "-f", "json", "--store", str(store)])
    assert [r["m"] for r in json.loads(as_json.output)] == ["=1+2", "plain"]
