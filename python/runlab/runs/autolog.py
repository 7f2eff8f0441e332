"""``runlab.autolog()``: record scikit-learn fits without changing the training code.

Every ``fit`` of a scikit-learn estimator records, in the current run:

- tags ``estimator_name`` (the class name, e.g. ``RandomForestClassifier``) and
  ``estimator_class`` (its full import path);
- params: the estimator's ``get_params()`` (nested ones as ``step__param``, as scikit-learn
  names them), stringified;
- metric ``fit_time_s``: the wall-clock time of the fit;
- metric ``score`` on ``eval_data=(X, y)`` when given to ``autolog`` (the estimator's own
  ``score``: accuracy for classifiers, R² for regressors);
- metric ``score`` whenever the code calls ``estimator.score(X, y)`` on an autologged estimator,
  into the run its fit was recorded in.

With no run active, each fit gets a run of its own, named after the estimator and ended after
the fit. Fits inside a fit (a Pipeline's steps, a search's candidates) are not recorded separately:
only the outermost one is, as users see it.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from runlab.runs import api as runs
from runlab.warning import warn

# class → its own fit/score before patching, to restore them on autolog(disable=True).
_originals: dict[tuple[type, str], Callable[..., Any]] = {}
_settings: dict[str, Any] = {"eval_data": None}
# Fits in progress anywhere in the process: only the outermost fit is recorded.
_depth = 0
_depth_lock = threading.Lock()
# estimator → the run its fit was recorded in (weak: estimators are not kept alive by us).
_fitted_in: weakref.WeakKeyDictionary[Any, runs.Run] = weakref.WeakKeyDictionary()


def autolog(eval_data: tuple[Any, Any] | None = None, *, disable: bool = False) -> None:
    """Record every scikit-learn ``fit`` (see the module documentation). Call again to change
    ``eval_data``; ``disable=True`` restores scikit-learn as it was."""
    if disable:
        for (cls, method), original in _originals.items():
            setattr(cls, method, original)
        _originals.clear()
        _settings["eval_data"] = None
        return
    _settings["eval_data"] = eval_data
    if _originals:
        return  # already patched
    try:
        from sklearn.utils import all_estimators
    except ImportError:
        warn("autolog needs scikit-learn (pip install scikit-learn); nothing is recorded.")
        return
    for _, cls in all_estimators():
        for method, around in (("fit", _around_fit), ("score", _around_score)):
            # Patch only where the method is defined: subclasses inheriting it are covered.
            original = cls.__dict__.get(method)
            # Functions, and descriptors such as the `available_if` that Pipeline.score uses.
            if hasattr(original, "__get__") and (cls, method) not in _originals:
                _originals[(cls, method)] = original
                setattr(cls, method, _Patched(original, around))


class _Patched:
    """A method descriptor that runs ``around(estimator, call)`` instead of the original method;
    ``call()`` runs the original with the caller's arguments."""

    def __init__(self, original: Any, around: Callable[[Any, Callable[[], Any]], Any]) -> None:
        self._original = original
        self._around = around
        functools.update_wrapper(self, original)  # type: ignore[arg-type]

    def __get__(self, estimator: Any, owner: type | None = None) -> Any:
        bound = self._original.__get__(estimator, owner)  # raises AttributeError where unavailable
        if estimator is None:
            return bound
        around = self._around

        @functools.wraps(bound)
        def method(*args: Any, **kwargs: Any) -> Any:
            return around(estimator, functools.partial(bound, *args, **kwargs))

        return method


def _around_fit(estimator: Any, call: Callable[[], Any]) -> Any:
    global _depth
    with _depth_lock:
        outermost = _depth == 0
        _depth += 1
    try:
        if not outermost:
            return call()
        return _recorded_fit(estimator, call)
    finally:
        with _depth_lock:
            _depth -= 1


def _recorded_fit(estimator: Any, call: Callable[[], Any]) -> Any:
    cls = type(estimator)
    own_run = runs.active_run() is None
    run = runs.start(name=cls.__name__) if own_run else runs._current()
    try:
        run.tag("estimator_name", cls.__name__)
        run.tag("estimator_class", f"{cls.__module__}.{cls.__qualname__}")
        run.params(_estimator_params(estimator))
    except Exception as error:  # recording must never stop the fit
        warn(f"autolog could not record the parameters of {cls.__name__}: {error}")
    started = time.perf_counter()
    try:
        result = call()
    except BaseException as error:
        if own_run:
            run.end("killed" if isinstance(error, KeyboardInterrupt) else "failed", error=error)
        raise
    run.metric("fit_time_s", time.perf_counter() - started)
    _fitted_in[estimator] = run
    eval_data = _settings["eval_data"]
    if eval_data is not None:
        try:
            # The original score: the patched one would record the same point twice.
            run.metric("score", float(_unpatched_score(estimator)(*eval_data)))
        except Exception as error:
            warn(f"autolog could not score {cls.__name__} on eval_data: {error}")
    if own_run:
        run.end("finished")
    return result


def _around_score(estimator: Any, call: Callable[[], Any]) -> Any:
    value = call()
    run = _fitted_in.get(estimator)
    if run is not None and _depth == 0:  # a search scoring its candidates is not the user's call
        with contextlib.suppress(TypeError, ValueError):
            run.metric("score", float(value))
    return value


def _unpatched_score(estimator: Any) -> Callable[..., Any]:
    for cls in type(estimator).__mro__:
        original = _originals.get((cls, "score"))
        if original is not None:
            bound: Callable[..., Any] = original.__get__(estimator, type(estimator))
            return bound
    return getattr(estimator, "score")  # noqa: B009 - raises AttributeError as sklearn would


def _estimator_params(estimator: Any) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in estimator.get_params(deep=True).items():
        # An estimator-valued param (a Pipeline's steps) is described by its own nested params.
        if hasattr(value, "get_params") or key == "steps":
            text = type(value).__name__ if hasattr(value, "get_params") else _step_names(value)
        else:
            text = str(value)
        params[key] = text  # cut to the contract's length by Run.params
    return params


def _step_names(steps: Any) -> str:
    try:
        return ", ".join(f"{name}={type(step).__name__}" for name, step in steps)
    except (TypeError, ValueError):
        return str(steps)
