"""Versioned datasets: content-defined chunks, immutable versions, a local cache.

See ``runlab.datasets.api`` for the Python API (``runlab.dataset(...)``) and ``runlab.datasets.cli`` for
``runlab data ...``.
"""

from __future__ import annotations

from runlab.datasets.api import (
    Dataset,
    DatasetDiff,
    DatasetVersion,
    dataset,
    materialize,
    parse_ref,
    pins,
    set_pins,
)
from runlab.datasets.cache import LocalCache
from runlab.datasets.transfer import CommitStats, FetchStats

__all__ = [
    "CommitStats",
    "Dataset",
    "DatasetDiff",
    "DatasetVersion",
    "FetchStats",
    "LocalCache",
    "dataset",
    "materialize",
    "parse_ref",
    "pins",
    "set_pins",
]
