"""The traffic split: a canary's share is exact over many requests, and the same id always goes the same way."""

from __future__ import annotations

import random

from runlab.serving.router import Revision, Slot, share


class ReadySlot(Slot):
    @property
    def ready(self) -> bool:  # no model needed to test the split
        return True


def revision(canary: float | None = None, shadow: float | None = None) -> Revision:
    slots = [ReadySlot("stable", "churn", 3, "v3", 100 - (canary or 0))]
    if canary is not None:
        slots.append(ReadySlot("canary", "churn", 4, "v4", canary))
    if shadow is not None:
        slots.append(ReadySlot("shadow", "churn", 5, "v5", shadow))
    return Revision(7, "churn-prod", slots)


def test_canary_share_is_within_3_points_over_10000_requests_with_ids():
    split = revision(canary=10)
    answered = [split.choose(f"request-{i}").role for i in range(10_000)]
    assert abs(answered.count("canary") / 10_000 - 0.10) <= 0.03
    # uuid-like ids spread the same way
    rng = random.Random(5)
    answered = [split.choose(f"{rng.getrandbits(128):032x}").role for _ in range(10_000)]
    assert abs(answered.count("canary") / 10_000 - 0.10) <= 0.03


def test_canary_share_without_ids_is_random_and_still_within_3_points():
    random.seed(11)
    for percent in (10, 50, 90):
        split = revision(canary=percent)
        answered = [split.choose(None).role for _ in range(10_000)]
        assert abs(answered.count("canary") / 10_000 - percent / 100) <= 0.03, percent


def test_the_same_request_id_always_goes_to_the_same_version():
    split = revision(canary=30)
    first = [split.choose(f"id-{i}").version for i in range(500)]
    again = [split.choose(f"id-{i}").version for i in range(500)]
    assert first == again
    assert set(first) == {3, 4}


def test_shadow_copies_a_share_and_never_answers():
    split = revision(shadow=25)
    assert all(split.choose(f"r{i}").role == "stable" for i in range(2000))
    copied = sum(split.shadow_copy(f"r{i}") is not None for i in range(10_000))
    assert abs(copied / 10_000 - 0.25) <= 0.03


def test_shares_are_uniform():
    values = [share(f"x{i}", "canary") for i in range(10_000)]
    assert all(0 <= v < 1 for v in values)
    deciles = [sum(1 for v in values if d / 10 <= v < (d + 1) / 10) for d in range(10)]
    assert all(900 <= count <= 1100 for count in deciles), deciles


def test_versions_address_slots_directly():
    split = revision(canary=10)
    assert split.by_version("4").role == "canary"
    assert split.by_version("v3").role == "stable"
    assert split.by_version("9") is None
    assert split.serves("churn") and split.serves("churn-prod") and not split.serves("other")


def test_the_sample_budget_keeps_logging_to_its_rate_at_any_traffic(monkeypatch):
    """Sampled predictions are capped per second, so logging's cost does not grow with traffic."""
    from runlab.serving import telemetry

    now = [1000.0]
    monkeypatch.setattr(telemetry.time, "monotonic", lambda: now[0])
    budget = telemetry.SampleBudget(100.0)
    taken = 0
    for _ in range(10_000):  # 10,000 requests over 10 s: 1,000 requests/s
        now[0] += 0.001
        taken += budget.take()
    # Two seconds' worth of burst at the start, then 100 a second.
    assert 1_000 <= taken <= 1_201
    assert all(telemetry.SampleBudget(None).take() for _ in range(1000))
