"""The built-in model zoo: a declarative spec, its build (checkpoints, cards, graph) and the
transfer grid that gives the graph its ground truth.

Example:
    >>> from kgtransfer.zoo import TINY_ZOO, zoo_sources, zoo_targets
    >>> len(zoo_sources(TINY_ZOO)), zoo_targets(TINY_ZOO)
    (4, ['digits_blurred', 'digits_5to9'])
"""

from kgtransfer.zoo._datasets import load_target
from kgtransfer.zoo._spec import (
    DEFAULT_ZOO,
    TINY_ZOO,
    ZOO_SPECS,
    Budget,
    SourceSpec,
    TargetSpec,
    ZooSpec,
    get_zoo_spec,
    zoo_sources,
    zoo_targets,
)
from kgtransfer.zoo.build import ZooBuildResult, build_zoo, load_zoo_model, zoo_status
from kgtransfer.zoo.grid import GRID_COLUMNS, read_grid, run_grid

__all__ = [
    "DEFAULT_ZOO",
    "GRID_COLUMNS",
    "TINY_ZOO",
    "ZOO_SPECS",
    "Budget",
    "SourceSpec",
    "TargetSpec",
    "ZooBuildResult",
    "ZooSpec",
    "build_zoo",
    "get_zoo_spec",
    "load_target",
    "load_zoo_model",
    "read_grid",
    "run_grid",
    "zoo_sources",
    "zoo_status",
    "zoo_targets",
]
