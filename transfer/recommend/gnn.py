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
from kgtransfer.errors import NotFittedError
from kgtransfer.kg.tables import ZooTables

from ._base import _Z90, BaseRecommender
from ._checks import check_bool, check_float, check_int, check_seed
from ._data import as_tables, similarity_matrix
from ._gnn import ZooGNN
from ._hetero import RECORD, REV_RECORD, build_hetero_data
from ._registry import register_recommender

__all__ = ["GNNRecommender"]

_FORMAT = "kgtransfer.GNNRecommender/1"
_MAX_ESTIMATORS = 4


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
    networks with seeds ``seed, seed + 1, ...`` are averaged; the interval is the
    ensemble spread combined with the 90 % quantile of the residuals when each
    training dataset is hidden in turn.

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
        n_ensemble: int = 5,
        holdout_fraction: float = 0.25,
        top_weight: float = 1.0,
        rank_weight: float = 1.0,
        rank_temperature: float = 1.0,
        similarity_power: float = 4.0,
        top_k_similar: int = 10,
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
        self.seed = seed
        self.progress = progress

    # ------------------------------------------------------------ setup
    def _validate(self) -> None:
        for key in ("hidden", "n_layers", "n_ensemble", "top_k_similar"):
            check_int(getattr(self, key), key, minimum=1)
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
        self._cache: dict[tuple[int, ...], list[dict[str, Tensor]]] = {}

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
    def _train(self, net: ZooGNN, seed: int, epochs: int) -> None:
        gen = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        opt = torch.optim.Adam(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        datasets = torch.tensor(self.record_datasets_, dtype=torch.long)
        n_hide = max(1, round(self.holdout_fraction * len(datasets)))
        if len(datasets) < 2:
            n_hide = len(datasets)
        net.train()
        for _ in range(epochs if len(datasets) else 0):
            hidden = datasets[torch.randperm(len(datasets), generator=gen)[:n_hide]]
            ei, ew = self._graph_without(hidden)
            h = net(self._x, ei, ew)
            losses = []
            for t in hidden.tolist():
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
        from tqdm.auto import tqdm

        nets = []
        for i in tqdm(range(self.n_ensemble), disable=not self.progress, desc="gnn ensemble"):
            torch.manual_seed(self.seed + i)
            net = self._new_network()
            self._train(net, self.seed + i, self.epochs)
            nets.append(net)
        self.networks_ = nets
        self._calibrate()

    def partial_fit(self, graph: Any, *, epochs: int | None = None) -> GNNRecommender:
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
        steps = max(1, self.epochs // 4) if epochs is None else epochs
        for i, net in enumerate(nets):
            self._train(net, self.seed + 1000 + i, steps)
        self.networks_ = nets
        self._calibrate()
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

    def _predict_z(self, dataset: str, models: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not hasattr(self, "networks_"):
            raise NotFittedError("This GNNRecommender is not fitted yet; call fit(graph) first.")
        target = self.index_.index["dataset"].get(dataset, -1)
        mi = self.index_.index["model"]
        idx = torch.tensor([mi[str(m)] for m in models], dtype=torch.long)
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
            nets = [rec._new_network() for _ in range(rec.n_ensemble)]
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
        return rec

    def fit(self, graph: Any, exclude_datasets: Iterable[str] = ()) -> GNNRecommender:
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
