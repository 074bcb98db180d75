"""Transfer methods against scratch on a few-shot held-out digits task; prints JSON.

Source: an mlp trained on the digits train split (10 classes). Target: parity of the
digits test split (no image shared with the source), ``n`` examples per class to train,
the rest to test. Distillation: a wider teacher trained on the source images with the
parity labels, an mlp of width 32 as student, 200 unlabeled target inputs.

Run: ``.venv/bin/python benchmarks/bench_transfer_methods.py [n_per_class] [seeds]``
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import torch

from kgtransfer.data import ArrayDataset, load_dataset
from kgtransfer.models import create_model
from kgtransfer.transfer import Budget, Distill, evaluate_transfer
from kgtransfer.transfer.training import train_classifier

#: The single-source methods that train on the labelled target (distillation below).
METHODS = ("finetune", "linear_probe", "mlp_probe")


def _fit(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, seed: int) -> None:
    train_classifier(model, (x, y), Budget(epochs=10, lr=3e-3, batch_size=64), seed=seed)


def main() -> None:
    torch.set_num_threads(1)
    n_per_class = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    seeds = range(int(sys.argv[2]) if len(sys.argv) > 2 else 3)
    src_data = load_dataset("digits", split="train", seed=0)
    xs, ys = torch.tensor(src_data.x), torch.tensor(src_data.y)
    torch.manual_seed(0)
    source = create_model("mlp", n_classes=10, input_shape=src_data.input_shape)
    _fit(source, xs, ys, 0)
    torch.manual_seed(1)
    teacher = create_model("mlp_wide", n_classes=2, input_shape=src_data.input_shape)
    _fit(teacher, xs, ys % 2, 1)
    digits = load_dataset("digits", split="test", seed=0)
    ds = ArrayDataset(
        digits.x, digits.y % 2, classes=["even", "odd"], name="heldout_parity", modality="image"
    )
    budget = Budget(epochs=30, lr=3e-3, batch_size=16)
    rows = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        few = np.concatenate(
            [rng.choice(np.flatnonzero(ds.y == c), n_per_class, replace=False) for c in range(2)]
        )
        rest = rng.permutation(np.setdiff1d(np.arange(len(ds)), few))
        train, unlabeled, test = ds.subset(few), ds.x[rest[:200]], ds.subset(rest[200:])
        runs = [(m, source, "mlp", None) for m in METHODS]
        for kind in ("logit", "feature"):
            torch.manual_seed(seed)
            student = create_model("mlp", n_classes=2, input_shape=(1, 8, 8), width=32)
            method = Distill(  # the student is the target of the run
                kind=kind,
                epochs=budget.epochs,
                lr=budget.lr,
                batch_size=budget.batch_size,
                seed=seed,
            )
            runs.append((method, teacher, student, unlabeled))
        for method, src, tgt, unl in runs:
            t0 = time.perf_counter()
            r = evaluate_transfer(
                method, src, tgt, train, test, budget=budget, seed=seed, unlabeled=unl
            )
            rows.append(
                {
                    "method": r.method,
                    "seed": seed,
                    "accuracy": round(r.accuracy, 4),
                    "scratch_accuracy": round(r.scratch_accuracy or 0.0, 4),
                    "gain": round(r.gain or 0.0, 4),
                    "negative": r.negative_transfer,
                    "seconds": round(time.perf_counter() - t0, 2),
                }
            )
    summary = {}
    for m in sorted({r["method"] for r in rows}):
        g = [r["gain"] for r in rows if r["method"] == m]
        summary[m] = {
            "mean_gain": round(float(np.mean(g)), 4),
            "mean_accuracy": round(
                float(np.mean([r["accuracy"] for r in rows if r["method"] == m])), 4
            ),
        }
    print(
        json.dumps(
            {
                "n_per_class": n_per_class,
                "budget": budget.to_dict(),
                "summary": summary,
                "runs": rows,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
