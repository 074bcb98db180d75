"""The long run of the graph's fault and fuzz suite (CI runs the same tests, bounded).

Runs pytest (slow tests included) on the fault and fuzz test files with more examples and
kill points than CI uses, through the knobs those tests read:

* ``KGT_FUZZ_EXAMPLES``: hypothesis examples per property test (tables, ids, SPARQL; CI:
  each test's own default, 40-60);
* ``KGT_FAULT_KILLS``: SIGKILLs of the write-back fault test (CI: 3);
* ``KGT_FAULT_SEED``: seed of its kill points.

Prints JSON: tests run, passed, failed (with their ids), skipped, the settings and the
duration in seconds; exits 1 when a test failed.

    .venv/bin/python benchmarks/fuzz_kg.py --examples 500 --kills 30
    .venv/bin/python benchmarks/fuzz_kg.py --examples 100 --kills 9 -k ids   # a subset
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: The fault and fuzz tests: hypothesis tables, model cards, ids and SPARQL; kill -9 during
#: ingest and write-back; a writer and readers in parallel processes; the loopback server.
FILES = [
    "tests/kg/test_validate.py",
    "tests/kg/test_cards.py",
    "tests/kg/test_fuzz_ids.py",
    "tests/kg/test_sparql_safety.py",
    "tests/kg/test_fault_writeback.py",
    "tests/kg/test_store_merge.py",
    "tests/kg/test_store_lifecycle.py",
]


def _results(junit: Path) -> dict[str, object]:
    cases = ET.parse(junit).getroot().iter("testcase")
    out: dict[str, list[str]] = {"passed": [], "failed": [], "skipped": []}
    for case in cases:
        name = f"{case.get('classname')}::{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            out["failed"].append(name)
        elif case.find("skipped") is not None:
            out["skipped"].append(name)
        else:
            out["passed"].append(name)
    return {
        "tests_run": sum(len(v) for v in out.values()),
        "passed": len(out["passed"]),
        "failed": len(out["failed"]),
        "skipped": len(out["skipped"]),
        "failed_tests": out["failed"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=300, help="KGT_FUZZ_EXAMPLES")
    parser.add_argument("--kills", type=int, default=30, help="KGT_FAULT_KILLS")
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    parser.add_argument("-k", dest="keyword", default=None, help="pytest -k expression")
    parser.add_argument("files", nargs="*", default=FILES, help="test files (default: the suite)")
    args = parser.parse_args()

    env = {
        **os.environ,
        "KGT_FUZZ_EXAMPLES": str(args.examples),
        "KGT_FAULT_KILLS": str(args.kills),
        "KGT_FAULT_SEED": str(args.seed),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
        "MKL_NUM_THREADS": os.environ.get("MKL_NUM_THREADS", "1"),
    }
    files = [f for f in args.files if (REPO / f).is_file()]
    with tempfile.TemporaryDirectory() as folder:
        junit = Path(folder) / "junit.xml"
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-m",
            "slow or not slow",
            f"--junitxml={junit}",
            *(["-k", args.keyword] if args.keyword else []),
            *files,
        ]
        start = time.perf_counter()
        run = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
        duration = time.perf_counter() - start
        if not junit.is_file():
            sys.stderr.write(run.stdout[-4000:] + run.stderr[-4000:])
            raise SystemExit(f"pytest wrote no results (exit code {run.returncode})")
        results = _results(junit)
    out = {
        "python": platform.python_version(),
        "files": files,
        "examples": args.examples,
        "kills": args.kills,
        "seed": args.seed,
        **results,
        "duration_s": round(duration, 1),
    }
    if results["failed"]:
        sys.stderr.write(run.stdout[-8000:])
    print(json.dumps(out, indent=2))
    raise SystemExit(1 if results["failed"] else 0)


if __name__ == "__main__":
    main()
