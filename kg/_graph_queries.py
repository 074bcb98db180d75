"""The query layer of :class:`~kgtransfer.kg.ZooGraph`: SPARQL, named queries, reads.

:class:`GraphQueries` is a mixin of ``ZooGraph``: ``query`` (checked SPARQL with a
timeout), ``named_query`` and the readers built on them (``candidates``, ``lineage``,
``descendants``, ``similar_datasets``, ``records``, ``best_sources``, ``stats``,
``ids``, ``batches``, ``batch``, ``to_tables``). It reads the store only through
``self._live`` (a :class:`~kgtransfer.kg._backend.StoreBackend`); a store on disk runs
queries in a worker process (``self._query_path``, see :mod:`kgtransfer.kg._runner`).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import pandas as pd
import pyoxigraph as ox

from kgtransfer.errors import did_you_mean
from kgtransfer.kg import _runner
from kgtransfer.kg._bindings import inline_unprojected
from kgtransfer.kg._known import StoreIds
from kgtransfer.kg._layout import _META_GRAPH, _TYPE
from kgtransfer.kg._queries import get_query
from kgtransfer.kg._reader import read_tables
from kgtransfer.kg._schema import SPECS
from kgtransfer.kg._sparql_guard import check_sparql
from kgtransfer.kg.iri import id_of
from kgtransfer.kg.tables import ZooTables
from kgtransfer.kg.vocab import DCTERMS, KGT, MLS, PREFIXES, PROV

if TYPE_CHECKING:
    from kgtransfer.kg._host import GraphHost
else:  # a mixin of ZooGraph: GraphHost tells type checkers what ZooGraph has
    GraphHost = object

__all__ = ["GraphQueries"]

#: Regime columns of a record besides its method (see kgtransfer.kg.regime).
_REGIME_PARTS = ("n_train", "shots", "split", "epochs", "steps", "frozen")


class BatchInfo(TypedDict):
    """What :meth:`ZooGraph.batch` tells of one ingest batch."""

    batch: str
    source: str | None
    started: str | None
    ended: str | None
    #: rows written per table
    counts: dict[str, int]
    #: the batch's ingestion report as JSON (None for a restore)
    report: dict[str, Any] | None
    #: values it overwrote: dicts with ``kind``, ``id``, ``field``, ``old``, ``new``, ``batch``
    overwritten: list[dict[str, Any]]
    #: statements in its graph
    n_quads: int


class GraphQueries(GraphHost):
    """Reading a :class:`~kgtransfer.kg.ZooGraph` (a mixin of it)."""

    def ids(self, kind: Literal["model", "dataset", "metric"]) -> list[str]:
        """Ids of every model, dataset or metric described in the graph (sorted)."""
        rdf_type = {"model": MLS.Model, "dataset": MLS.Dataset, "metric": MLS.EvaluationMeasure}
        if kind not in rdf_type:
            raise ValueError(f"ids() takes 'model', 'dataset' or 'metric', got {kind!r}.")
        nodes = self._live.quads_for_pattern(None, _TYPE, ox.NamedNode(str(rdf_type[kind])), None)
        return sorted(
            {id_of(q.subject.value, kind) for q in nodes if isinstance(q.subject, ox.NamedNode)}
        )

    def _declared_metrics(self) -> dict[str, dict[str, Any]]:
        """Every metric the graph declares: ``{"higher_is_better", "min", "max"}`` (a
        declared range holds for every later batch, not only the declaring one)."""
        from kgtransfer.kg._reader import _read_table

        metrics = _read_table(self._live, SPECS["metrics"]).dropna(subset=["higher_is_better"])
        return {
            str(row["metric"]): {
                "higher_is_better": bool(row["higher_is_better"]),
                "min": None if pd.isna(row["min"]) else float(row["min"]),
                "max": None if pd.isna(row["max"]) else float(row["max"]),
            }
            for _, row in metrics.iterrows()
        }

    def _lineage(self) -> list[tuple[str, str]]:
        """``(model, base_model)`` edges of the graph (a new edge closing a cycle is refused)."""
        from kgtransfer.kg._reader import _read_table

        lineage = _read_table(self._live, SPECS["lineage"])
        return list(zip(lineage["model"], lineage["base_model"], strict=True))

    def batches(self) -> pd.DataFrame:
        """One row per ingest batch: id, source, start time and row counts."""
        frame = self.query(
            """SELECT ?batch ?source ?started ?counts ?meta WHERE {
                 GRAPH ?meta { ?b a kgt:IngestBatch ; dcterms:identifier ?batch ;
                               dcterms:source ?source ; prov:startedAtTime ?started .
                               OPTIONAL { ?b kgt:counts ?counts } } }
               ORDER BY ?batch""",
            bindings={"meta": _META_GRAPH},
        )
        frame["counts"] = [json.loads(c) if c else {} for c in frame["counts"]]
        return frame.drop(columns=["meta"])

    def batch(self, batch_id: str) -> BatchInfo:
        """The provenance of one ingest batch: source, times, counts, report, overwrites.

        Returns:
            A dict with ``batch``, ``source``, ``started``, ``ended``, ``counts``,
            ``report`` (or None), ``overwritten`` (a list of dicts: ``kind``, ``id``,
            ``field``, ``old``, ``new``, ``batch``) and ``n_quads`` (statements in its graph).

        Raises:
            UnknownNameError: No batch has that id (see :meth:`batches`).
        """
        store = self._live
        node = self.iri("batch", batch_id)
        meta = list(store.quads_for_pattern(node, None, None, _META_GRAPH))
        if not meta:
            known = self.batches()["batch"].tolist()
            raise did_you_mean(batch_id, known, what="batch", hint="See graph.batches().")
        values = {
            q.predicate.value: q.object.value
            for q in meta
            if q.predicate != _TYPE and not isinstance(q.object, ox.Triple)
        }

        def _json(predicate: Any, default: Any) -> Any:
            text = values.get(str(predicate))
            return json.loads(text) if text is not None else default

        return {
            "batch": batch_id,
            "source": values.get(str(DCTERMS.source)),
            "started": values.get(str(PROV.startedAtTime)),
            "ended": values.get(str(PROV.endedAtTime)),
            "counts": _json(KGT.counts, {}),
            "report": _json(KGT.report, None),
            "overwritten": _json(KGT.overwritten, []),
            "n_quads": sum(1 for _ in store.quads_for_pattern(None, None, None, node)),
        }

    def to_tables(self) -> ZooTables:
        """Everything in the graph as :class:`ZooTables` (what was ingested, back again).

        Entity tables are sorted by id; records, similarities and scores are in
        ingestion order.
        """
        return read_tables(self._live)

    def query(
        self,
        sparql: str,
        bindings: Mapping[str, object] | None = None,
        *,
        allow_update: bool = False,
        limit: int | None = _runner.DEFAULT_LIMIT,
        iris: bool = False,
        timeout: float | None = _runner.DEFAULT_TIMEOUT,
    ) -> pd.DataFrame:
        """Run SPARQL; return a DataFrame of plain Python cells.

        The default graph is the union of all graphs; prefixes kgt, mls, prov, dcat,
        dcterms, dqv, skos, rdf, rdfs and xsd are predeclared. The text is first read
        by rdflib's SPARQL 1.1 parser and refused if it reaches outside the graph
        (``SERVICE``, ``LOAD``, ``FROM``/``USING``/``WITH`` naming a non-kgtransfer
        graph) wherever that is nested, if it is an update (unless ``allow_update``),
        or if that parser cannot read it (see :mod:`kgtransfer.kg._sparql_guard`).
        Queries on an on-disk store run in a worker process that is killed on timeout
        or Ctrl-C; on an in-memory store, in a thread that is abandoned (see
        :mod:`kgtransfer.kg._runner`).

        Args:
            sparql: A SELECT, ASK, CONSTRUCT or DESCRIBE query (UPDATE only with
                ``allow_update``).
            bindings: Values of variables, applied as pyoxigraph substitutions (a
                variable the SELECT does not project is bound by an inline ``VALUES``
                at the start of its WHERE group instead). A str becomes a string literal; pass
                entities as ``ZooGraph.iri("model", id)``.
            allow_update: Permit SPARQL UPDATE (never LOAD, which would fetch remote
                data). Updates run here, without a timeout (pyoxigraph applies an
                update whole or not at all and cannot abandon one half-way).
            limit: Stop after this many rows; ``None`` for all. By default 1000, and a
                ``UserWarning`` says when that cap cut rows off. The frame's
                ``attrs["truncated"]`` tells whether more rows existed.
            iris: Keep IRIs instead of turning our IRIs into ids.
            timeout: Seconds the query may run (default 30); ``None`` for no limit.

        Returns:
            One column per variable (ASK: column ``ask``; CONSTRUCT: subject,
            predicate, object). Our entity IRIs become ids, literals become
            int/float/bool/str, unbound becomes None.

        Raises:
            QueryRefusedError: (a PermissionError) UPDATE without ``allow_update``,
                LOAD, SERVICE, a remote dataset, or text rdflib's parser cannot read.
            QueryTimeoutError: The query ran longer than ``timeout``.
            ArgumentError: A negative or non-int ``limit``, a bad ``timeout``.
            SyntaxError: pyoxigraph cannot run text rdflib accepted.
        """
        default_cap = _runner.is_default_cap(limit)
        limit = _runner.check_limit(limit)
        timeout = _runner.check_timeout(timeout)
        checked = check_sparql(sparql, allow_update=allow_update)
        if checked.kind == "update":
            self._writable().update(sparql, prefixes=PREFIXES)
            return pd.DataFrame()
        substitutions = {k: _binding(k, v) for k, v in (bindings or {}).items()}
        # a bound variable the SELECT does not project still constrains (inline VALUES)
        sparql, substitutions = inline_unprojected(sparql, substitutions)
        frame = self._run_read(sparql, PREFIXES, substitutions, limit, timeout, iris=iris)
        if default_cap and frame.attrs["truncated"]:
            warnings.warn(
                f"query() returned its default cap of {limit} rows and more exist; pass "
                "limit=None for all rows (or a larger limit=).",
                UserWarning,
                stacklevel=2,
            )
        return frame

    def _run_read(
        self,
        sparql: str,
        prefixes: dict[str, str] | None,
        substitutions: dict[str, Any],
        limit: int | None,
        timeout: float | None,
        **frame_options: Any,
    ) -> pd.DataFrame:
        """Run a checked read query with a timeout (see :mod:`kgtransfer.kg._runner`)."""
        try:
            result = _runner.run_query(
                self._live,
                # set by the lifecycle layer for a local store on disk only (a worker
                # process opens that folder); None runs the query on _live in a thread
                self._query_path,
                sparql,
                prefixes=prefixes,
                substitutions=substitutions,
                limit=limit,
                timeout=timeout,
            )
        except RuntimeError as exc:
            if "projection" in str(exc):
                raise ValueError(
                    f"{exc}: a bound variable must appear in the SELECT clause "
                    "(pyoxigraph substitutes projected variables only)."
                ) from None
            raise
        return _runner.result_frame(result, **frame_options)

    def named_query(
        self,
        name: str,
        *,
        limit: int | None = 100,
        timeout: float | None = _runner.DEFAULT_TIMEOUT,
        **params: object,
    ) -> pd.DataFrame:
        """Run a named query from ``kg/queries`` (see :func:`~kgtransfer.kg.list_queries`).

        It runs like :meth:`query`: parse-checked (once), stopped after ``timeout``.

        Args:
            name: Query name, e.g. ``"lineage"``.
            limit: Maximum number of rows (``None`` for all); ``attrs["truncated"]``
                of the frame tells whether more existed.
            timeout: Seconds the query may run (default 30); ``None`` for no limit.
            **params: The query's parameters; ``None`` leaves one unset.

        Raises:
            UnknownNameError: No such query.
            TypeError: Unknown or missing parameter.
            QueryTimeoutError: The query ran longer than ``timeout``.
        """
        named = get_query(name)
        check_sparql(named.text)  # ours, checked all the same (cached after the first time)
        limit = _runner.check_limit(limit)
        timeout = _runner.check_timeout(timeout)
        terms = named.terms(params)
        return self._run_read(
            named.text, None, terms, limit, timeout, hidden=named.hidden, renames=named.renames
        )

    def candidates(
        self,
        dataset: str,
        *,
        task: str | None = None,
        modality: str | None = None,
        max_params: float | None = None,
        license: str | None = None,
        limit: int | None = 100,
    ) -> pd.DataFrame:
        """Candidate source models for ``dataset`` (named query ``candidates``).

        ``modality`` defaults to the dataset's own modality when the graph knows it.
        """
        if modality is None:
            found = self.query(
                "SELECT ?modality ?dataset WHERE { ?dataset kgt:modality ?modality }",
                bindings={"dataset": self.iri("dataset", dataset)},
                limit=1,
            )
            modality = found["modality"][0] if len(found) else None
        return self.named_query(
            "candidates",
            limit=limit,
            dataset=dataset,
            task=task,
            modality=modality,
            max_params=max_params,
            license=license,
        )

    def lineage(self, model: str, *, limit: int | None = 100) -> pd.DataFrame:
        """Ancestors of ``model``, one row per lineage edge (named query ``lineage``)."""
        return self.named_query("lineage", limit=limit, model=model)

    def descendants(self, model: str, *, limit: int | None = 100) -> pd.DataFrame:
        """Every model derived from ``model`` (named query ``descendants``)."""
        return self.named_query("descendants", limit=limit, model=model)

    def similar_datasets(self, dataset: str, *, limit: int | None = 100) -> pd.DataFrame:
        """Datasets related to ``dataset``, closest first (named query ``similar_datasets``)."""
        return self.named_query("similar_datasets", limit=limit, dataset=dataset)

    def records(
        self,
        model: str | None = None,
        dataset: str | None = None,
        *,
        metric: str | None = None,
        limit: int | None = 100,
    ) -> pd.DataFrame:
        """Transfer records, optionally filtered (named query ``records``, or
        ``records_for_dataset`` when only a dataset is given, which is faster then).

        Each row has the record id, model, dataset, metric, value, method, seed, run,
        suspect flag and the training regime (``n_train``, ``shots``, ``split``,
        ``epochs``, ``steps``, ``frozen``; see :mod:`kgtransfer.kg.regime`)."""
        name = "records_for_dataset" if model is None and dataset is not None else "records"
        return self.named_query(name, limit=limit, model=model, dataset=dataset, metric=metric)

    def _dataset_records(self, dataset: str) -> pd.DataFrame:
        """The records of ``dataset`` with a model and a value: model, metric, value,
        suspect and the regime columns (one CSV-serialised query, like ``to_tables``)."""
        import io

        from kgtransfer.kg._reader import _decode_iris

        regime = [c for c in SPECS["records"].columns if c.column in ("method", *_REGIME_PARTS)]
        optional = "".join(f" OPTIONAL {{ ?record <{c.predicate}> ?{c.column} }}" for c in regime)
        sparql = (
            "SELECT ?model ?metric ?value ?suspect "
            + " ".join(f"?{c.column}" for c in regime)
            + f" ?dataset WHERE {{ ?record <{KGT.targetDataset}> ?dataset ; "
            f"<{KGT.sourceModel}> ?model ; <{MLS.hasValue}> ?value ."
            f" OPTIONAL {{ ?record <{MLS.specifiedBy}> ?metric }}"
            f" OPTIONAL {{ ?record <{KGT.suspect}> ?suspect }}{optional} }}"
        )
        result = self._live.query(
            sparql,
            use_default_graph_as_union=True,
            substitutions={ox.Variable("dataset"): self.iri("dataset", dataset)},
        )
        assert isinstance(result, ox.QuerySolutions)
        data = result.serialize(format=ox.QueryResultsFormat.CSV)
        raw = pd.read_csv(io.BytesIO(data or b""), dtype=str, keep_default_na=False, na_values=[""])
        flags = {"true": True, "false": False, "1": True, "0": False}
        out = pd.DataFrame(
            {
                "model": _decode_iris(raw["model"], "model"),
                "dataset": dataset,
                "metric": _decode_iris(raw["metric"], "metric"),
                "value": pd.to_numeric(raw["value"], errors="coerce"),
                "suspect": raw["suspect"].map(flags, na_action="ignore"),
            }
        )
        for c in regime:
            values = raw[c.column]
            if c.term == "boolean":
                out[c.column] = values.map(flags, na_action="ignore")
            elif c.term in ("integer", "double"):
                out[c.column] = pd.to_numeric(values, errors="coerce")
            else:
                out[c.column] = values
        return out

    def best_sources(
        self,
        dataset: str,
        *,
        regime: str | Mapping[str, object] | None = None,
        include_suspect: bool = False,
        limit: int | None = 100,
    ) -> pd.DataFrame:
        """Best known result per source model on ``dataset``, within one training regime.

        Results of different regimes (e.g. a full-split fine-tune and a 10-shot one) are
        not comparable, so by default only the records of the dataset's own regime (the
        regime of most of its records, see :func:`kgtransfer.kg.regime.dataset_regime`)
        are ranked. ``frame.attrs["regime"]`` names the regime used and
        ``frame.attrs["notes"]`` says when records of other regimes were left out.

        Args:
            dataset: Target dataset id.
            regime: None (the dataset's own regime), ``"any"`` (mix every regime
                explicitly), a label from :func:`kgtransfer.kg.regime_of` or a mapping of
                regime parts.
            include_suspect: Also rank records flagged as probable failed runs.
            limit: Maximum number of rows (None for all).

        Returns:
            Columns ``model``, ``metric``, ``best`` (respecting the metric's direction),
            ``higher_is_better``, ``n_records`` and ``regime``; best first.

        Example:
            >>> from kgtransfer.kg import ZooGraph
            >>> g = ZooGraph()
            >>> recs = pd.DataFrame({"model": ["a", "b", "a"], "dataset": ["d"] * 3,
            ...                      "value": [0.6, 0.5, 0.94], "n_train": [50, 50, 1347]})
            >>> _ = g.add_records(recs, models=pd.DataFrame({"model": ["a", "b"]}),
            ...                   datasets=pd.DataFrame({"dataset": ["d"]}))
            >>> best = g.best_sources("d")
            >>> best[["model", "best"]].values.tolist(), len(best.attrs["notes"])
            ([['a', 0.6], ['b', 0.5]], 1)
            >>> g.best_sources("d", regime="any")["best"].tolist()
            [0.94, 0.5]
        """
        from kgtransfer.kg.ingest._metrics import KNOWN_METRICS
        from kgtransfer.kg.regime import select_regime

        limit = _runner.check_limit(limit)
        if not isinstance(dataset, str) or dataset not in StoreIds(self, "dataset"):
            raise did_you_mean(
                str(dataset), self.ids("dataset"), what="dataset", hint="See graph.ids('dataset')."
            )
        columns = ["model", "metric", "best", "higher_is_better", "n_records", "regime"]
        rec = self._dataset_records(dataset)
        chosen, used, notes = select_regime(rec, regime)
        if not include_suspect and len(chosen):
            chosen = chosen[~chosen["suspect"].astype("object").fillna(False).astype(bool)]
        directions = {m: bool(KNOWN_METRICS.get(m, True)) for m in KNOWN_METRICS}
        directions.update(
            {m: spec["higher_is_better"] for m, spec in self._declared_metrics().items()}
        )
        if chosen.empty:
            out = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        else:
            metric = chosen["metric"].astype("object").fillna("accuracy").astype(str)
            hib = metric.map(lambda m: directions.get(m, True)).astype(bool)
            value = chosen["value"].astype(float)
            frame = pd.DataFrame(
                {
                    "model": chosen["model"].astype(str),
                    "metric": metric,
                    "signed": value.where(hib, -value),
                    "higher_is_better": hib,
                }
            )
            grouped = frame.groupby(["model", "metric", "higher_is_better"], sort=False)
            out = grouped["signed"].agg(["max", "size"]).reset_index()
            out["best"] = out["max"].where(out["higher_is_better"], -out["max"])
            out["n_records"] = out["size"].astype(int)
            out["regime"] = used.get(str(dataset))
            out = out.sort_values(["max", "model"], ascending=[False, True], kind="stable")
            out = out[columns].reset_index(drop=True)
            if limit is not None:
                out = out.head(limit)
        out.attrs["regime"] = used.get(str(dataset))
        out.attrs["notes"] = notes
        return out

    def stats(self) -> dict[str, int]:
        """Number of models, datasets, records, ... in the graph."""
        frame = self.named_query("stats", limit=None)
        return {str(k): int(n) for k, n in zip(frame["kind"], frame["n"], strict=True)}


def _binding(name: str, value: Any) -> ox.NamedNode | ox.Literal:
    if isinstance(value, (ox.NamedNode, ox.Literal)):
        return value
    if type(value).__name__ == "URIRef":  # rdflib
        return ox.NamedNode(str(value))
    if isinstance(value, bool | int | float | str):
        return ox.Literal(value)
    raise TypeError(
        f"Binding {name!r} must be str, int, float, bool or ZooGraph.iri(kind, id), "
        f"got {type(value).__name__}."
    )
