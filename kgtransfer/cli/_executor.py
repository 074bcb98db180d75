"""``--executor`` and ``--address``: where a command's batch work runs (see kgtransfer.executor)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from kgtransfer.executor import Executor

__all__ = ["AddressOption", "ExecutorOption", "executor_option"]

ExecutorOption = Annotated[
    str,
    typer.Option(
        "--executor",
        help="Where the independent runs execute: serial (this process, default) or ray "
        "(a local Ray on 127.0.0.1 using every core, or the cluster at --address). Needs "
        "pip install -e '.[ray]'.",
    ),
]
AddressOption = Annotated[
    str | None,
    typer.Option(
        "--address",
        help="With --executor ray: a running Ray cluster (host:port, ray://host:port or auto) "
        "instead of a local Ray.",
    ),
]


def executor_option(name: str, address: str | None) -> str | Executor:
    """What to pass as ``executor=``: the name, or a RayExecutor for ``--address``.

    Raises:
        ArgumentError: ``--address`` without ``--executor ray``, or a malformed address.
        UnknownNameError: An unknown executor name (close names suggested).
    """
    from kgtransfer.errors import ArgumentError
    from kgtransfer.executor import get_executor

    if address is None:
        get_executor(name)  # an unknown name fails now, with did-you-mean
        return name
    if name != "ray":
        raise ArgumentError(f"--address {address!r} needs --executor ray (got {name!r}).")
    return get_executor(name, address=address)
