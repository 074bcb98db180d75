"""Read Hugging Face style model cards (README.md with YAML front matter).

The card format is huggingface_hub's: its ``metadata_load`` splits the front matter
(``REGEX_YAML_BLOCK``, the one ``ModelCard`` uses) and reads it with
``yaml.safe_load``; its ``ModelCardData`` types the standard fields (``base_model``,
``datasets``, ``license``, ``library_name``, ``pipeline_tag``, ``model_name``) and
its ``model_index_to_eval_results`` turns ``model-index`` into ``EvalResult``
objects, from which the records are made.

A thin layer stays here, for what huggingface_hub does not give: line numbers (it
keeps no positions, so the same YAML block is composed once more for the line of
each field, and YAML errors are moved to file lines), the errors a card gets
(huggingface_hub reads a card without or with an unclosed front matter as "no
metadata", and refuses a whole ``model-index`` when one result lacks a ``task`` or
``dataset.name``, which cards here may leave out: those are filled in before its
parser runs), and the card's own ``model_name`` (``ModelCard`` replaces it by the
``model-index`` name, so the index is parsed apart from ``ModelCardData``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from kgtransfer.errors import CardParseError, ErrorMode, IngestError, check_error_mode
from kgtransfer.kg.tables import COLUMNS, ZooTables

from ._cells import is_missing
from ._metrics import FRACTION_METRICS
from ._report import IngestReport, Rejection
from ._tables import ROW_COLUMN, normalize_tables, note_percent

__all__ = ["read_model_cards"]

#: Card fields copied as they are into the models table (kgtransfer extras included).
_MODEL_FIELDS = (
    "architecture",
    "model_type",
    "trained_on",
    "task",
    "modality",
    "n_params",
    "n_labels",
    "license",
    "library_name",
)
#: Card fields mapped to other columns or tables (not model attributes).
_MAPPED_FIELDS = frozenset(
    {"datasets", "base_model", "base_model_relation", "pipeline_tag", "model_name", "model-index"}
)
_CACHE_DIR = re.compile(r"^models--(.+)$")
#: ``model-index`` dataset configs that name no subset (the dataset itself).
_PLAIN_CONFIGS = frozenset({"", "default", "plain_text", "all", "full"})


def read_model_cards(
    path: str | os.PathLike[str],
    *,
    errors: ErrorMode = "raise",
    metric_directions: Mapping[str, object] | None = None,
    known_lineage: Iterable[tuple[str, str]] = (),
    known_metrics: Mapping[str, Any] | None = None,
) -> tuple[ZooTables, IngestReport]:
    """Read one model card or a folder of them (recursively) into normalised tables.

    A card is a Markdown file whose YAML front matter (between ``---`` lines at
    the top) uses the Hugging Face fields: ``base_model`` (a string or a list,
    one ``lineage`` row each) with ``base_model_relation``, ``datasets`` (the
    first one becomes ``trained_on``; all become ``datasets`` rows),
    ``pipeline_tag`` (-> ``task``), ``license``, ``library_name`` and
    ``model-index`` (each result's metrics -> ``records`` with ``metric`` = its
    ``type``, ``dataset`` = ``type/config`` and ``run`` = the split). kgtransfer
    extras (``architecture``, ``model_type``, ``modality``, ``n_params``,
    ``n_labels``, ``trained_on``, ``task``) are taken as they are, and any other
    field holding a plain number becomes a numeric model attribute. Other fields
    (``tags``, ``language``, ...) are not stored; ``report.notes`` lists them.

    The model id is ``org/name`` for a Hugging Face cache layout
    (``models--org--name/snapshots/<rev>/README.md``; the revision in
    ``refs/main`` wins when there are several, else the newest), else the card's ``model_name``,
    else ``model-index[0].name``, else the folder name (``README.md``) or file
    stem (other ``*.md``). YAML is read with ``yaml.safe_load``; nothing touches
    the network. In a folder, Markdown files without front matter are skipped
    (noted).

    Args:
        path: A card file, or a folder searched recursively for ``*.md``.
        errors: ``"raise"`` raises :class:`~kgtransfer.errors.CardParseError` at
            the first bad card or field; ``"warn"`` / ``"collect"`` skip the bad
            card (or row) and report it, with or without a ``UserWarning``.
        metric_directions: Directions of metrics not built in (see
            :func:`normalize_tables`).
        known_lineage: ``(model, base_model)`` edges known elsewhere (e.g. the
            graph's). A card whose ``base_model`` closes a cycle with them or with
            an earlier card is rejected.
        known_metrics: ``metric -> higher_is_better`` of metrics declared elsewhere
            (e.g. in the graph; see :func:`normalize_tables`).

    Returns:
        ``(ZooTables, IngestReport)``.

    Raises:
        CardParseError: Malformed YAML (file and line named) or a bad field,
            with ``errors="raise"``.
        IngestError: If ``path`` does not exist or holds no card.

    Example:
        >>> import tempfile, pathlib
        >>> card = pathlib.Path(tempfile.mkdtemp()) / "README.md"
        >>> _ = card.write_text("---\\nmodel_name: org/tiny\\nbase_model: org/base\\n---\\n# Tiny\\n")
        >>> tables, report = read_model_cards(card)
        >>> tables.lineage[["model", "base_model"]].values.tolist()
        [['org/tiny', 'org/base']]
    """
    check_error_mode(errors)
    root = Path(path)
    if not root.exists():
        raise IngestError(f"no model card at {os.fspath(root)!r}; pass a card file or a folder.")
    report = IngestReport()
    files = [root] if root.is_file() else _find_cards(root, report)
    if not files:
        raise IngestError(f"no *.md model card under {os.fspath(root)!r}.")

    parts: list[ZooTables] = []
    seen: dict[str, tuple[str, dict[str, Any]]] = {}
    skipped: dict[str, int] = {}
    lineage = [(str(m), str(b)) for m, b in known_lineage]
    for file in files:
        source = os.fspath(file)
        try:
            card = _parse_card(file, required=root.is_file())
            if card is None:
                report.notes.append(f"{source}: no YAML front matter; skipped")
                continue
            percent: list[tuple[str, list[int]]] = []
            tables_in = _card_tables(card, file, skipped, percent)
            tables, rep = normalize_tables(
                **tables_in,
                errors=errors,
                metric_directions=metric_directions,
                source=dict.fromkeys(tables_in, source),
                known_lineage=lineage,
                known_metrics=known_metrics,
            )
            for metric, lines in percent:
                note_percent(rep, source, metric, lines, _CARD_PERCENT_RULE)
        except (CardParseError, IngestError) as exc:
            if errors == "raise":
                raise CardParseError(str(exc)) from (None if isinstance(exc, _LineError) else exc)
            line = exc.line if isinstance(exc, _LineError) else None
            report.count(source, read=1)  # the card, rejected as a whole
            report.reject(
                Rejection(source, line, None, None, f"card skipped: {exc}"), errors=errors
            )
            continue
        if tables.models.empty:  # its model row was rejected (reported): the card goes
            _dropped(rep, source)
            report.merge(rep)
            continue
        model = str(tables.models["model"].iloc[0])
        row = tables.models.iloc[0].to_dict()
        if model in seen:
            first, first_row = seen[model]
            if _same_row(first_row, row):
                report.merge(rep)
                report.notes.append(f"{source}: same model {model!r} as {first}; collapsed")
            else:
                _dropped(rep, source, reported=1)  # the rejection below counts one
                report.merge(rep)
                report.reject(
                    Rejection(
                        source,
                        None,
                        "model",
                        model,
                        f"model {model!r} is already described by {first} with different "
                        "fields; keep one card per model (or give this one a model_name).",
                    ),
                    errors=errors,
                )
            continue
        report.merge(rep)
        seen[model] = (source, row)
        parts.append(tables)
        lineage += zip(tables.lineage["model"], tables.lineage["base_model"], strict=True)
    if skipped:
        fields = ", ".join(f"{k} ({v})" for k, v in sorted(skipped.items()))
        report.notes.append(f"card fields not stored (number of cards): {fields}")
    return _concat_tables(parts), report


# ---------------------------------------------------------------------------- files
def _find_cards(root: Path, report: IngestReport) -> list[Path]:
    files: list[Path] = []
    for file in sorted(root.rglob("*.md")):
        cache = _cache_root(file)
        if cache is not None:
            chosen = _cache_snapshot(cache)
            if chosen is not None and chosen not in file.parents:
                report.notes.append(
                    f"{os.fspath(file)}: another revision of this model is read "
                    f"({chosen.name}: refs/main, else the newest); skipped"
                )
                continue
        files.append(file)
    return files


def _cache_root(file: Path) -> Path | None:
    """``models--org--name`` above ``snapshots/<rev>/...``, if ``file`` is in a HF cache."""
    for parent in file.parents:
        if parent.parent.name == "snapshots" and _CACHE_DIR.match(parent.parent.parent.name):
            return parent.parent.parent
    return None


def _cache_snapshot(cache: Path) -> Path | None:
    """The snapshot ``refs/main`` points to, else the most recently modified one."""
    ref = cache / "refs" / "main"
    if ref.is_file():
        snap = cache / "snapshots" / ref.read_text().strip()
        if snap.is_dir():
            return snap
    snaps = [p for p in (cache / "snapshots").iterdir() if p.is_dir()]
    return max(snaps, key=lambda p: (p.stat().st_mtime, p.name)) if snaps else None


def _model_id(file: Path, meta: Mapping[str, Any], model_name: Any = None) -> str:
    cache = _cache_root(file)
    if cache is not None:
        match = _CACHE_DIR.match(cache.name)
        assert match is not None  # checked by _cache_root
        return match.group(1).replace("--", "/")
    if not is_missing(model_name):
        return str(model_name).strip()
    index = meta.get("model-index")
    if isinstance(index, list) and index and isinstance(index[0], Mapping) and index[0].get("name"):
        return str(index[0]["name"]).strip()
    return file.parent.name if file.name.lower() == "readme.md" else file.stem


# ---------------------------------------------------------------------------- parsing
class _LineError(CardParseError):
    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


class _Card:
    """A parsed card: the front matter as huggingface_hub read it (``meta``, typed as
    ``data``, a ``ModelCardData``) and its YAML node for line numbers."""

    def __init__(self, meta: dict[str, Any], node: yaml.Node, offset: int, data: Any) -> None:
        self.meta = meta
        self.node = node
        self.offset = offset  # file line of the first YAML line, minus one
        self.data = data

    def line(self, *keys: str | int) -> int:
        """File line (1-based) of the node at ``keys`` (falls back to its parent)."""
        node = self.node
        for key in keys:
            child = _child(node, key)
            if child is None:
                break
            node = child
        return int(node.start_mark.line) + 1 + self.offset


def _child(node: yaml.Node, key: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and isinstance(key, str):
        for k, v in node.value:
            if getattr(k, "value", None) == key:
                return v if not isinstance(v, yaml.ScalarNode) else k
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
        return node.value[key]
    return None


def _parse_card(file: Path, *, required: bool) -> _Card | None:
    from huggingface_hub import ModelCardData, metadata_load
    from huggingface_hub.repocard import REGEX_YAML_BLOCK

    source = os.fspath(file)
    text = file.read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        if required:
            raise _LineError(
                f"{source}: no YAML front matter (the card must start with a "
                "'---' line and the YAML block must end with another).",
                1,
            )
        return None
    match = REGEX_YAML_BLOCK.search(text)
    if match is None:  # huggingface_hub reads this as "no metadata": here it is an error
        raise _LineError(
            f"{source}, line 1: the YAML front matter is never closed; add a '---' line after it.",
            1,
        )
    block = match.group(2)
    offset = len(match.group(1).splitlines())  # the lines up to and with the opening '---'
    try:
        meta = metadata_load(file)  # huggingface_hub: the front matter, yaml.safe_load
        node = yaml.compose(block, Loader=yaml.SafeLoader)  # only for line numbers
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = None if mark is None else mark.line + 1 + offset
        where = source if line is None else f"{source}, line {line}"
        problem = getattr(exc, "problem", None) or str(exc)
        raise _LineError(
            f"{where}: malformed YAML front matter ({problem}); fix the YAML "
            "or pass errors='warn'/'collect' to skip this card.",
            line,
        ) from None
    except ValueError:  # huggingface_hub: "repo card metadata block should be a dict"
        loaded = yaml.safe_load(block)
        raise _LineError(
            f"{source}, line {offset + 1}: the front matter must be a mapping of fields, "
            f"got a {type(loaded).__name__}.",
            offset + 1,
        ) from None
    if meta is None or node is None:
        meta, node = {}, yaml.MappingNode("tag:yaml.org,2002:map", [])
    fields = {str(k): v for k, v in meta.items() if k != "model-index"}
    try:
        data = ModelCardData(**fields)
    except (TypeError, ValueError) as exc:
        raise _LineError(
            f"{source}, line {offset + 1}: the front matter's fields cannot be read as a "
            f"Hugging Face model card ({exc}).",
            offset + 1,
        ) from None
    return _Card(meta, node, offset=offset, data=data)


def _card_tables(
    card: _Card, file: Path, skipped: dict[str, int], percent: list[tuple[str, list[int]]]
) -> dict[str, pd.DataFrame]:
    meta = card.meta
    source = os.fspath(file)
    model = _model_id(file, meta, card.data.model_name)
    row: dict[str, Any] = {
        ROW_COLUMN: card.line("model_name") if "model_name" in meta else 1,
        "model": model,
    }
    data = card.data  # huggingface_hub's ModelCardData (kgtransfer extras as attributes)
    for key in _MODEL_FIELDS:
        if key in meta:
            row[key] = _scalar(data.get(key), key, card, source)
    if "task" not in row and "pipeline_tag" in meta:
        row["task"] = _scalar(data.pipeline_tag, "pipeline_tag", card, source)
    datasets = list(
        dict.fromkeys(_dataset_id(d) for d in _str_list(data.datasets, "datasets", card, source))
    )
    if datasets and "trained_on" not in row:
        row["trained_on"] = datasets[0]
    bases = _str_list(data.base_model, "base_model", card, source)
    if bases:
        row["base_model"] = bases
        row["base_model_relation"] = _scalar(
            data.get("base_model_relation"), "base_model_relation", card, source
        )
    for key, value in meta.items():
        name = str(key)
        if name in _MODEL_FIELDS or name in _MAPPED_FIELDS:
            continue
        if name not in row and isinstance(value, (int, float)) and not isinstance(value, bool):
            row[name] = value  # a numeric extra: kept as a numeric model attribute
        else:
            skipped[name] = skipped.get(name, 0) + 1
    records, extra_datasets = _model_index(meta.get("model-index"), model, card, source, datasets)
    names = list(dict.fromkeys(datasets + [d["dataset"] for d in extra_datasets]))
    tasks = {d["dataset"]: d.get("task") for d in extra_datasets}
    out: dict[str, pd.DataFrame] = {
        "models": pd.DataFrame([row]),
        "datasets": pd.DataFrame(
            {
                ROW_COLUMN: [card.line("datasets")] * len(names),
                "dataset": names,
                "task": [tasks.get(n) for n in names],
            },
            columns=[ROW_COLUMN, "dataset", "task"],
        ),
    }
    if records:
        out["records"] = _percent_per_card(pd.DataFrame(records), percent)
    return out


def _scalar(value: Any, key: str, card: _Card, source: str) -> Any:
    if isinstance(value, (list, dict)):
        raise _LineError(
            f"{source}, line {card.line(key)}: field {key!r} must be a single "
            f"value, got a {type(value).__name__} ({value!r}).",
            card.line(key),
        )
    return value


def _str_list(value: Any, key: str, card: _Card, source: str) -> list[str]:
    if not isinstance(value, list) and is_missing(value):
        return []
    items = value if isinstance(value, list) else [value]
    bad = [v for v in items if not isinstance(v, str) or not v.strip()]
    if bad:
        raise _LineError(
            f"{source}, line {card.line(key)}: field {key!r} must be a string or "
            f"a list of strings, got {value!r}.",
            card.line(key),
        )
    return [v.strip() for v in items]


def _dataset_id(name: Any, config: Any = None, listed: list[str] | tuple[str, ...] = ()) -> str:
    """The dataset id of a card's ``datasets:`` entry or ``model-index`` dataset.

    The one place card dataset names become ids, so a result and the card's
    ``datasets:`` list name the same dataset alike: surrounding whitespace is dropped;
    a name matching a ``listed`` id case-insensitively, or by its part after the
    ``org/`` prefix when that is unambiguous, takes the listed spelling; a ``config``
    naming a subset is appended as ``name/config`` (not when it is empty, ``default``,
    ``plain_text``, ``all``, ``full`` or the dataset's own name, and not when the name
    already holds a ``/``).

    Example:
        >>> _dataset_id(" cifar10 ", "plain_text", ["uoft-cs/CIFAR10"])
        'uoft-cs/CIFAR10'
        >>> _dataset_id("glue", "sst2", ["glue"])
        'glue/sst2'
    """
    text = str(name).strip()
    key = text.casefold()
    matches = [d for d in listed if d.casefold() == key]
    if not matches:
        short = key.rpartition("/")[2]
        matches = [d for d in listed if d.casefold().rpartition("/")[2] == short]
    if len(set(matches)) == 1:
        text = matches[0]
    sub = "" if config is None else str(config).strip()
    base = text.rpartition("/")[2]
    named = sub.casefold() not in _PLAIN_CONFIGS and sub.casefold() != base.casefold()
    if named and "/" not in text:
        text = f"{text}/{sub}"
    return text


def _model_index(
    index: Any, model: str, card: _Card, source: str, listed: list[str] | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Records and datasets of ``model-index``, read by huggingface_hub as ``EvalResult``s.

    Each entry is checked here first (the line of a bad one named); a result without
    ``task`` or ``dataset.name`` (optional here, required by huggingface_hub's parser)
    gets them filled in (no task; the dataset's ``type``) before it runs.
    """
    from huggingface_hub.repocard_data import model_index_to_eval_results

    if index is None:
        return [], []
    line = card.line("model-index")
    if not isinstance(index, list):
        raise _LineError(
            f"{source}, line {line}: 'model-index' must be a list of "
            f"{{name, results}} entries, got a {type(index).__name__}.",
            line,
        )
    complete: list[dict[str, Any]] = []  # the index as huggingface_hub's parser needs it
    lines: list[int] = []  # file line of each metric, in the parser's (flat) order
    empty: list[dict[str, Any]] = []  # datasets of results without metrics
    for i, entry in enumerate(index):
        results = entry.get("results") if isinstance(entry, dict) else None
        if not isinstance(results, list):
            ln = card.line("model-index", i)
            raise _LineError(f"{source}, line {ln}: model-index[{i}] needs a 'results' list.", ln)
        filled = []
        for j, result in enumerate(results):
            ln = card.line("model-index", i, "results", j)
            ds = result.get("dataset") if isinstance(result, dict) else None
            metrics = result.get("metrics") if isinstance(result, dict) else None
            if not isinstance(ds, dict) or not ds.get("type") or not isinstance(metrics, list):
                raise _LineError(
                    f"{source}, line {ln}: model-index[{i}].results[{j}] needs a 'dataset' "
                    "with a 'type' and a 'metrics' list.",
                    ln,
                )
            for k, metric in enumerate(metrics):
                mln = card.line("model-index", i, "results", j, "metrics", k)
                if not isinstance(metric, dict) or not metric.get("type"):
                    raise _LineError(
                        f"{source}, line {mln}: each metric needs a 'type' and a "
                        f"'value', got {metric!r}.",
                        mln,
                    )
                lines.append(mln)
            if not metrics:  # no EvalResult comes of it; the dataset is still named
                raw_task = result.get("task")
                empty.append(
                    {
                        "dataset": _dataset_id(ds["type"], ds.get("config"), listed or ()),
                        "task": raw_task.get("type") if isinstance(raw_task, dict) else None,
                    }
                )
            task = result.get("task")
            filled.append(
                {
                    **result,
                    "task": task if isinstance(task, dict) and "type" in task else {"type": None},
                    "dataset": {**ds, "name": ds.get("name") or ds["type"]},
                    "metrics": [{**m, "value": m.get("value")} for m in metrics],
                    "source": result.get("source")
                    if isinstance(result.get("source"), dict)
                    else None,
                }
            )
        complete.append({"name": entry.get("name") or model, "results": filled})
    try:
        _, evals = model_index_to_eval_results(complete) if lines else ("", [])
    except (KeyError, TypeError, ValueError) as exc:
        raise _LineError(
            f"{source}, line {line}: 'model-index' cannot be read as Hugging Face eval "
            f"results ({type(exc).__name__}: {exc}).",
            line,
        ) from None
    records: list[dict[str, Any]] = []
    datasets: list[dict[str, Any]] = []
    seen: set[tuple[str, Any]] = set()
    for ev, mln in zip(evals, lines, strict=True):
        name = _dataset_id(ev.dataset_type, ev.dataset_config, listed or ())
        task = ev.task_type if isinstance(ev.task_type, str) else None
        if (name, task) not in seen:
            seen.add((name, task))
            datasets.append({"dataset": name, "task": task})
        records.append(
            {
                ROW_COLUMN: mln,
                "model": model,
                "dataset": name,
                "metric": str(ev.metric_type).strip().lower(),
                "value": ev.metric_value,
                "run": None if ev.dataset_split is None else str(ev.dataset_split),
            }
        )
    return records, datasets + empty


#: The percent rule of a card (one result per metric is common, so one value may decide).
_CARD_PERCENT_RULE = (
    "a card's values of a metric in [0, 100] with one above 1 and none in (0, 1); others "
    "are checked against the fraction range"
)


def _percent_per_card(
    records: pd.DataFrame, converted: list[tuple[str, list[int]]]
) -> pd.DataFrame:
    """A card reports in one scale per metric: percent cards become fractions here,
    so two cards in different scales do not look like mixed scales. Each conversion is
    appended to ``converted`` as ``(metric, lines)`` for the report's warnings."""
    values = pd.to_numeric(records["value"], errors="coerce")
    for metric in records["metric"].unique():
        if metric not in FRACTION_METRICS:
            continue
        mask = records["metric"] == metric
        v = values[mask]
        if (
            v.notna().all()
            and (v > 1).any()
            and ((v >= 0) & (v <= 100)).all()
            and not ((v > 0) & (v < 1)).any()
        ):
            if not pd.api.types.is_float_dtype(records["value"]):
                # 2 -> 0.02, not int; a non-number of another metric stays (it is rejected later)
                numeric = (values.notna() | records["value"].isna()).all()
                records["value"] = records["value"].astype("float64" if numeric else object)
            records.loc[mask, "value"] = v / 100.0
            converted.append((str(metric), [int(r) for r in records.loc[mask, ROW_COLUMN]]))
    return records


def _dropped(report: IngestReport, source: str, reported: int = 0) -> None:
    """Count the accepted rows of a card that is dropped as a whole as rejected
    (``reported`` of them are counted by a rejection still to come)."""
    counts = report.counts.get(source)
    if counts is not None:
        counts.rejected += counts.accepted - reported
        counts.accepted = 0


def _same_row(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return all((pd.isna(a[k]) and pd.isna(b[k])) or a[k] == b[k] for k in a)


def _concat_tables(parts: list[ZooTables]) -> ZooTables:
    out = ZooTables()
    if not parts:
        return out
    for name in COLUMNS:
        frames = [getattr(p, name) for p in parts if len(getattr(p, name))]
        if not frames:
            continue
        table = pd.concat(frames, ignore_index=True)
        if name == "datasets":  # the same dataset named by several cards: merge what is known
            table = table.groupby("dataset", sort=False, as_index=False).first()
            table = table.astype({c: t for c, t in COLUMNS[name].items()})
        if name == "metrics":
            table = table.drop_duplicates("metric", ignore_index=True)
        setattr(out, name, table.reset_index(drop=True))
    return out
