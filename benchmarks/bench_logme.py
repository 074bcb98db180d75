"""Benchmark LogME: fast implementation vs the straightforward per-class reference.

Prints JSON. Each measurement runs in a fresh subprocess so that peak memory
(``ru_maxrss``, minus the baseline after creating the features) is per method.
The reference is timed on ``--ref-classes`` classes and extrapolated linearly to all
classes (its per-class loop is independent per class), since the full run takes minutes.

    .venv/bin/python benchmarks/bench_logme.py --n 10000 --d 2048 --classes 100
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time


def _features(n: int, d: int, n_classes: int, seed: int):  # type: ignore[no-untyped-def]
    import numpy as np

    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_classes, n)
    centres = rng.normal(size=(n_classes, d)).astype(np.float32)
    feats = (0.5 * centres[labels] + rng.normal(size=(n, d)).astype(np.float32)).astype(np.float32)
    return feats, labels


def _child(
    method: str, n: int, d: int, n_classes: int, seed: int, ref_classes: int, threads: int
) -> None:
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    from kgtransfer.transfer.scores import logme_score
    from kgtransfer.transfer.scores.logme import _logme_reference

    feats, labels = _features(n, d, n_classes, seed)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if method == "reference":
        keep = np.isin(labels, np.arange(ref_classes))
        # reference on the first ref_classes one-vs-rest columns: same N and D, fewer classes
        fn = _logme_reference
        t0 = time.perf_counter()
        value = fn(feats, np.where(keep, labels, -1), max_iter=1000)
        seconds = time.perf_counter() - t0
        per_class = seconds / (ref_classes + 1)
        seconds_full = per_class * n_classes
    else:
        t0 = time.perf_counter()
        value = logme_score(feats, labels, precision="float32" if method == "fast32" else "float64")
        seconds = time.perf_counter() - t0
        seconds_full = seconds
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "value": value,
                "seconds": seconds,
                "seconds_all_classes": seconds_full,
                "peak_extra_mb": (peak - base) / 1024,
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--d", type=int, default=2048)
    ap.add_argument("--classes", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ref-classes", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-reference", action="store_true")
    ap.add_argument("--child", choices=["fast", "fast32", "reference"])
    a = ap.parse_args()
    if a.child:
        _child(a.child, a.n, a.d, a.classes, a.seed, a.ref_classes, a.threads)
        return
    out: dict[str, object] = {
        "n": a.n,
        "d": a.d,
        "classes": a.classes,
        "seed": a.seed,
        "threads": a.threads,
        "python": platform.python_version(),
    }
    import numpy

    out["numpy"] = numpy.__version__
    methods = ["fast", "fast32"] + ([] if a.skip_reference else ["reference"])
    for m in methods:
        cmd = [
            sys.executable,
            __file__,
            "--child",
            m,
            "--n",
            str(a.n),
            "--d",
            str(a.d),
            "--classes",
            str(a.classes),
            "--seed",
            str(a.seed),
            "--ref-classes",
            str(a.ref_classes),
            "--threads",
            str(a.threads),
        ]
        res = subprocess.run(cmd, capture_output=True, text=True, check=True)
        out[m] = json.loads(res.stdout.strip().splitlines()[-1])
    if "reference" in out:
        ref = out["reference"]
        fast = out["fast"]
        assert isinstance(ref, dict) and isinstance(fast, dict)
        out["reference"]["note"] = (  # type: ignore[index]
            f"timed on {a.ref_classes} classes + 1 rest class, extrapolated to {a.classes}"
        )
        out["speedup"] = ref["seconds_all_classes"] / fast["seconds"]
        fast32 = out["fast32"]
        assert isinstance(fast32, dict)
        out["speedup_float32"] = ref["seconds_all_classes"] / fast32["seconds"]
    fast, fast32 = out["fast"], out["fast32"]
    assert isinstance(fast, dict) and isinstance(fast32, dict)
    out["float32_rel_diff"] = abs(fast32["value"] - fast["value"]) / abs(fast["value"])
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
