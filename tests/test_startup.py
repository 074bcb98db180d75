"""Start-up cost: the root package re-exports lazily and light modules stay light.

No timings here (see ``benchmarks/bench_startup.py``); these tests check which heavy
libraries a fresh interpreter has loaded after an import, and that every public name
still resolves exactly as before.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import kgtransfer

# Every package whose ``__all__`` is its public API.
PACKAGES = [
    "kgtransfer",
    "kgtransfer.api",
    "kgtransfer.cli",
    "kgtransfer.data",
    "kgtransfer.errors",
    "kgtransfer.kg",
    "kgtransfer.kg.ingest",
    "kgtransfer.models",
    "kgtransfer.protocols",
    "kgtransfer.registry",
    "kgtransfer.report",
    "kgtransfer.transfer",
    "kgtransfer.transfer.methods",
    "kgtransfer.transfer.recommend",
    "kgtransfer.transfer.scores",
    "kgtransfer.zoo",
]

HEAVY = ("torch", "torch_geometric", "transformers", "matplotlib", "sklearn")

CLI_HELP = """
import sys
from kgtransfer.cli import main
sys.argv = ["kgtransfer", "--help"]
try:
    main()
except SystemExit:
    pass
"""


def _loaded_after(code: str, modules: tuple[str, ...] = HEAVY) -> dict[str, bool]:
    """Which of ``modules`` a fresh interpreter has imported after running ``code``."""
    probe = (
        f"{code}\nimport json, sys\nprint(json.dumps({{m: m in sys.modules for m in {modules!r}}}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_resolves(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__all__, package
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == []
    assert set(module.__all__) <= set(dir(module))


def test_root_reexports_are_the_subpackage_objects() -> None:
    from kgtransfer import (
        GNNRecommender,
        Recommendation,
        ZooGraph,
        create_model,
        evaluate,
        evaluate_transfer,
        load_dataset,
        recommend,
        transfer_from,
        write_report,
    )
    from kgtransfer.api import Recommendation as api_recommendation
    from kgtransfer.api import evaluate as api_evaluate
    from kgtransfer.api import recommend as api_recommend
    from kgtransfer.api import transfer_from as api_transfer_from
    from kgtransfer.data import load_dataset as data_load_dataset
    from kgtransfer.kg import ZooGraph as kg_zoo_graph
    from kgtransfer.models import create_model as models_create_model
    from kgtransfer.report import write_report as report_write_report
    from kgtransfer.transfer import GNNRecommender as transfer_gnn
    from kgtransfer.transfer import evaluate_transfer as transfer_evaluate

    assert GNNRecommender is transfer_gnn
    assert Recommendation is api_recommendation
    assert ZooGraph is kg_zoo_graph
    assert create_model is models_create_model
    assert evaluate is api_evaluate
    assert evaluate_transfer is transfer_evaluate
    assert load_dataset is data_load_dataset
    assert recommend is api_recommend
    assert transfer_from is api_transfer_from
    assert write_report is report_write_report


def test_subpackages_are_attributes_of_the_root() -> None:
    loaded = _loaded_after(
        "import kgtransfer\nassert kgtransfer.kg.ZooGraph and kgtransfer.errors.did_you_mean",
        ("torch",),
    )
    assert loaded == {"torch": False}
    import kgtransfer.transfer

    assert kgtransfer.transfer.leep_score is kgtransfer.transfer.scores.leep_score
    assert {"kg", "transfer", "models", "data", "api"} <= set(dir(kgtransfer))


def test_root_version_and_unknown_name() -> None:
    from importlib.metadata import version

    assert kgtransfer.__version__ == version("kgtransfer")
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = kgtransfer.no_such_name
    with pytest.raises(ImportError):
        from kgtransfer import no_such_name  # noqa: F401


@pytest.mark.parametrize(
    "code",
    ["import kgtransfer", "import kgtransfer.errors", "import kgtransfer.kg", CLI_HELP],
    ids=["root", "errors", "kg", "cli-help"],
)
def test_light_imports_load_no_heavy_library(code: str) -> None:
    assert _loaded_after(code) == dict.fromkeys(HEAVY, False)


@pytest.mark.parametrize(
    ("module", "absent"),
    [
        ("kgtransfer.transfer", ("torch_geometric", "transformers", "matplotlib")),
        ("kgtransfer.report", ("torch", "matplotlib", "networkx")),
    ],
)
def test_heavy_rooms_defer_what_they_need_only_later(module: str, absent: tuple[str, ...]) -> None:
    assert _loaded_after(f"import {module}", absent) == dict.fromkeys(absent, False)


def test_kg_needs_no_torch_even_for_its_names() -> None:
    loaded = _loaded_after("import kgtransfer.kg as kg\nfor n in kg.__all__: getattr(kg, n)")
    assert loaded["torch"] is False


def test_version_flag_and_subcommand_agree() -> None:
    from kgtransfer.cli import app

    runner = CliRunner()
    flag = runner.invoke(app, ["--version"])
    sub = runner.invoke(app, ["version"])
    assert flag.exit_code == 0 and sub.exit_code == 0
    assert flag.output.strip() == sub.output.strip() == kgtransfer.__version__
