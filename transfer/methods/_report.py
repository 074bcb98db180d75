""":class:`TransferReport`: what a transfer did with every tensor."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["TensorNote", "TransferReport"]


@dataclass(frozen=True)
class TensorNote:
    """One tensor of a report: its name, shape and why it is in that list."""

    name: str
    shape: tuple[int, ...]
    reason: str = ""

    def __str__(self) -> str:
        shape = "x".join(str(d) for d in self.shape) or "scalar"
        return f"{self.name} [{shape}]" + (f": {self.reason}" if self.reason else "")


@dataclass
class TransferReport:
    """What a transfer did with every tensor of the source and target state dicts.

    Attributes:
        method: Name of the transfer method.
        copied: Target tensors copied unchanged from the source tensor of the same name.
        adapted: Target tensors built from a source tensor of another shape (reason says how).
        reinitialized: Target tensors that keep or get a fresh initialisation.
        dropped: Source tensors not used by the target.
        notes: Free-form remarks (e.g. frozen blocks, seed of the new head).

    Example:
        >>> r = TransferReport(method="weights", copied=[TensorNote("fc.weight", (2, 3))])
        >>> r.to_dict()["copied"][0]["shape"]
        [2, 3]
        >>> print(r)
        TransferReport(method='weights'): 1 copied, 0 adapted, 0 reinitialized, 0 dropped
    """

    method: str
    copied: list[TensorNote] = field(default_factory=list)
    adapted: list[TensorNote] = field(default_factory=list)
    reinitialized: list[TensorNote] = field(default_factory=list)
    dropped: list[TensorNote] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def target_names(self) -> set[str]:
        """Names of the target tensors the report accounts for."""
        return {t.name for t in (*self.copied, *self.adapted, *self.reinitialized)}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (shapes as lists)."""
        out: dict[str, Any] = {"method": self.method, "notes": list(self.notes)}
        for key in ("copied", "adapted", "reinitialized", "dropped"):
            out[key] = [{**asdict(t), "shape": list(t.shape)} for t in getattr(self, key)]
        return out

    def __str__(self) -> str:
        lines = [
            f"TransferReport(method={self.method!r}): {len(self.copied)} copied, "
            f"{len(self.adapted)} adapted, {len(self.reinitialized)} reinitialized, "
            f"{len(self.dropped)} dropped"
        ]
        for key in ("adapted", "reinitialized", "dropped"):
            for t in getattr(self, key):
                lines.append(f"  {key}: {t}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)
