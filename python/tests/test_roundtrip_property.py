"""Property-based round trips through the Python client and a real server (Hypothesis): what the
client accepts reads back equal through the REST API; what it cannot send is warned about, by key,
and costs nothing else — the other values of the same run arrive, and so does every point of a
later run in the same process.

Reading back goes around the client, with plain ``requests``, so a bug in the client's reads
cannot hide one in its writes. Each example stands for a fresh process: the sender warns once per
problem and process, so its memory of warnings given is cleared first. A failure prints the
``@reproduce_failure`` blob and the seed to replay it with."""

from __future__ import annotations

import math
import re
import string
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
import requests
from conftest import RunningServer
from hypothesis import HealthCheck, Phase, assume, given, note, settings
from hypothesis import strategies as st

import runlab
from runlab.runs import batcher as batcher_module

MAX_STEP = 2**53 - 1
# The server's key rule (the contract's LogKey): MLflow's key characters, JavaScript's `\w` being
# ASCII-only unlike Python's, as a normalized path (no "." or ".." segment, no leading, trailing
# or doubled "/").
_VALID_KEY = re.compile(r"[\w\-. /:]{1,250}", re.ASCII)
FLUSH_TIMEOUT_S = 20.0
# What JavaScript's String.prototype.trim() removes (Python's str.strip() differs).
JS_WHITESPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"

PROPERTY_SETTINGS = settings(
    max_examples=50,
    deadline=None,
    # The example database would land in the checkout; failures print a blob to replay instead.
    database=None,
    print_blob=True,
    # One bug, shrunk, and no explain phase (more examples, each talking to the server): a
    # failing run stays bounded too.
    report_multiple_bugs=False,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    # `isolated_settings` (autouse) only resets runlab's configuration, which each example sets.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture
def api(runlab_server: RunningServer) -> Iterator[requests.Session]:
    session = requests.Session()
    session.trust_env = False
    session.headers["authorization"] = f"Bearer {runlab_server.token}"
    yield session
    session.close()


def valid_key(key: object) -> bool:
    return (
        isinstance(key, str)
        and _VALID_KEY.fullmatch(key) is not None
        and all(segment not in ("", ".", "..") for segment in key.split("/"))
    )


# -- strategies ---------------------------------------------------------------------------------

KEY_ALPHABET = string.ascii_letters + string.digits + "_-. /:"
ADVERSARIAL_KEYS = [
    "__proto__",
    "constructor",
    "toString",
    "hasOwnProperty",
    "valueOf",
    "prototype",
    "then",
    "length",
    "NaN",
    "0",
    "...",
    ".a",
    "a.",
    ":",
    " ",
    "a b",
    "a/b",
    "a:b",
    "a.b",
    "train/loss",
    " padded ",
    "x" * 250,
]
log_keys = st.one_of(
    st.sampled_from(ADVERSARIAL_KEYS),
    st.text(KEY_ALPHABET, min_size=1, max_size=12),
    st.text(KEY_ALPHABET, min_size=1, max_size=250),
).filter(valid_key)
# Keys the server refuses, including ones Python's Unicode `\w` takes for word characters.
bad_keys = st.one_of(
    st.sampled_from(
        [
            "",
            "x" * 251,
            "é",
            "naïve",
            "١٢",
            "ß",
            "a\n",
            "tab\t",
            "nul\x00",
            "back\\slash",
            "q?",
            "😀",
            "a,b",
            ".",
            "..",
            "/",
            "//",
            "/leading",
            "trailing/",
            "a//b",
            "a/./b",
            "a/../b",
        ]
    ),
    st.text(min_size=1, max_size=4).filter(lambda key: not valid_key(key)),
)


def near(limit: int) -> st.SearchStrategy[str]:
    """Strings at and just below ``limit`` characters (code points, as the server counts them)."""
    return st.builds(
        lambda char, length: char * length, st.sampled_from(["v", "é", "😀"]), st.integers(limit - 2, limit)
    )


# Any text without lone surrogates: every other code point, NUL and astral ones included.
texts = st.one_of(st.text(max_size=40), st.text(max_size=300))
param_values = st.one_of(texts, near(6000), st.integers(), st.floats(), st.booleans())
tag_values = st.one_of(texts, near(8000), st.integers(), st.floats(), st.booleans())
metric_values = st.one_of(
    st.floats(),  # NaN, ±inf, -0.0 and subnormals included
    st.integers(min_value=-(2**1023), max_value=2**1023),
    st.sampled_from([0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1e308, -1e308, 1.7976931348623157e308, 0.1]),
)
steps = st.one_of(
    st.none(),
    st.integers(0, 30),
    st.sampled_from([0, 1, MAX_STEP - 1, MAX_STEP]),
    st.integers(0, MAX_STEP),
)


@dataclass(frozen=True)
class Metric:
    key: str
    value: Any
    step: Any


@dataclass(frozen=True)
class Param:
    key: Any
    value: Any


@dataclass(frozen=True)
class Tag:
    key: Any
    value: Any


def unique_keys(items: list[Any]) -> list[Any]:
    seen: set[Any] = set()
    kept = []
    for item in items:
        if item.key not in seen:
            seen.add(item.key)
            kept.append(item)
    return kept


valid_metrics = st.builds(Metric, log_keys, metric_values, steps)


# -- the model: what the server must hold ----------------------------------------------------------


def expected_series(metrics: list[Metric]) -> dict[str, list[tuple[int, float]]]:
    """Per key, (step, value) in the order the server answers: by step, then time, then logging
    order (the client's clock only moves forward within an example, so time follows logging)."""
    greatest: dict[str, int] = {}
    series: dict[str, list[tuple[int, int, float]]] = {}
    for order, metric in enumerate(metrics):
        step = metric.step if metric.step is not None else greatest.get(metric.key, -1) + 1
        greatest[metric.key] = max(greatest.get(metric.key, -1), step)
        series.setdefault(metric.key, []).append((step, order, float(metric.value)))
    return {key: [(step, value) for step, _, value in sorted(points)] for key, points in series.items()}


def steps_overflow(metrics: list[Metric]) -> bool:
    """Whether an omitted step would come after MAX_STEP (the server refuses that batch)."""
    greatest: dict[str, int] = {}
    for metric in metrics:
        step = metric.step if metric.step is not None else greatest.get(metric.key, -1) + 1
        if step > MAX_STEP:
            return True
        greatest[metric.key] = max(greatest.get(metric.key, -1), step)
    return False


def as_float(value: Any, where: str) -> float:
    """A value as the server answers it: a number, or "NaN" / "Infinity" / "-Infinity". JSON's
    shortest form of a large double (19705247023285690) parses as an int here: float() it."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    names = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
    assert value in names, f"{where}: {value!r} is not a number"
    return names[value]


def same_number(a: float, b: float) -> bool:
    # -0.0 == 0.0: JSON.stringify writes -0 as 0, so the server's answers cannot tell them apart.
    return a == b or (math.isnan(a) and math.isnan(b))


def same_points(got: list[tuple[int, float]], want: list[tuple[int, float]]) -> bool:
    return len(got) == len(want) and all(
        gs == ws and same_number(gv, wv) for (gs, gv), (ws, wv) in zip(got, want, strict=True)
    )


# -- reading back ----------------------------------------------------------------------------------


def key_in_path(key: str) -> str:
    # Dots percent-encoded: requests resolves a literal "." or ".." path segment.
    return quote(key, safe="").replace(".", "%2E")


def read_json(session: requests.Session, url: str, what: str) -> Any:
    response = session.get(url, timeout=30)
    assert response.status_code == 200, f"{what}: {response.status_code} {response.text[:500]}"
    return response.json()


def assert_run_holds(
    session: requests.Session,
    server: RunningServer,
    project: str,
    run_id: str,
    *,
    params: dict[str, str],
    tags: dict[str, str],
    metrics: list[Metric],
    logged_from_ms: int,
    logged_to_ms: int,
) -> None:
    """The run, its list entry and every metric's history hold exactly these values."""
    run = read_json(session, f"{server.url}/api/runs/{run_id}", "GET /api/runs/:id")
    listing = session.get(f"{server.url}/api/runs", params={"project": project, "limit": 10000}, timeout=30)
    assert listing.status_code == 200, f"GET /api/runs?project=: {listing.status_code} {listing.text[:500]}"
    listed = next((item for item in listing.json()["runs"] if item["id"] == run_id), None)
    assert listed is not None, f"run {run_id} is missing from GET /api/runs?project={project}"
    for what, holder in (("GET /api/runs/:id", run), ("GET /api/runs", listed)):
        assert holder["params"] == params, f"params ({what})"
        assert holder["tags"] == tags, f"tags ({what})"

    series = expected_series(metrics)
    assert sorted(run["metrics"]) == sorted(series), "metric keys"
    assert sorted(listed["metrics"]) == sorted(series), "metric keys (list)"
    for key, want in series.items():
        history = read_json(
            session,
            f"{server.url}/api/runs/{run_id}/metrics/{key_in_path(key)}?maxPoints=100000",
            f"history of {key!r}",
        )
        assert history["key"] == key and history["total"] == len(want) and history["downsampled"] is False, (
            f"history of {key!r}: key {history['key']!r}, total {history['total']}, sent {len(want)}"
        )
        got = [(point["step"], as_float(point["value"], f"history of {key!r}")) for point in history["points"]]
        assert same_points(got, want), f"history of {key!r}:\n  sent {want}\n  read {got}"
        for point in history["points"]:
            assert logged_from_ms <= point["timestamp"] <= logged_to_ms, f"timestamp of {key!r}: {point['timestamp']}"
        finite = [value for _, value in want if math.isfinite(value)]
        for what, summary in (("run", run["metrics"][key]), ("list", listed["metrics"][key])):
            assert summary["count"] == len(want), f"{key!r} count ({what})"
            assert summary["step"] == want[-1][0], f"{key!r} step ({what})"
            assert same_number(as_float(summary["latest"], f"{key!r} latest"), want[-1][1]), f"{key!r} latest ({what})"
            # min/max are over finite values only; null while there is none.
            for bound, want_bound in (
                ("min", min(finite) if finite else None),
                ("max", max(finite) if finite else None),
            ):
                got_bound = summary[bound]
                assert (got_bound is None and want_bound is None) or (
                    got_bound is not None and want_bound is not None and as_float(got_bound, bound) == want_bound
                ), f"{key!r} {bound} ({what}): {got_bound!r}, expected {want_bound!r}"


def runlab_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, runlab.RunlabWarning)]


def fresh_sender() -> batcher_module.Batcher:
    """The process's sender, with its once-per-process warnings forgotten (a fresh process)."""
    sender = batcher_module.batcher()
    sender._invalid_warned.clear()
    sender._refusals_warned.clear()
    return sender


def flush_or_fail(*runs: runlab.Run) -> None:
    if not runlab.flush(FLUSH_TIMEOUT_S):
        for run in runs:
            run.abandon()  # so later examples and tests are not held up behind them
        pytest.fail(f"runlab.flush() did not finish in {FLUSH_TIMEOUT_S} s")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def compact(value: Any) -> str:
    """repr() with long repeated runs written as `⟨v×6000⟩`, for notes on a failing example."""
    return re.sub(r"(.)\1{15,}", lambda run: f"⟨{run.group(1)}×{len(run.group(0))}⟩", repr(value))


# -- properties ----------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(
    name=st.one_of(st.none(), st.text(max_size=60), near(250)),
    start_params=st.lists(st.builds(Param, log_keys, param_values), max_size=5).map(unique_keys),
    later_params=st.lists(st.builds(Param, log_keys, param_values), max_size=4).map(unique_keys),
    start_tags=st.lists(st.builds(Tag, log_keys, tag_values), max_size=4).map(unique_keys),
    later_tags=st.lists(st.builds(Tag, log_keys, tag_values), max_size=4),
    metrics=st.lists(valid_metrics, min_size=1, max_size=30),
    use_log=st.booleans(),
)
def test_what_the_client_accepts_reads_back_equal(
    runlab_server: RunningServer,
    api: requests.Session,
    name: str | None,
    start_params: list[Param],
    later_params: list[Param],
    start_tags: list[Tag],
    later_tags: list[Tag],
    metrics: list[Metric],
    use_log: bool,
) -> None:
    later_params = [param for param in later_params if param.key not in {p.key for p in start_params}]
    assume(not steps_overflow(metrics))
    note(f"name={compact(name)}\nstart params={compact(start_params)}\nlater params={compact(later_params)}")
    note(
        f"start tags={compact(start_tags)}\nlater tags={compact(later_tags)}\nmetrics={compact(metrics)} use_log={use_log}"
    )
    project = f"props-{uuid.uuid4().hex[:8]}"
    runlab.configure(url=runlab_server.url, token=runlab_server.token, project=project)
    fresh_sender()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        logged_from = now_ms()
        run = runlab.start(
            name=name,
            params={p.key: p.value for p in start_params},
            tags={t.key: t.value for t in start_tags},
        )
        for param in later_params:
            runlab.param(param.key, param.value)
        for tag in later_tags:
            runlab.tag(tag.key, tag.value)
        for index, metric in enumerate(metrics):
            if use_log and index % 2:
                runlab.log({metric.key: metric.value}, step=metric.step)
            else:
                runlab.metric(metric.key, metric.value, step=metric.step)
        flush_or_fail(run)
        logged_to = now_ms()
        runlab.end()
        flush_or_fail(run)
    assert runlab_warnings(caught) == [], "values within every limit were warned about"
    assert run.id is not None
    tags: dict[str, str] = {}
    for tag in [*start_tags, *later_tags]:
        tags[tag.key] = str(tag.value)
    assert_run_holds(
        api,
        runlab_server,
        project,
        run.id,
        params={p.key: str(p.value) for p in [*start_params, *later_params]},
        tags=tags,
        metrics=metrics,
        logged_from_ms=logged_from,
        logged_to_ms=logged_to,
    )
    stored = read_json(api, f"{runlab_server.url}/api/runs/{run.id}", "GET /api/runs/:id")
    assert stored["status"] == "finished"
    # The server trims names (JavaScript's trim()); an empty one becomes run-<number>.
    trimmed = (name or "").strip(JS_WHITESPACE)
    assert stored["name"] == trimmed if trimmed else re.fullmatch(r"run-\d+", stored["name"]), stored["name"]


class NotANumber:
    def __repr__(self) -> str:
        return "NotANumber()"


# What the client cannot send, each with the key its warning must name.
bad_metrics = st.one_of(
    st.builds(Metric, bad_keys, st.floats(allow_nan=False, allow_infinity=False), st.none()),
    st.builds(
        Metric,
        log_keys,
        st.sampled_from(["abc", None, NotANumber(), [1.0], complex(1, 1), 10**400, -(10**400)]),
        st.none(),
    ),
    st.builds(
        Metric,
        log_keys,
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from([-1, -0.5, 1.5, 2**53, 2**64, 10**30, 1e300, math.inf, math.nan, "3"]),
    ),
)
bad_params = st.builds(Param, bad_keys, texts)
bad_tags = st.builds(Tag, bad_keys, texts)
# Strings with a lone surrogate (as os.fsdecode makes of a non-UTF-8 file name): kept exactly, or
# warned about; never changed silently.
lone_surrogate_texts = st.builds(
    lambda head, surrogate: head + surrogate, st.text(max_size=5), st.sampled_from(["\udcff", "\ud800", "\udfff"])
)


@PROPERTY_SETTINGS
@given(
    good_metrics=st.lists(valid_metrics, max_size=20),
    good_params=st.lists(st.builds(Param, log_keys, st.text(max_size=20)), max_size=3).map(unique_keys),
    good_tags=st.lists(st.builds(Tag, log_keys, st.text(max_size=20)), max_size=3).map(unique_keys),
    bad=st.lists(
        st.one_of(
            bad_metrics,
            bad_params,
            bad_tags,
            st.builds(Param, log_keys.map(lambda key: f"s-{key}"[:250]), lone_surrogate_texts),
            st.builds(Tag, log_keys.map(lambda key: f"s-{key}"[:250]), lone_surrogate_texts),
        ),
        min_size=1,
        max_size=4,
    ),
    bad_in_start=st.booleans(),
    interleave=st.randoms(use_true_random=False),
)
def test_what_the_client_cannot_send_is_warned_about_and_costs_nothing_else(
    runlab_server: RunningServer,
    api: requests.Session,
    good_metrics: list[Metric],
    good_params: list[Param],
    good_tags: list[Tag],
    bad: list[Metric | Param | Tag],
    bad_in_start: bool,
    interleave: Any,
) -> None:
    assume(not steps_overflow(good_metrics))
    # One value per param or tag key, so what must be stored is clear.
    good_keys = {p.key for p in good_params} | {t.key for t in good_tags}
    named = unique_keys([item for item in bad if not isinstance(item, Metric) and item.key not in good_keys])
    bad = [item for item in bad if isinstance(item, Metric)] + named
    project = f"props-{uuid.uuid4().hex[:8]}"
    runlab.configure(url=runlab_server.url, token=runlab_server.token, project=project)
    fresh_sender()
    # Every operation, good and bad, in a random order; the good metrics keep theirs.
    others: list[Metric | Param | Tag] = [*good_params, *good_tags, *bad]
    interleave.shuffle(others)
    slots = sorted(interleave.randint(0, len(others)) for _ in good_metrics)
    operations: list[Metric | Param | Tag] = []
    metrics_left = iter(good_metrics)
    for position in range(len(others) + 1):
        operations.extend(next(metrics_left) for slot in slots if slot == position)
        if position < len(others):
            operations.append(others[position])
    ordered_metrics = good_metrics
    start_params = {p.key: p.value for p in operations if isinstance(p, Param) and bad_in_start}
    note(f"operations in order={compact(operations)}\nparams given to start()={compact(start_params)}")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        logged_from = now_ms()
        try:
            run = runlab.start(name="cannot-send", params=start_params)
            for op in operations:
                if isinstance(op, Metric):
                    runlab.metric(op.key, op.value, step=op.step)
                elif isinstance(op, Param) and op.key not in start_params:
                    runlab.param(op.key, op.value)
                elif isinstance(op, Tag):
                    runlab.tag(op.key, op.value)
        except Exception as error:  # the contract with the user: logging never raises
            pytest.fail(f"logging raised {error!r} into the user's code")
        flush_or_fail(run)
        logged_to = now_ms()
        runlab.end()
        # A later run in the same process gets every point.
        after = runlab.start(name="after")
        for step in range(50):
            runlab.metric("after", step / 4, step=step)
        runlab.end()
        flush_or_fail(run, after)
    warned = runlab_warnings(caught)

    def names(message: str, item: Metric | Param | Tag) -> bool:
        # The client's own warnings quote the key; a refusal quotes the server's field path.
        field = "params" if isinstance(item, Param) else "tags" if isinstance(item, Tag) else None
        return repr(item.key) in message or (field is not None and f"{field}.{item.key}" in message)

    # Params and tags with a valid key and a lone surrogate in the value: kept exactly, or warned about.
    surrogates = [item for item in bad if not isinstance(item, Metric) and valid_key(item.key)]
    for item in bad:
        if not any(item is other for other in surrogates):
            assert any(names(message, item) for message in warned), f"no warning names {item!r}; warnings: {warned}"
    assert run.id is not None, f"the run was not recorded; warnings: {warned}"
    stored = read_json(api, f"{runlab_server.url}/api/runs/{run.id}", "GET /api/runs/:id")
    params = {p.key: str(p.value) for p in good_params}
    tags = {t.key: str(t.value) for t in good_tags}
    for item in surrogates:
        holder = stored["params"] if isinstance(item, Param) else stored["tags"]
        if item.key in holder:
            assert holder[item.key] == item.value, f"{item!r} read back as {holder[item.key]!r}, without a warning"
            (params if isinstance(item, Param) else tags)[item.key] = item.value
        else:
            assert any(names(message, item) for message in warned), (
                f"{item!r} was dropped without a warning naming it; warnings: {warned}"
            )
    assert_run_holds(
        api,
        runlab_server,
        project,
        run.id,
        params=params,
        tags=tags,
        metrics=ordered_metrics,
        logged_from_ms=logged_from,
        logged_to_ms=logged_to,
    )
    assert after.id is not None
    history = read_json(api, f"{runlab_server.url}/api/runs/{after.id}/metrics/after?maxPoints=1000", "later run")
    assert [(p["step"], p["value"]) for p in history["points"]] == [(step, step / 4) for step in range(50)]


# -- examples the properties found, kept as plain tests --------------------------------------------------


def test_metric_keys_dot_and_dotdot_are_refused_with_a_warning_or_readable_through_the_client(
    runlab_server: RunningServer,
) -> None:
    """A URL cannot ask for a metric named `.` or `..` (requests resolves them as path segments):
    such a key is warned about and dropped, or the client's own read finds it."""
    runlab.configure(url=runlab_server.url, token=runlab_server.token, project=f"props-{uuid.uuid4().hex[:8]}")
    fresh_sender()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = runlab.start(name="dot-keys")
        runlab.metric(".", 1.0, step=0)
        runlab.metric("..", 2.0, step=0)
        runlab.metric("kept", 3.0, step=0)
        runlab.end()
        flush_or_fail(run)
    warned = runlab_warnings(caught)
    assert run.id is not None
    with runlab.Client(runlab_server.url, runlab_server.token) as client:
        stored = client.get_run(run.id)["metrics"]
        assert stored["kept"]["count"] == 1, stored
        for key, value in ((".", 1.0), ("..", 2.0)):
            if key not in stored:
                assert any(repr(key) in message for message in warned), (key, warned)
                continue
            history = client.metric_history(run.id, key)
            assert history.get("key") == key and [p["value"] for p in history.get("points", [])] == [value], history


def test_an_omitted_step_past_the_largest_warns_once_and_a_later_run_gets_every_point(
    runlab_server: RunningServer,
) -> None:
    """The server refuses to number a point past 2^53 - 1: one warning, and nothing held up."""
    runlab.configure(url=runlab_server.url, token=runlab_server.token, project=f"props-{uuid.uuid4().hex[:8]}")
    fresh_sender()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = runlab.start(name="largest-step")
        runlab.metric("x", 1.0, step=MAX_STEP)
        flush_or_fail(first)
        runlab.metric("x", 2.0)  # would be step 2^53
        runlab.end()
        after = runlab.start(name="after")
        for step in range(100):
            runlab.metric("y", float(step), step=step)
        runlab.end()
        flush_or_fail(first, after)
    warned = runlab_warnings(caught)
    assert len(warned) == 1 and ("'x'" in warned[0] or '"x"' in warned[0]), warned
    with runlab.Client(runlab_server.url, runlab_server.token) as client:
        assert client.get_run(str(first.id))["metrics"]["x"]["count"] == 1
        points = client.metric_history(str(after.id), "y", max_points=1000)["points"]
    assert [(p["step"], p["value"]) for p in points] == [(step, float(step)) for step in range(100)]
