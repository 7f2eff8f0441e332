"""The Python packages a model needs, pinned to the versions installed in this kernel.

Each flavor needs its runtime (``scikit-learn`` and what it unpickles with, ``onnxruntime``,
``cloudpickle``); on top of that, the distributions of the modules whose classes and functions the
model object holds (an XGBoost step inside a Pipeline, a function calling ``scipy``), found by a
bounded walk of the object and ``importlib.metadata.packages_distributions()``. Only installed
distributions are listed, each as ``name==version``.
"""

from __future__ import annotations

import functools
import importlib.metadata as metadata
import sys
import types
from collections.abc import Iterable
from typing import Any

# What loading and calling each flavor needs, whatever the model holds.
FLAVOR_PACKAGES: dict[str, tuple[str, ...]] = {
    "sklearn": ("scikit-learn", "numpy", "scipy", "joblib", "threadpoolctl", "cloudpickle"),
    "onnx": ("onnxruntime", "onnx", "numpy"),
    "python": ("cloudpickle", "numpy", "runlab"),
}
# The walk stops after this many objects: a model holding a huge object graph must not stall logging.
_MAX_OBJECTS = 5000
_MAX_DEPTH = 6
_IGNORED_MODULES = frozenset({"__main__", "builtins", "runlab"}) | frozenset(sys.stdlib_module_names)


@functools.lru_cache(maxsize=1)
def _distributions_by_module() -> dict[str, list[str]]:
    return dict(metadata.packages_distributions())


def _module_name(obj: Any) -> str | None:
    module = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", None)
    if not isinstance(module, str) or not module:
        module = getattr(type(obj), "__module__", None)
    return module if isinstance(module, str) and module else None


def modules_of(obj: Any) -> set[str]:
    """Top-level modules of the classes and functions ``obj`` holds (a bounded walk), less the
    standard library's."""
    return {name.split(".", 1)[0] for name in module_names_of(obj)} - _IGNORED_MODULES - {""}


def module_names_of(obj: Any) -> set[str]:
    """Full names of the modules whose classes and functions ``obj`` holds (a bounded walk)."""
    seen: set[int] = set()
    found: set[str] = set()
    stack: list[tuple[Any, int]] = [(obj, 0)]
    while stack and len(seen) < _MAX_OBJECTS:
        value, depth = stack.pop()
        if id(value) in seen or value is None or isinstance(value, (str, bytes, int, float, bool, complex)):
            continue
        seen.add(id(value))
        if isinstance(value, types.ModuleType):
            found.add(value.__name__)
            continue
        if isinstance(value, type):
            found.add(_module_name(value) or "")
            continue
        module = _module_name(type(value))
        if module:
            found.add(module)
        if depth >= _MAX_DEPTH:
            continue
        children: Iterable[Any] = ()
        if isinstance(value, (types.FunctionType, types.MethodType)):
            function = value.__func__ if isinstance(value, types.MethodType) else value
            found.add(_module_name(function) or "")
            globals_ = function.__globals__
            children = [globals_[name] for name in function.__code__.co_names if name in globals_]
            if function.__closure__:
                children = [*children, *(cell.cell_contents for cell in function.__closure__ if _filled(cell))]
        elif isinstance(value, dict):
            children = list(value.values())[:1000]
        elif isinstance(value, (list, tuple, set, frozenset)):
            children = list(value)[:1000]
        elif hasattr(value, "__dict__") and not hasattr(value, "__array__"):
            children = list(vars(value).values())
        stack.extend((child, depth + 1) for child in children)
    return {module for module in found if module}


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises
    except ValueError:
        return False
    return True


def pinned(distributions: Iterable[str]) -> list[str]:
    """``["scikit-learn==1.9.1", ...]`` for those installed, sorted, each once."""
    pins: dict[str, str] = {}
    for name in distributions:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        canonical = dist.metadata["Name"] or name
        pins.setdefault(canonical.lower().replace("_", "-"), f"{canonical}=={dist.version}")
    return [pins[key] for key in sorted(pins)]


def model_requirements(obj: Any, flavor: str, *, extra: Iterable[str] = ()) -> list[str]:
    """The pinned packages a model of ``flavor`` (holding ``obj``) needs to load and predict."""
    wanted = [*FLAVOR_PACKAGES.get(flavor, ()), *extra]
    if obj is not None:
        by_module = _distributions_by_module()
        for module in sorted(modules_of(obj)):
            wanted.extend(by_module.get(module, []))
    return pinned(wanted)
