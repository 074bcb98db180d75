"""Start-up cost: wall time of fresh processes that import kgtransfer or run its CLI.

Prints one JSON object: for each case the median (and all runs) of ``--repeat`` fresh
processes, in seconds, plus ``python -c pass`` as the floor and the machine's load
average (the timings of a shared, loaded machine are noisy).

    .venv/bin/python benchmarks/bench_startup.py            # median of 5
    .venv/bin/python benchmarks/bench_startup.py --repeat 9
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def _cases() -> dict[str, list[str]]:
    py = sys.executable
    cli = shutil.which("kgtransfer", path=str(Path(py).parent)) or shutil.which("kgtransfer")
    cases = {
        "python -c pass": [py, "-c", "pass"],
        "import kgtransfer.errors": [py, "-c", "import kgtransfer.errors"],
        "import kgtransfer.kg": [py, "-c", "import kgtransfer.kg"],
        "import kgtransfer": [py, "-c", "import kgtransfer"],
    }
    if cli is None:  # not installed as a script: run the entry point through Python
        cli_cmd = [py, "-c", "import sys; from kgtransfer.cli import main; main()"]
    else:
        cli_cmd = [cli]
    cases["kgtransfer --help"] = [*cli_cmd, "--help"]
    cases["kgtransfer --version"] = [*cli_cmd, "--version"]
    return cases


def _time(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes per case")
    args = parser.parse_args()
    cases = _cases()
    _time(cases["import kgtransfer.kg"])  # warm the file cache once
    results = {}
    for name, cmd in cases.items():
        runs = [_time(cmd) for _ in range(args.repeat)]
        results[name] = {
            "median_s": round(statistics.median(runs), 3),
            "runs_s": [round(r, 3) for r in runs],
        }
    print(
        json.dumps(
            {
                "python": sys.version.split()[0],
                "repeat": args.repeat,
                "load_average": [round(x, 2) for x in os.getloadavg()],
                "cpu_count": os.cpu_count(),
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
