"""The leaf core: errors, atomic writes, versions, the registry, the schema and the Protocols.

Their docstring examples run in ``tests/test_doctests.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kgtransfer.errors import ERROR_MODES, ArgumentError, check_error_mode

CORE = [
    "kgtransfer.errors",
    "kgtransfer._io",
    "kgtransfer._schema",
    "kgtransfer._versions",
    "kgtransfer.protocols",
    "kgtransfer.registry",
]


def test_the_core_loads_no_third_party_package() -> None:
    probe = (
        "import json, sys\n"
        + "".join(f"import {m}\n" for m in CORE)
        + "print(json.dumps(sorted(m for m in ('numpy', 'pandas', 'torch', 'pyoxigraph',"
        " 'kgtransfer.kg', 'kgtransfer.transfer', 'kgtransfer.api') if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_versions_keep_every_key_results_recorded() -> None:
    import numpy as np
    import torch

    import kgtransfer
    from kgtransfer._versions import versions

    v = versions()
    # the union of the four former copies (zoo, API, transfer and recommender evaluation)
    assert set(v) >= {"python", "kgtransfer", "torch", "torch_geometric", "numpy", "scipy"}
    assert set(v) >= {"pandas", "pyoxigraph"}
    assert v["torch"] == torch.__version__ and v["numpy"] == np.__version__
    assert v["kgtransfer"] == kgtransfer.__version__
    assert kgtransfer.versions is versions
    assert all(isinstance(x, str) and x for x in v.values())


@pytest.mark.parametrize("mode", ERROR_MODES)
def test_check_error_mode_passes_each_mode(mode: str) -> None:
    assert check_error_mode(mode) == mode


@pytest.mark.parametrize("bad", ["ignore", "Raise", "", None, ["raise"], 1])
def test_check_error_mode_names_the_bad_value(bad: object) -> None:
    with pytest.raises(ArgumentError, match=r"errors must be 'raise', 'warn' or 'collect', got "):
        check_error_mode(bad)


def test_registry_get_of_an_unhashable_name_is_an_unknown_name() -> None:
    from kgtransfer.errors import UnknownNameError
    from kgtransfer.registry import Registry

    reg: Registry[int] = Registry("thing")
    reg.add("one", 1)
    with pytest.raises(UnknownNameError, match=r"Unknown thing .*one"):
        reg.get(["one"])  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="pattern must be a shell pattern"):
        reg.list(3)  # type: ignore[arg-type]
    assert reg.remove("one") == 1 and len(reg) == 0


def test_every_errors_argument_uses_the_one_validator() -> None:
    from kgtransfer.data.preprocess import clean
    from kgtransfer.kg.ingest import normalize_tables

    with pytest.raises(ArgumentError, match="got 'ignore'"):
        normalize_tables(errors="ignore")  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="got 'skip'"):
        clean(None, errors="skip")  # type: ignore[arg-type]
