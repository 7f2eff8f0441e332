"""What is served (slots of one revision) and which slot answers a request (the traffic split).

A ``Revision`` is immutable once built: the control thread loads every slot of a new revision,
then hands the whole object to the event loop in one assignment, so a request sees either the
old revision or the new one, never a mix, and requests already running finish on the slot they
started with.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

from runlab.serving.batching import Batcher
from runlab.serving.codec import InputSchema, compile_signature

ROLES = ("stable", "canary", "shadow")


@dataclass
class Slot:
    role: str
    model_name: str
    version: int | None
    model_version_id: str | None
    percent: float
    flavor: str | None = None
    signature: dict | None = None
    schema: InputSchema = field(default_factory=lambda: compile_signature(None))
    batcher: Batcher | None = None
    error: str | None = None
    load_seconds: float | None = None
    # Set on the event loop when the model is loaded; infer requests wait on it (bounded).
    loaded: asyncio.Event | None = None

    @property
    def ready(self) -> bool:
        return self.batcher is not None

    @property
    def version_label(self) -> str:
        return "" if self.version is None else str(self.version)

    def set_model(self, model: Any, batcher: Batcher) -> None:
        self.batcher = batcher
        signature = getattr(model, "signature", None)
        if signature and not self.signature:
            self.signature = signature
            self.schema = compile_signature(signature)
        self.flavor = self.flavor or getattr(model, "flavor", None)

    def status(self) -> dict:
        return {
            "role": self.role,
            "modelName": self.model_name,
            "version": self.version,
            "modelVersionId": self.model_version_id,
            "percent": self.percent,
            "ready": self.ready,
        }


@dataclass
class Revision:
    number: int | None
    name: str  # the deployment's name (or the model's): accepted in URLs besides the model name
    slots: list[Slot]
    prediction_sample_rate: float = 0.0

    @property
    def stable(self) -> Slot:
        return next(slot for slot in self.slots if slot.role == "stable")

    @property
    def canary(self) -> Slot | None:
        return next((slot for slot in self.slots if slot.role == "canary" and slot.percent > 0), None)

    @property
    def shadow(self) -> Slot | None:
        return next((slot for slot in self.slots if slot.role == "shadow" and slot.percent > 0), None)

    @property
    def ready(self) -> bool:
        return all(slot.ready for slot in self.slots)

    def serves(self, name: str) -> bool:
        return name == self.stable.model_name or name == self.name

    def by_version(self, version: str) -> Slot | None:
        """``/versions/{v}`` addresses one slot directly, outside the split (``4`` or ``v4``)."""
        wanted = version[1:] if version[:1] in ("v", "V") else version
        return next((slot for slot in self.slots if slot.version_label == wanted), None)

    def versions(self) -> list[str]:
        return [slot.version_label for slot in self.slots if slot.version is not None]

    def choose(self, request_id: str | None) -> Slot:
        """The slot that answers: the canary with probability percent/100, else the stable one."""
        canary = self.canary
        if canary is None or not canary.ready:
            return self.stable
        draw = share(request_id, "canary") if request_id else random.random()
        return canary if draw * 100 < canary.percent else self.stable

    def shadow_copy(self, request_id: str | None) -> Slot | None:
        """The shadow slot when this request's copy goes to it."""
        shadow = self.shadow
        if shadow is None or not shadow.ready:
            return None
        draw = share(request_id, "shadow") if request_id else random.random()
        return shadow if draw * 100 < shadow.percent else None

    def status(self) -> dict:
        return {"revision": self.number, "ready": self.ready, "slots": [slot.status() for slot in self.slots]}


def share(request_id: str, salt: str) -> float:
    """A request id's place in [0, 1): the same id always lands in the same place (a retry or a
    replay goes to the same version), and ids are spread evenly whatever they look like."""
    digest = hashlib.blake2b(request_id.encode("utf-8", "replace"), digest_size=8, person=salt.encode()[:16]).digest()
    return int.from_bytes(digest, "big") / 2.0**64
