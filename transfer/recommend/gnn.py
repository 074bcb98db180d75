"""The GNN recommender: a heterogeneous GNN over the zoo graph ranking source models."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from kgtransfer._io import atomic_write_bytes as _atomic_write
from kgtransfer.errors import ArgumentError, NotFittedError
from kgtransfer.kg.tables import ZooTables
from kgtransfer.protocols import GraphLike, TablesLike

from ._base import BaseRecommender
from ._checks import check_bool, check_float, check_int, check_seed
from ._data import as_tables, similarity_matrix
from ._gnn import ZooGNN
from ._hetero import RECORD, REV_RECORD, build_hetero_data
from ._metrics import Z90 as _Z90
from ._registry import register_recommender
from ._stack import BaseScorers, conformal_quantile, fit_stack
from .baselines import _size_z, lineage_roots

__all__ = ["GNNRecommender"]

_FORMAT = "kgtransfer.GNNRecommender/1"
_MAX_ESTIMATORS = 4
_STACK_OBJECTIVES = ("squared", "listnet")


@register_recommender("gnn")
class GNNRecommender(BaseRecommender):
    """Rank source models for a target dataset with a heterogeneous GNN.

    The network (:class:`~kgtransfer.transfer.recommend._gnn.ZooGNN`) passes
    messages over the zoo graph of :func:`build_hetero_data` and predicts each
    (model → target) value z-scored within the target, as a learned residual on
    top of explicit graph-path features: the model's popularity prior (mean z on
    other datasets), its similarity-weighted values on datasets close to the
    target, how close its training dataset is to the target, and estimator scores
    on the target when the graph holds them.

    Training is episodic and mirrors the cold-start use: each step hides the
    records of a random subset of the training datasets (both edge directions,
    priors recomputed without them) and learns to predict them. ``n_ensemble``
    networks with seeds ``seed, seed + 1, ...`` are averaged.

    By default (``stack=True``) the score is a stack: a non-negative combination of
    the GNN's prediction and closed-form base scorers (popularity, similarity-weighted
    neighbours, size, lineage-root and model-family popularity, task/domain-weighted
    popularity, closeness of the model's training dataset, estimator scores; each
    only when the zoo has its inputs; :mod:`._stack`). The weights are learned per zoo
    at fit time from held-out predictions on the training datasets: leave-one-dataset-
    out for the closed-form scorers, ``stack_folds``-fold cross-fitting (one network
    per fold, trained without the fold's records) for the GNN, and shrunk towards the
    best single scorer (``stack_shrinkage``). The 90 % interval is split-conformal on
    those held-out residuals: in z units for a target with records, in the metric's
    units (target scale unknown) for a target without. ``stack=False`` is the plain
    GNN with the ensemble spread and in-sample residual quantile as interval.

    Args:
        hidden: Hidden width.
        n_layers: Message-passing rounds.
        epochs: Training steps (episodes) per ensemble member.
        lr: Adam learning rate.
        weight_decay: Adam weight decay.
        dropout: Dropout on node states.
        n_ensemble: Networks averaged.
        holdout_fraction: Share of training datasets hidden per episode.
        top_weight: Extra loss weight of models above the target's mean (favours
            getting the top of the ranking right).
        rank_weight: Weight of a listwise (ListNet) ranking loss added to the
            squared error per hidden target (0 = squared error only).
        rank_temperature: Softmax temperature of the ranking loss, in z units.
        similarity_power: Exponent sharpening similarities in the neighbour feature.
        top_k_similar: Similarity edges per dataset.
        stack: Combine the GNN with the closed-form base scorers (see above).
        stack_gnn: Include the GNN in the stack (False = stack of the closed-form
            scorers only; no network is trained).
        stack_folds: Cross-fitting folds of the GNN's held-out predictions (one
            network each, on top of the ``n_ensemble`` networks of the final GNN).
        stack_shrinkage: Pull of the stack weights towards the best single scorer.
        stack_objective: Loss of the stack weights: ``"squared"`` (top-weighted squared
            error) or ``"listnet"`` (ListNet cross-entropy per held-out dataset at
            ``rank_temperature``).
        seed: Seed of every random choice (initialisation, episodes, dropout).
        progress: Show a tqdm bar on stderr while fitting.

    Example:
        >>> import pandas as pd
        >>> from kgtransfer.kg.tables import ZooTables
        >>> recs = pd.DataFrame({"model": list("abcabc"), "dataset": list("xxxyyy"),
        ...                      "value": [0.9, 0.5, 0.7, 0.8, 0.6, 0.7]})
        >>> rec = GNNRecommender(epochs=5, n_ensemble=1).fit(ZooTables(records=recs))
        >>> rec.rank("y")["model"].tolist()
        ['a', 'c', 'b']
    """

    name = "gnn"

    def __init__(
        self,
        *,
        hidden: int = 32,
        n_layers: int = 2,
        epochs: int = 150,
        lr: float = 0.01,
        weight_decay: float = 1e-4,
        dropout: float = 0.1,
        n_ensemble: int = 2,
        holdout_fraction: float = 0.25,
        top_weight: float = 1.0,
        rank_weight: float = 1.0,
        rank_temperature: float = 1.0,
        similarity_power: float = 4.0,
        top_k_similar: int = 10,
        stack: bool = True,
        stack_gnn: bool = True,
        stack_folds: int = 3,
        stack_shrinkage: float = 1.0,
        stack_objective: str = "squared",
        seed: int = 0,
        progress: bool = False,
    ) -> None:
        self.hidden = hidden
        self.n_layers = n_layers
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.n_ensemble = n_ensemble
        self.holdout_fraction = holdout_fraction
        self.top_weight = top_weight
        self.rank_weight = rank_weight
        self.rank_temperature = rank_temperature
        self.similarity_power = similarity_power
        self.top_k_similar = top_k_similar
        self.stack = stack
        self.stack_gnn = stack_gnn
        self.stack_folds = stack_folds
        self.stack_shrinkage = stack_shrinkage
        self.stack_objective = stack_objective
        self.seed = seed
        self.progress = progress

    # ------------------------------------------------------------ setup
    def _validate(self) -> None:
        for key in ("hidden", "n_layers", "n_ensemble", "top_k_similar"):
            check_int(getattr(self, key), key, minimum=1)
        check_int(self.stack_folds, "stack_folds", minimum=2)
        check_bool(self.stack, "stack")
        check_bool(self.stack_gnn, "stack_gnn")
        check_float(self.stack_shrinkage, "stack_shrinkage", minimum=0.0)
        if self.stack_objective not in _STACK_OBJECTIVES:
            raise ArgumentError(
                f"stack_objective must be one of {list(_STACK_OBJECTIVES)}, got "
                f"{self.stack_objective!r}; pass e.g. stack_objective='squared'."
            )
        check_int(self.epochs, "epochs", minimum=0)
        check_seed(self.seed)
        check_bool(self.progress, "progress")
        check_float(self.lr, "lr", minimum=0.0, min_inclusive=False)
        for key in ("weight_decay", "top_weight", "rank_weight"):
            check_float(getattr(self, key), key, minimum=0.0)
        for key in ("rank_temperature", "similarity_power"):
            check_float(getattr(self, key), key, minimum=0.0, min_inclusive=False)
        check_float(self.dropout, "dropout", minimum=0.0, maximum=1.0, max_inclusive=False)
        check_float(
            self.holdout_fraction,
            "holdout_fraction",
            minimum=0.0,
            maximum=1.0,
            min_inclusive=False,
            max_inclusive=False,
        )

    def _setup(self, tables: ZooTables) -> None:
        data, index = build_hetero_data(
            tables, exclude_datasets=self.excluded_datasets_, top_k_similar=self.top_k_similar
        )
        self.tables_ = tables
        self.index_ = index
        n_d = len(index.names["dataset"])
        n_m = len(index.names["model"])
        x_d = torch.cat([data["dataset"].x, torch.eye(n_d)], dim=1)
        x_m = torch.cat([data["model"].x, torch.ones(n_m, 1)], dim=1)  # bias column
        self._x = {"model": x_m, "dataset": x_d}
        self._edge_index = {et: data[et].edge_index for et in data.edge_types}
        self._edge_weight = {
            et: data[et].edge_attr.view(-1) for et in data.edge_types if "edge_attr" in data[et]
        }
        self._num_nodes = {
            k: len(index.names[k]) for k in ("task", "domain", "family") if index.names[k]
        }
        present = {"model", "dataset", *self._num_nodes}
        self._edge_index = {
            et: ei for et, ei in self._edge_index.items() if et[0] in present and et[2] in present
        }
        rec = data[RECORD]
        self._rec_dataset = rec.edge_index[1]
        z = torch.full((n_m, n_d), float("nan"))
        z[rec.edge_index[0], rec.edge_index[1]] = rec.edge_attr.view(-1)
        self._z = z
        sim = torch.tensor(similarity_matrix(tables, index.names["dataset"]), dtype=torch.float32)
        self._sim = sim
        sims_off = sim.clone()
        sims_off.fill_diagonal_(0.0)
        self._sim_off = sims_off
        trained = torch.full((n_m,), -1, dtype=torch.long)
        if "trained_on" in tables.models:
            di = index.index["dataset"]
            for m, t in zip(tables.models["model"], tables.models["trained_on"], strict=True):
                if pd.notna(m) and pd.notna(t) and str(m) in index.index["model"]:
                    trained[index.index["model"][str(m)]] = di[str(t)]
        self._trained = trained
        sc = tables.scores.dropna(subset=["model", "dataset", "value", "estimator"])
        ests = list(sc["estimator"].astype(str).value_counts().index[:_MAX_ESTIMATORS])
        self.estimators_ = sorted(ests)
        mats = []
        for est in self.estimators_:
            part = sc.loc[sc["estimator"].astype(str) == est]
            v = part["value"].astype(float)
            g = v.groupby(part["dataset"].astype(str))
            zs = ((v - g.transform("mean")) / g.transform("std").replace(0, 1).fillna(1.0)).fillna(
                0
            )
            mat = torch.full((n_m, n_d), float("nan"))
            mi = [index.index["model"].get(str(m), -1) for m in part["model"]]
            dj = [index.index["dataset"].get(str(d), -1) for d in part["dataset"]]
            for a, b, val in zip(mi, dj, zs.to_numpy(dtype=float), strict=True):
                if a >= 0 and b >= 0:
                    mat[a, b] = float(val)
            mats.append(mat)
        self._scores = mats
        self.record_datasets_ = sorted(set(self._rec_dataset.tolist()))
        self._scorers = self._base_scorers(tables)
        self._cache: dict[tuple[int, ...], list[dict[str, Tensor]]] = {}

    def _base_scorers(self, tables: ZooTables) -> BaseScorers:
        """The closed-form scorers' inputs over this graph's node indices."""
        names = self.index_.names
        models = pd.Index(names["model"])
        size_z = _size_z(self.models_)
        size = size_z.reindex(models).to_numpy(dtype=float) if size_z.nunique() >= 2 else None

        def groups(labels: list[str]) -> np.ndarray | None:
            codes, uniques = pd.factorize(pd.Series(labels))
            return codes.astype(np.int64) if len(uniques) < len(labels) else None

        root_of = lineage_roots(tables.lineage, names["model"])
        roots = groups([root_of[m] for m in names["model"]])
        family = None
        if "model_type" in self.models_:
            fam = self.models_["model_type"].astype("object").reindex(models)
            labels = [
                f"type:{v}" if pd.notna(v) and str(v).strip() else f"model:{m}"
                for m, v in zip(models, fam, strict=True)
            ]
            family = groups(labels)
        ds = tables.datasets.drop_duplicates("dataset")
        ds = ds.assign(dataset=ds["dataset"].astype(str)).set_index("dataset")
        attrs: list[np.ndarray | None] = []
        for col in ("task", "domain"):
            if col not in ds or not ds[col].notna().any():
                attrs.append(None)
                continue
            vals = ds[col].astype("object").reindex(names["dataset"])
            low = vals.map(lambda v: str(v).strip().lower() if pd.notna(v) else None)
            codes, _ = pd.factorize(low)
            attrs.append(codes.astype(np.int64))
        return BaseScorers(
            z=self._z.numpy().astype(float),
            sim=self._sim.numpy().astype(float),
            size=size,
            roots=roots,
            family=family,
            task=attrs[0],
            domain=attrs[1],
            trained=self._trained.numpy(),
            scores={
                e: m.numpy().astype(float)
                for e, m in zip(self.estimators_, self._scores, strict=True)
            },
            power=self.similarity_power,
        )

    @property
    def stack_names_(self) -> list[str]:
        """Names of the stacked scorers (feature order of ``stack_weights_``)."""
        return self._scorers.names + (["gnn"] if self.stack_gnn else [])

    def _new_network(self) -> ZooGNN:
        in_dims = {k: v.shape[1] for k, v in self._x.items()}
        return ZooGNN(
            in_dims,
            self._num_nodes,
            sorted(self._edge_index),
            n_pair=5 + 2 * len(self.estimators_),
            hidden=self.hidden,
            n_layers=self.n_layers,
            dropout=self.dropout,
        )

    # ------------------------------------------------------- features
    def _graph_without(self, hidden: Tensor) -> tuple[dict[Any, Tensor], dict[Any, Tensor]]:
        """Edge dicts with the record edges of datasets ``hidden`` removed (both directions)."""
        keep = ~torch.isin(self._rec_dataset, hidden)
        ei = dict(self._edge_index)
        ew = dict(self._edge_weight)
        ei[RECORD] = self._edge_index[RECORD][:, keep]
        ei[REV_RECORD] = self._edge_index[REV_RECORD][:, keep]
        ew[RECORD] = self._edge_weight[RECORD][keep]
        ew[REV_RECORD] = self._edge_weight[REV_RECORD][keep]
        return ei, ew

    def _pair_features(self, hidden: Tensor, target: int, models: Tensor) -> Tensor:
        """(len(models), n_pair) explicit path features of (model, target) pairs."""
        z = self._z[models].clone()
        if len(hidden):
            z[:, hidden] = float("nan")
        has = torch.isfinite(z)
        z0 = torch.where(has, z, torch.zeros(()))
        n_rec = has.sum(1).float()
        prior = z0.sum(1) / n_rec.clamp(min=1)
        if target >= 0:
            s = self._sim_off[target]
            w = s.clamp(min=0) ** self.similarity_power
            num = z0 @ w + 0.5 * prior
            den = has.float() @ w + 0.5
            neigh = num / den
            near = torch.where(has, s.expand_as(z0), torch.zeros(())).max(1).values
            tr = self._trained[models]
            trained_sim = torch.where(tr >= 0, self._sim[target][tr.clamp(min=0)], torch.zeros(()))
        else:
            neigh = prior
            near = torch.zeros(len(models))
            trained_sim = torch.zeros(len(models))
        cols = [prior, neigh - prior, torch.log1p(n_rec), trained_sim, near]
        for mat in self._scores:
            v = mat[models, target] if target >= 0 else torch.full((len(models),), float("nan"))
            ok = torch.isfinite(v)
            cols += [torch.where(ok, v, torch.zeros(())), (~ok).float()]
        return torch.stack(cols, dim=1)

    # ----------------------------------------------------------- train
    def _train(self, net: ZooGNN, seed: int, epochs: int, exclude: Tensor | None = None) -> None:
        """Episodic training; datasets ``exclude`` stay hidden throughout (cross-fitting)."""
        gen = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        opt = torch.optim.Adam(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        fixed = exclude if exclude is not None else torch.zeros(0, dtype=torch.long)
        datasets = torch.tensor(
            [d for d in self.record_datasets_ if d not in set(fixed.tolist())], dtype=torch.long
        )
        n_hide = max(1, round(self.holdout_fraction * len(datasets)))
        if len(datasets) < 2:
            n_hide = len(datasets)
        net.train()
        for _ in range(epochs if len(datasets) else 0):
            episode = datasets[torch.randperm(len(datasets), generator=gen)[:n_hide]]
            hidden = torch.cat([episode, fixed])
            ei, ew = self._graph_without(hidden)
            h = net(self._x, ei, ew)
            losses = []
            for t in episode.tolist():
                models = torch.nonzero(torch.isfinite(self._z[:, t])).view(-1)
                pair = self._pair_features(hidden, t, models)
                pred = net.score(h["model"][models], h["dataset"][t].expand(len(models), -1), pair)
                true = self._z[models, t]
                w = 1.0 + self.top_weight * true.clamp(min=0)
                loss_t = (w * (pred - true) ** 2).mean()
                if self.rank_weight > 0 and len(models) > 1:
                    loss_t = loss_t + self.rank_weight * self._rank_loss(pred, true)
                losses.append(loss_t)
            loss = torch.stack(losses).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        net.eval()

    def _rank_loss(self, pred: Tensor, true: Tensor) -> Tensor:
        """ListNet cross-entropy between the softmax of true and predicted z of one target.

        The softmax puts most of the mass on the best models, so like weighted τ
        it favours ordering the top of the ranking correctly.
        """
        tau = self.rank_temperature
        return -(torch.softmax(true / tau, 0) * torch.log_softmax(pred / tau, 0)).sum()

    def _fit(self, tables: ZooTables) -> None:
        self._validate()
        self._setup(tables)
        if self.stack:
            self._fit_stacked()
            return
        self.networks_ = self._train_ensemble()
        self._calibrate()

    def _train_ensemble(self) -> list[ZooGNN]:
        """``n_ensemble`` networks on the whole graph, member ``i`` seeded ``seed + i``."""
        from tqdm.auto import tqdm

        nets = []
        for i in tqdm(range(self.n_ensemble), disable=not self.progress, desc="gnn ensemble"):
            torch.manual_seed(self.seed + i)
            net = self._new_network()
            self._train(net, self.seed + i, self.epochs)
            nets.append(net)
        return nets

    # ----------------------------------------------------------- stack
    def _fit_stacked(self) -> None:
        """Cross-fit GNN predictions, stack weights and conformal quantiles (``stack=True``)."""

        datasets = list(self.record_datasets_)
        held: dict[int, Tensor] = {}
        nets: list[ZooGNN] = []
        if self.stack_gnn:
            rng = np.random.default_rng(self.seed)
            k = min(self.stack_folds, len(datasets))
            folds = np.array_split(rng.permutation(datasets), k) if k >= 2 else []
            for i, fold in enumerate(folds):
                hidden = torch.tensor(sorted(int(d) for d in fold), dtype=torch.long)
                torch.manual_seed(self.seed + 500 + i)
                net = self._new_network()
                self._train(net, self.seed + 500 + i, self.epochs, exclude=hidden)
                ei, ew = self._graph_without(hidden)
                with torch.no_grad():
                    h = net(self._x, ei, ew)
                    for t in hidden.tolist():
                        models = torch.nonzero(torch.isfinite(self._z[:, t])).view(-1)
                        pair = self._pair_features(hidden, t, models)
                        held[t] = net.score(
                            h["model"][models], h["dataset"][t].expand(len(models), -1), pair
                        )
            nets = self._train_ensemble()
        self.networks_ = nets
        blocks = []
        for t in datasets:
            rows = np.flatnonzero(np.isfinite(self._scorers.z[:, t]))
            x = self._scorers.predict(t, np.array([t]), rows)
            if self.stack_gnn:
                g = held[t].numpy().astype(float) if t in held else x[:, 0]
                x = np.column_stack([x, g])
            blocks.append((t, x, self._scorers.z[rows, t]))
        fit = fit_stack(
            [(x, y) for _, x, y in blocks],
            self.stack_names_,
            shrinkage=self.stack_shrinkage,
            top_weight=self.top_weight,
            objective=self.stack_objective,
            temperature=self.rank_temperature,
        )
        self.stack_weights_ = fit.weights
        self.stack_best_ = fit.best
        self.stack_inner_loss_ = fit.inner_loss
        self._conformal([(t, x @ fit.weights, y) for t, x, y in blocks])

    def _conformal(self, preds: list[tuple[int, np.ndarray, np.ndarray]]) -> None:
        """Split-conformal 90 % quantiles from held-out (dataset, predicted z, true z).

        ``residual_q90_`` (z units) serves targets whose scale is known (they have
        records); ``cold_q90_`` serves targets without records: the residual in the
        metric's units when the target's mean and spread are estimated from the other
        datasets too, divided by ``sqrt(std^2 + sd_of_mean^2)`` of that estimate.
        """
        res_z, res_cold = [], []
        names = self.index_.names["dataset"]
        stats = self.truth_.stats
        for t, pred, true in preds:
            res_z.append(np.abs(pred - true))
            name = names[t]
            if name not in stats.index:
                continue
            good = float(stats.at[name, "mean"]) + true * float(stats.at[name, "std"])
            mean, std, msd, _ = self._scale(name, held_out=True)
            res_cold.append(np.abs(good - (mean + pred * std)) / np.hypot(std, msd))
        self.residual_q90_ = conformal_quantile(np.concatenate(res_z)) if res_z else 1.0
        self.cold_q90_ = (
            conformal_quantile(np.concatenate(res_cold)) if res_cold else self.residual_q90_
        )

    def partial_fit(
        self, graph: GraphLike | TablesLike, *, epochs: int | None = None
    ) -> GNNRecommender:
        """Refit on an updated graph, warm-starting from the current weights.

        Keeps the held-out datasets of the last ``fit``. When the graph changed
        shape (new node or edge types, a new estimator, new feature columns) the
        weights cannot be reused and a full ``fit`` runs instead, with a warning.

        Args:
            graph: The updated zoo (``ZooTables`` or ``ZooGraph``).
            epochs: Training steps per member; default ``max(1, epochs // 4)``.

        Returns:
            self
        """
        if not hasattr(self, "networks_"):
            raise NotFittedError(
                "partial_fit needs a fitted GNNRecommender; call fit(graph) first."
            )
        check_int(epochs, "epochs", minimum=0, allow_none=True, fix="pass e.g. epochs=10")
        old = [net.state_dict() for net in self.networks_]
        tables = as_tables(graph)
        self._prepare(tables, self.excluded_datasets_)
        self._setup(tables)
        nets = []
        try:
            for state in old:
                net = self._new_network()
                net.load_state_dict(state)
                nets.append(net)
        except RuntimeError as exc:
            warnings.warn(
                f"The graph changed shape ({str(exc).splitlines()[0]}); refitting from scratch.",
                UserWarning,
                stacklevel=2,
            )
            self._fit(tables)
            return self
        if self.stack and len(self.stack_names_) != len(self.stack_weights_):
            warnings.warn(
                "The graph's base scorers changed (e.g. a new estimator or lineage); "
                "refitting from scratch.",
                UserWarning,
                stacklevel=2,
            )
            self._fit(tables)
            return self
        steps = max(1, self.epochs // 4) if epochs is None else epochs
        for i, net in enumerate(nets):
            self._train(net, self.seed + 1000 + i, steps)
        self.networks_ = nets
        if not self.stack:
            self._calibrate()
            return self
        # the stack weights of the last fit are kept; the intervals follow the new records
        preds = []
        for t in self.record_datasets_:
            models = np.flatnonzero(np.isfinite(self._scorers.z[:, t]))
            x = self._stack_features(t, models)
            preds.append((t, x @ self.stack_weights_, self._scorers.z[models, t]))
        self._cache.clear()
        self._conformal(preds)
        return self

    # --------------------------------------------------------- predict
    def _embeddings(self, hidden: Tensor) -> list[dict[str, Tensor]]:
        key = tuple(hidden.tolist())
        if key not in self._cache:
            ei, ew = self._graph_without(hidden)
            with torch.no_grad():
                self._cache[key] = [net(self._x, ei, ew) for net in self.networks_]
        return self._cache[key]

    def _predict_index(self, target: int, models: Tensor) -> tuple[Tensor, Tensor]:
        has_records = target >= 0 and target in self.record_datasets_
        hidden = torch.tensor([target] if has_records else [], dtype=torch.long)
        pair = self._pair_features(hidden, target, models)
        preds = []
        with torch.no_grad():
            for net, h in zip(self.networks_, self._embeddings(hidden), strict=True):
                ht = h["dataset"][target] if target >= 0 else h["dataset"].mean(0)
                preds.append(net.score(h["model"][models], ht.expand(len(models), -1), pair))
        stack = torch.stack(preds)
        return stack.mean(0), stack.std(0, unbiased=False)

    def _calibrate(self) -> None:
        res = []
        for t in self.record_datasets_:
            models = torch.nonzero(torch.isfinite(self._z[:, t])).view(-1)
            pred, _ = self._predict_index(t, models)
            res.append((pred - self._z[models, t]).abs())
        self.residual_q90_ = float(torch.cat(res).quantile(0.9)) if res else 1.0
        self._cache.clear()

    def _stack_features(self, target: int, models: np.ndarray) -> np.ndarray:
        """(len(models), n_scorers) base-scorer predictions, the target's records hidden."""
        has_records = target >= 0 and target in self.record_datasets_
        hidden = np.array([target] if has_records else [], dtype=np.int64)
        x = self._scorers.predict(target, hidden, models)
        if self.stack_gnn:
            mean, _ = self._predict_index(target, torch.as_tensor(models, dtype=torch.long))
            x = np.column_stack([x, mean.numpy().astype(float)])
        return x

    def _predict_z(self, dataset: str, models: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not hasattr(self, "networks_"):
            raise NotFittedError("This GNNRecommender is not fitted yet; call fit(graph) first.")
        target = self.index_.index["dataset"].get(dataset, -1)
        mi = self.index_.index["model"]
        idx = torch.tensor([mi[str(m)] for m in models], dtype=torch.long)
        if self.stack:
            z = self._stack_features(target, idx.numpy()) @ self.stack_weights_
            if dataset in self.truth_.stats.index:
                half = np.full(len(z), self.residual_q90_)
            else:  # the target's scale is estimated too: rank() adds its mean's spread
                _, std, msd, _ = self._scale(dataset)
                q = self.cold_q90_
                ratio = (msd / std) ** 2 if std > 0 else 0.0
                half = np.full(len(z), np.sqrt(max(q**2 + (q**2 - _Z90**2) * ratio, 0.0)))
        else:
            mean, sd = self._predict_index(target, idx)
            z = mean.numpy().astype(float)
            half = np.sqrt(self.residual_q90_**2 + (_Z90 * sd.numpy()) ** 2)
        if target >= 0:
            known = self._z[idx, target].numpy()
            seen = np.isfinite(known)
            z = np.where(seen, known, z)
            half = np.where(seen, 0.0, half)
        return z, half

    def _evidence(self, dataset: str, model: str) -> str:
        text = super()._evidence(dataset, model)
        v = self.truth_.values
        own = v.loc[(v["model"] == model) & (v["dataset"] == dataset)]
        if len(own):
            row = own.iloc[0]
            text = f"measured {row['value']:.3g} {row['metric']} on the target; " + text
        return text

    # ------------------------------------------------------- save/load
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the fitted recommender to folder ``path`` (safetensors + JSON, no pickle).

        The folder gets ``weights.safetensors`` (every ensemble member), and
        ``config.json`` (parameters, held-out datasets, format version) and
        ``tables.json`` (the zoo it was fitted on). Files are written atomically.
        """
        from safetensors.torch import save as st_save

        if not hasattr(self, "networks_"):
            raise NotFittedError(
                "Only a fitted GNNRecommender can be saved; call fit(graph) first."
            )
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {
            f"{i}.{k}": v.contiguous()
            for i, net in enumerate(self.networks_)
            for k, v in net.state_dict().items()
        }
        _atomic_write(folder / "weights.safetensors", st_save(tensors))
        tables = {
            name: json.loads(table.to_json(orient="split", index=False))
            for name, table in self.tables_
        }
        _atomic_write(folder / "tables.json", json.dumps(tables).encode())
        config = {
            "format": _FORMAT,
            "params": self.get_params(),
            "excluded_datasets": self.excluded_datasets_,
            "residual_q90": self.residual_q90_,
        }
        if self.stack:
            config["stack"] = {
                "names": self.stack_names_,
                "weights": [float(w) for w in self.stack_weights_],
                "best": self.stack_best_,
                "cold_q90": self.cold_q90_,
            }
        _atomic_write(folder / "config.json", json.dumps(config, indent=2).encode())
        return folder

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, allow_nonfinite: bool = False) -> GNNRecommender:
        """Load a recommender written by :meth:`save`; no training happens.

        Every file and field is checked first (types, ranges such as ``n_ensemble >= 1``
        and a finite ``residual_q90``, tensor names and shapes against the config).

        Args:
            path: The folder written by :meth:`save`.
            allow_nonfinite: Load NaN or infinite weights too (refused by default).

        Raises:
            CheckpointError: A missing, unreadable or tampered file; the file and field
                are named.
        """
        from kgtransfer.errors import CheckpointError

        from ._saved import check_member_state, read_saved

        folder = Path(path)
        saved = read_saved(folder, cls, _FORMAT, allow_nonfinite=allow_nonfinite)
        rec = cls(**saved.params)
        try:
            rec._validate()
            rec._prepare(saved.tables, saved.excluded_datasets)
            rec._setup(saved.tables)
            nets = [rec._new_network() for _ in range(rec._n_networks())]
        except (ValueError, TypeError, KeyError, IndexError, RuntimeError) as exc:
            raise CheckpointError(
                f"The recommender saved in {str(folder)!r} cannot be rebuilt from its "
                f"config.json and tables.json: {exc}"
            ) from exc
        weights_path = folder / "weights.safetensors"
        for i, net in enumerate(nets):
            prefix = f"{i}."
            state = {k[len(prefix) :]: v for k, v in saved.weights.items() if k.startswith(prefix)}
            check_member_state(weights_path, i, state, net.state_dict())
            net.load_state_dict(state)
            net.eval()
        rec.networks_ = nets
        rec.residual_q90_ = saved.residual_q90
        if rec.stack:
            rec._load_stack(saved.config.get("stack"), folder / "config.json")
        return rec

    def _n_networks(self) -> int:
        """Networks a fitted recommender holds (none for a stack without the GNN)."""
        return 0 if self.stack and not self.stack_gnn else self.n_ensemble

    def _load_stack(self, raw: Any, path: Path) -> None:
        from kgtransfer.errors import CheckpointError

        where = repr(str(path))
        if not isinstance(raw, dict):
            raise CheckpointError(
                f"{where}: 'stack' must be a JSON object (names, weights, best, cold_q90) "
                f"for a recommender saved with stack=True, got {raw!r}."
            )
        names, weights = raw.get("names"), raw.get("weights")
        if names != self.stack_names_:
            raise CheckpointError(
                f"{where}: stack['names'] is {names!r} but the saved tables give the scorers "
                f"{self.stack_names_}; the folder was edited or mixed with another save."
            )
        if not isinstance(weights, list) or len(weights) != len(names):
            raise CheckpointError(
                f"{where}: stack['weights'] must be a list of {len(names)} numbers, "
                f"got {weights!r}."
            )
        for key, value in [
            *((f"weights[{i}]", w) for i, w in enumerate(weights)),
            ("cold_q90", raw.get("cold_q90")),
        ]:
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not np.isfinite(value)
                or value < 0
            ):
                raise CheckpointError(
                    f"{where}: stack[{key!r}] must be a finite number >= 0, got {value!r}."
                )
        best = raw.get("best")
        if best not in names:
            raise CheckpointError(f"{where}: stack['best'] must be one of {names}, got {best!r}.")
        self.stack_weights_ = np.asarray(weights, dtype=float)
        self.stack_best_ = str(best)
        self.cold_q90_ = float(raw["cold_q90"])

    def fit(
        self, graph: GraphLike | TablesLike, exclude_datasets: Iterable[str] = ()
    ) -> GNNRecommender:
        """Train the ensemble on a ``ZooTables`` or ``ZooGraph``.

        Args:
            graph: The zoo.
            exclude_datasets: Datasets whose records are never seen (held-out
                targets): their record edges are dropped in both directions.

        Returns:
            self
        """
        super().fit(graph, exclude_datasets)
        return self
