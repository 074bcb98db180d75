"""Batches merge into what the graph knows: fields kept, overwrites listed, undo, crash safety."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyoxigraph as ox
import pytest

from kgtransfer.errors import ArgumentError
from kgtransfer.kg import ZooGraph, ZooTables
from kgtransfer.kg._example import example_tables, typed
from kgtransfer.kg.iri import ID_BASE

MODELS_CSV = (
    "model,architecture,n_params,modality,task,license\n"
    "org/vit-small,vit,22000000,image,image-classification,\n"
)
DATASETS_CSV = (
    "dataset,n_samples,n_classes,task,domain,modality\n"
    "uoft-cs/cifar10,60000,10,image-classification,natural,image\n"
)
CARD = """---
model_name: org/vit-small
license: apache-2.0
base_model: org/vit-base
base_model_relation: finetune
pipeline_tag: image-classification
datasets:
  - uoft-cs/cifar10
model-index:
- name: org/vit-small
  results:
  - task:
      type: image-classification
    dataset:
      type: cifar10
      config: plain_text
      split: test
    metrics:
    - type: accuracy
      value: 0.95
---
# vit-small
"""


def _quads(graph: ZooGraph) -> list[str]:
    return sorted(str(q) for q in graph._live)


def _models(graph: ZooGraph) -> pd.DataFrame:
    return graph.to_tables().models.set_index("model")


def test_cards_after_tables_keep_what_the_tables_said(tmp_path: Path) -> None:
    (tmp_path / "models.csv").write_text(MODELS_CSV, encoding="utf-8")
    (tmp_path / "datasets.csv").write_text(DATASETS_CSV, encoding="utf-8")
    card = tmp_path / "card" / "README.md"
    card.parent.mkdir()
    card.write_text(CARD, encoding="utf-8")
    graph = ZooGraph()
    graph.add_tables(models=tmp_path / "models.csv", datasets=tmp_path / "datasets.csv")
    report = graph.add_model_cards(card)

    tables = graph.to_tables()
    model = tables.models.set_index("model").loc["org/vit-small"]
    assert model["architecture"] == "vit" and model["n_params"] == 22e6
    assert model["modality"] == "image" and model["task"] == "image-classification"
    assert model["license"] == "apache-2.0"  # new field from the card
    assert model["trained_on"] == "uoft-cs/cifar10"
    dataset = tables.datasets.set_index("dataset").loc["uoft-cs/cifar10"]
    assert (dataset["n_samples"], dataset["n_classes"]) == (60000, 10)
    assert (dataset["task"], dataset["domain"]) == ("image-classification", "natural")
    # the model-index result names the same dataset as the card's datasets: list
    assert set(tables.datasets["dataset"]) == {"uoft-cs/cifar10"}
    assert tables.records["dataset"].tolist() == ["uoft-cs/cifar10"]
    assert graph.lineage("org/vit-small")["ancestor"].tolist() == ["org/vit-base"]
    assert report.overwritten == []  # nothing contradicted


def test_a_batch_updates_only_its_fields_and_lists_what_it_overwrote() -> None:
    graph = ZooGraph()
    first = graph.add_zoo_tables(example_tables(), source="v1")
    update = pd.DataFrame(
        {"model": ["vit-ft-cifar"], "architecture": ["vit-large"], "n_params": [86e6]}
    )
    report = graph.add_tables(models=update)
    batch = report.batch
    models = _models(graph)
    assert models.loc["vit-ft-cifar", "architecture"] == "vit-large"
    assert models.loc["vit-ft-cifar", "license"] == "mit"  # kept
    assert models.loc["vit-ft-cifar", "flops"] == 17.5  # numeric attributes kept too
    assert sorted(graph.to_tables().lineage["model"]) == ["vit-ft-cifar", "vit-ft-ft"]

    assert [(o.kind, o.id, o.field, o.old, o.new, o.batch) for o in report.overwritten] == [
        ("model", "vit-ft-cifar", "architecture", "vit", "vit-large", first)
    ]  # n_params was restated with the same value: not an overwrite
    assert "overwritten (1)" in str(report) and "'vit' -> 'vit-large'" in str(report)
    row = report.to_frame().query("kind == 'overwritten'").iloc[0]
    assert (row["source"], row["column"]) == ("model vit-ft-cifar", "architecture")
    info = graph.batch(batch)
    assert info["overwritten"][0]["old"] == "vit" and info["report"]["overwritten"]


def test_overwrites_are_recorded_without_a_report_and_for_every_entity_kind() -> None:
    graph = ZooGraph()
    graph.add_zoo_tables(example_tables(), source="v1")
    update = ZooTables(
        datasets=typed("datasets", {"dataset": ["cifar10"], "n_classes": [100.0]}),
        metrics=typed("metrics", {"metric": ["loss"], "higher_is_better": [True]}),
        lineage=typed(
            "lineage",
            {"model": ["vit-ft-cifar"], "base_model": ["google/vit-base"], "relation": ["adapter"]},
        ),
    )
    batch = graph.add_zoo_tables(update, source="v2")
    changes = {
        (c["kind"], c["field"]): (c["old"], c["new"]) for c in graph.batch(batch)["overwritten"]
    }
    assert changes == {
        ("dataset", "n_classes"): (10.0, 100.0),
        ("metric", "higher_is_better"): (False, True),
        ("lineage", "relation"): ("finetune", "adapter"),
    }
    tables = graph.to_tables()
    assert tables.datasets.set_index("dataset").loc["cifar10", "n_samples"] == 50000  # kept


def test_lineage_edges_are_added_unless_replacing() -> None:
    graph = ZooGraph()
    graph.add_zoo_tables(example_tables(), source="v1")
    more = ZooTables(
        lineage=typed("lineage", {"model": ["vit-ft-ft"], "base_model": ["google/vit-base"]})
    )
    graph.add_zoo_tables(more, source="v2")
    lineage = graph.to_tables().lineage
    edges = lineage[lineage["model"] == "vit-ft-ft"]["base_model"]
    assert sorted(edges) == ["google/vit-base", "vit-ft-cifar"]


def test_replace_mode_wipes_what_the_batch_does_not_say() -> None:
    graph = ZooGraph()
    graph.add_zoo_tables(example_tables(), source="v1")
    before = _quads(graph)
    update = ZooTables(models=typed("models", {"model": ["vit-ft-cifar"], "architecture": ["x"]}))
    batch = graph.add_zoo_tables(update, source="v2", mode="replace")
    models = _models(graph)
    assert models.loc["vit-ft-cifar", "architecture"] == "x"
    assert pd.isna(models.loc["vit-ft-cifar", "license"])
    assert graph.to_tables().lineage["model"].tolist() == ["vit-ft-ft"]
    fields = {c["field"]: c["new"] for c in graph.batch(batch)["overwritten"]}
    assert fields["license"] is None and fields["architecture"] == "x"
    graph.remove_batch(batch)  # everything it replaced comes back
    assert _quads(graph) == before
    with pytest.raises(ArgumentError, match=r"mode='update'.*merge.*replace"):
        graph.add_zoo_tables(update, source="v3", mode="update")  # type: ignore[arg-type]


def test_remove_batch_restores_overwritten_values_unless_set_again() -> None:
    graph = ZooGraph()
    graph.add_zoo_tables(example_tables(), source="v1")
    before = _quads(graph)

    def arch(value: str) -> str:
        tables = ZooTables(
            models=typed("models", {"model": ["bert base"], "architecture": [value]})
        )
        return graph.add_zoo_tables(tables, source=value)

    second = arch("roberta")
    graph.remove_batch(second)
    assert _quads(graph) == before  # exactly the state before

    second, third = arch("roberta"), arch("deberta")
    graph.remove_batch(second)  # a later batch set another value: it stays
    assert _models(graph).loc["bert base", "architecture"] == "deberta"
    # removing the second handed the first value down to the third: removing the third
    # (out of order) brings the original value back, nothing is lost
    graph.remove_batch(third)
    assert _quads(graph) == before
    assert _models(graph).loc["bert base", "license"] == "apache-2.0"


def test_out_of_order_removal_of_many_batches_loses_no_value() -> None:
    rng = random.Random(7)
    for _ in range(5):
        graph = ZooGraph()
        graph.add_zoo_tables(example_tables(), source="v1")
        before = _quads(graph)
        original = _models(graph).loc["bert base", "architecture"]
        ids = []
        for i in range(5):
            tables = ZooTables(
                models=typed("models", {"model": ["bert base"], "architecture": [f"a{i}"]})
            )
            ids.append(graph.add_zoo_tables(tables, source=f"s{i}"))
        order = ids[:]
        rng.shuffle(order)
        for j, batch in enumerate(order):
            graph.remove_batch(batch)
            alive = [i for i, b in enumerate(ids) if b not in order[: j + 1]]
            want = f"a{alive[-1]}" if alive else original
            assert _models(graph).loc["bert base", "architecture"] == want, (order, j)
        assert _quads(graph) == before


class _RecordingStore:
    """Forwards to a pyoxigraph store and keeps the text of every update."""

    def __init__(self, store: ox.Store) -> None:
        self._store = store
        self.updates: list[str] = []

    def update(self, text: str, **kwargs: Any) -> None:
        self.updates.append(text)
        self._store.update(text, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._store)

    def __len__(self) -> int:
        return len(self._store)


TRICKY = "a \"quoted\" } ; DROP ALL ;\nvalue \\ with é and ''' and <iri>"


def test_merging_builds_no_sparql_text_from_data() -> None:
    graph = ZooGraph()
    graph.add_zoo_tables(example_tables(), source="v1")
    recorder = _RecordingStore(graph._live)
    graph._store = recorder  # type: ignore[assignment]
    tables = ZooTables(
        models=typed(
            "models",
            {"model": ["bert base", "vit-ft-ft"], "architecture": [TRICKY, TRICKY + "2"]},
        ),
        datasets=typed("datasets", {"dataset": ["sst2"], "language": [TRICKY]}),
    )
    batch = graph.add_zoo_tables(tables, source=TRICKY)
    assert recorder.updates, "the overwrites are applied by one update"
    for text in recorder.updates:
        for value in ("quoted", "DROP ALL", "bert", "vit", "sst2", "en"):
            assert value not in text
    models = _models(graph)
    assert models.loc["bert base", "architecture"] == TRICKY
    assert models.loc["vit-ft-ft", "architecture"] == TRICKY + "2"
    assert graph.to_tables().datasets.set_index("dataset").loc["sst2", "language"] == TRICKY
    graph.remove_batch(batch)
    assert _models(graph).loc["bert base", "architecture"] == "bert"
    for text in recorder.updates:
        assert "quoted" not in text and "bert" not in text
    assert not [g for g in graph._live.named_graphs() if "staging" in str(g)]


def test_handing_down_on_removal_builds_no_sparql_text_from_data() -> None:
    graph = ZooGraph()
    graph.add_zoo_tables(example_tables(), source="v1")
    recorder = _RecordingStore(graph._live)
    graph._store = recorder  # type: ignore[assignment]

    def arch(value: str) -> str:
        tables = ZooTables(
            models=typed("models", {"model": ["bert base"], "architecture": [value]})
        )
        return graph.add_zoo_tables(tables, source="s")

    second, third = arch(TRICKY), arch(TRICKY + "3")
    recorder.updates.clear()
    graph.remove_batch(second)  # hands "bert" and the tricky value down to the third batch
    graph.remove_batch(third)
    assert len(recorder.updates) == 2
    for text in recorder.updates:
        assert "quoted" not in text and "bert" not in text and "retracted\\" not in text
    assert _models(graph).loc["bert base", "architecture"] == "bert"
    assert not [g for g in graph._live.named_graphs() if "staging" in str(g)]


CHILD = textwrap.dedent(
    """
    import sys
    from kgtransfer.kg import ZooGraph, ZooTables
    from kgtransfer.kg._example import typed
    path, n = sys.argv[1], int(sys.argv[2])
    graph = ZooGraph.open(path)
    print("ready", flush=True)
    ids = [f"kid-model-{i}" for i in range(n)]
    k = 1
    while True:  # each batch overwrites every architecture and adds one record per model
        tables = ZooTables(
            models=typed("models", {"model": ids, "architecture": [f"a{k}"] * n}),
            records=typed("records", {"model": ids, "dataset": ["d"] * n,
                                      "value": [k / 1000] * n, "run": [f"r{k}"] * n}),
        )
        graph.add_zoo_tables(tables, source=f"child {k}")
        k += 1
    """
)


@pytest.mark.slow
def test_killed_mid_merge_leaves_the_state_before_or_after(tmp_path: Path) -> None:
    path = tmp_path / "graph"
    n = 3000  # models + records > the bulk threshold: bulk load, staged retraction, commit
    ids = [f"kid-model-{i}" for i in range(n)]
    with ZooGraph.open(path, create=True) as graph:
        graph.add_zoo_tables(
            ZooTables(
                models=typed(
                    "models",
                    {"model": ids, "architecture": ["a0"] * n, "n_params": [1.0] * n},
                )
            ),
            source="setup",
        )
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(n)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    delay = random.uniform(0.5, 3.0)
    time.sleep(delay)
    proc.kill()
    proc.wait()
    with ZooGraph.open(path) as graph:
        committed = [s for s in graph.batches()["source"] if s.startswith("child")]
        last = max((int(s.split()[1]) for s in committed), default=0)
        tables = graph.to_tables()
        models = tables.models.set_index("model")
        assert (models["architecture"] == f"a{last}").all(), (delay, committed)
        assert (models["n_params"] == 1.0).all()  # merged, never wiped
        arch = ox.NamedNode("https://w3id.org/kgtransfer#architecture")
        assert sum(1 for _ in graph._live.quads_for_pattern(None, arch, None, None)) == n
        assert len(tables.records) == n * len(committed)
        names = [g.value for g in graph._live.named_graphs() if isinstance(g, ox.NamedNode)]
        assert not [g for g in names if g.startswith(f"{ID_BASE}batch/") and "staging" in g]
        if committed:  # the last batch undoes cleanly: its overwrites come back
            batches = graph.batches()
            graph.remove_batch(batches["batch"].iloc[-1])
            previous = f"a{last - 1}"
            assert (_models(graph)["architecture"] == previous).all()


def test_bulk_path_in_chunks_merges_and_undoes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kgtransfer.kg.store as store_module

    monkeypatch.setattr(store_module, "_BULK_MIN_STATEMENTS", 1)
    monkeypatch.setattr(store_module, "_BULK_CHUNK_STATEMENTS", 5)  # many bulk loads
    with ZooGraph.open(tmp_path / "graph", create=True) as graph:
        graph.add_zoo_tables(example_tables(), source="v1")
        before = _quads(graph)
        update = example_tables()
        update.models["architecture"] = "changed"
        batch = graph.add_zoo_tables(update, source="v2")
        assert set(_models(graph)["architecture"]) == {"changed"}
        assert len(graph.batch(batch)["overwritten"]) == 4
        assert len(graph.to_tables().records) == 12
        graph.remove_batch(batch)
        assert _quads(graph) == before
    assert [p.name for p in tmp_path.iterdir()] == ["graph"]  # temp file removed
