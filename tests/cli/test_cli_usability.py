"""The CLI for daily use and pipelines (issue 12): help, completion, progress, errors, ids."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from kgtransfer.cli import app
from kgtransfer.cli._app import cli_words, progress_enabled

runner = CliRunner()


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every leaf command's path (typer's groups have list_commands/get_command)."""
    out = []
    for name in group.list_commands(None):
        command = group.get_command(None, name)
        path = (*prefix, name)
        if hasattr(command, "list_commands"):
            out += _commands(command, path)
        else:
            out.append(path)
    return out


COMMANDS = _commands(typer.main.get_command(app))


def test_every_command_is_found() -> None:
    assert {("query",), ("zoo", "list"), ("batches", "show"), ("recommend",)} <= set(COMMANDS)
    assert len(COMMANDS) >= 17


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_help_has_examples(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Examples:" in result.output
    assert f"kgtransfer {' '.join(path)}" in result.output.split("Examples:")[1]


def test_query_help_lists_every_named_query_and_not_itself() -> None:
    from kgtransfer.kg import list_queries
    from kgtransfer.kg._queries import get_query

    text = runner.invoke(app, ["query", "--help"]).output
    assert "see `kgtransfer query --help`" not in text
    lines = {line.strip().split(" ")[0]: line.strip() for line in text.splitlines()}
    for name in list_queries():
        assert name in lines, name
        for param in get_query(name).params.values():
            assert param.name in lines[name], (name, param.name)


def test_shell_completion_is_enabled() -> None:
    text = runner.invoke(app, ["--help"]).output
    assert "--install-completion" in text and "--show-completion" in text
    script = runner.invoke(app, ["--show-completion", "bash"], prog_name="kgtransfer")
    assert script.exit_code == 0, script.output
    assert "_KGTRANSFER_COMPLETE=complete_bash" in script.output


def test_progress_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stderr", io.StringIO())  # a redirected log
    assert progress_enabled(False) is False
    monkeypatch.setattr("sys.stderr", Tty())
    assert progress_enabled(False) is True
    assert progress_enabled(True) is False


def test_errors_name_flags_not_python_calls() -> None:
    assert cli_words("No metadata for 'x' under h; run build_zoo(home) first.") == (
        "No metadata for 'x' under h; run `kgtransfer zoo build` first."
    )
    said = cli_words(
        "unknown model 'base': add it to the models table, pass known_models=[...], or use "
        "create_missing=True."
    )
    assert said == "unknown model 'base': add it to the models table, or pass --create-missing."
    said = cli_words(
        "Give a dataset id of the graph, a registered dataset name (list_datasets()), a CSV "
        "path with label_column=..., or arrays (x, y)."
    )
    assert "list_datasets" not in said and "label_column=" not in said and "(x, y)" not in said
    assert "--data PATH --label-column COLUMN" in said and "digits" in said
    said = cli_words("Unknown score 'nope'. See list_scores().")
    assert said.startswith("Unknown score 'nope'. Known: ") and "logme" in said
    said = cli_words(
        "No graph store at p: ... or `kgtransfer zoo build`), or pass create=True to ZooGraph.open."
    )
    assert "create=True" not in said


def test_ingest_error_names_the_flag(tmp_path: Path) -> None:
    records = tmp_path / "records.csv"
    records.write_text("model,dataset,value\nbase,cifar10,0.8\n", encoding="utf-8")
    result = runner.invoke(
        app, ["ingest", "--records", str(records), "--store", str(tmp_path / "g")]
    )
    assert result.exit_code == 1
    assert "--create-missing" in result.output and "create_missing=True" not in result.output


def test_transfer_from_an_unbuilt_zoo_names_the_command(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["transfer", "cnn_small.nope", "digits_parity", "--home", str(tmp_path), "-q"]
    )
    assert result.exit_code == 1
    assert "build_zoo(home)" not in result.output
    assert "kgtransfer zoo build" in result.output


@pytest.fixture()
def store(tmp_path: Path) -> Path:
    files = {
        "models": "model,architecture,modality\nvit-base,vit,image\nbert-base,bert,text\n",
        "datasets": "dataset,modality,n_classes\ncifar10,image,10\n",
        "records": "model,dataset,value\nvit-base,cifar10,0.8\n",
    }
    args = ["ingest", "--store", str(tmp_path / "graph"), "--quiet"]
    for name, text in files.items():
        (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
        args += [f"--{name}", str(tmp_path / f"{name}.csv")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return tmp_path / "graph"


def test_entity_binding_constrains_an_unprojected_variable(store: Path, tmp_path: Path) -> None:
    rq = tmp_path / "arch.rq"
    rq.write_text("SELECT ?arch WHERE { ?m kgt:architecture ?arch }", encoding="utf-8")
    args = ["query", str(rq), "-e", "m=model:bert-base", "-f", "json", "--store", str(store)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [{"arch": "bert"}]


def test_unknown_ids_get_did_you_mean(store: Path, tmp_path: Path) -> None:
    lineage = runner.invoke(app, ["query", "lineage", "-p", "model=vit-bse", "--store", str(store)])
    assert lineage.exit_code == 1
    assert "Unknown model in --param model 'vit-bse'" in lineage.output
    assert "Did you mean 'vit-base'" in lineage.output
    rq = tmp_path / "arch.rq"
    rq.write_text("SELECT ?arch ?m WHERE { ?m kgt:architecture ?arch }", encoding="utf-8")
    entity = runner.invoke(app, ["query", str(rq), "-e", "m=model:bert-bas", "--store", str(store)])
    assert entity.exit_code == 1 and "Did you mean 'bert-base'" in entity.output
    kind = runner.invoke(app, ["query", str(rq), "-e", "m=modl:bert-base", "--store", str(store)])
    assert kind.exit_code == 1 and "Did you mean 'model'" in kind.output
    known = runner.invoke(
        app, ["query", "records", "-p", "model=vit-base", "-f", "json", "--store", str(store)]
    )
    assert known.exit_code == 0, known.output
    assert len(json.loads(known.output)) == 1


def test_column_map_renames_columns_and_errors_say_the_flag(tmp_path: Path) -> None:
    records = tmp_path / "records.csv"
    records.write_text("model,dataset,eval_accuracy\nm1,d1,0.8\n", encoding="utf-8")
    base = ["ingest", "--records", str(records), "--create-missing", "-q"]
    plain = runner.invoke(app, [*base, "--store", str(tmp_path / "a")])
    assert plain.exit_code == 1
    assert "--column-map records:your_column=canonical_name" in plain.output
    assert "column_map=" not in plain.output
    flat = runner.invoke(
        app, [*base, "--store", str(tmp_path / "b"), "--column-map", "eval_accuracy=value"]
    )
    assert flat.exit_code == 0, flat.output
    assert "records=1" in flat.output
    per_table = runner.invoke(
        app, [*base, "--store", str(tmp_path / "c"), "--column-map", "records:eval_accuracy=value"]
    )
    assert per_table.exit_code == 0, per_table.output
    typo = runner.invoke(
        app, [*base, "--store", str(tmp_path / "d"), "--column-map", "recods:x=value"]
    )
    assert typo.exit_code == 1 and "Did you mean 'records'" in typo.output
    bad = runner.invoke(app, [*base, "--store", str(tmp_path / "e"), "--column-map", "value"])
    assert bad.exit_code == 1 and "OLD=NEW" in bad.output
