"""Adaptive micro-batching: concurrent requests to one model version share one ``predict`` call.

The policy has no timer. A request that finds the model idle is predicted at once (so a lone
client never waits for company); requests that arrive while a prediction runs queue up, and
when it finishes they are all stacked into the next call (up to ``max_rows`` rows). Under load
the batches grow by themselves to what the model can absorb — a RandomForest costs about the
same for 1 row as for 64 — and at low load the latency is one prediction's.

``predict`` runs on a thread of its own so that the event loop keeps reading, decoding and
answering requests meanwhile; one call per model version is in flight at a time (parallelism
comes from worker processes, which also avoids threads fighting over the GIL).
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from runlab.serving.codec import Decoded, as_outputs

DEFAULT_MAX_ROWS = 1024


class PredictionFailed(Exception):
    """The model raised: answered 500 (it is not the caller's input that is wrong, as far as we know)."""


class Batcher:
    def __init__(
        self,
        model: Any,
        executor: ThreadPoolExecutor,
        *,
        output_name: str = "predict",
        max_rows: int = DEFAULT_MAX_ROWS,
        on_batch: Callable[[int, float], None] | None = None,
    ) -> None:
        self.model = model
        self.executor = executor
        self.output_name = output_name
        self.max_rows = max_rows
        self.on_batch = on_batch
        self.needs_dataframe = bool(getattr(model, "needs_dataframe", False))
        self._queue: collections.deque[tuple[Decoded, asyncio.Future]] = collections.deque()
        self._busy = False
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def queued(self) -> int:
        return len(self._queue)

    async def predict(self, decoded: Decoded) -> dict[str, np.ndarray]:
        """This request's outputs (named arrays, its rows only)."""
        loop = self._loop or asyncio.get_running_loop()
        self._loop = loop
        future = loop.create_future()
        self._queue.append((decoded, future))
        if not self._busy:
            # Start on the loop's next turn, not now: requests that were read in this same turn
            # (their tasks are already scheduled) join this call. No timer: alone, it starts at once.
            self._busy = True
            loop.call_soon(self._start_next)
        return await future

    def _start_next(self) -> None:
        while self._queue and self._queue[0][1].done():  # clients that went away
            self._queue.popleft()
        if not self._queue:
            self._busy = False
            return
        first = self._queue.popleft()
        batch = [first]
        rows = first[0].rows
        key = first[0].batch_key
        # Take every waiting request that stacks with the first, in arrival order, up to max_rows.
        kept: collections.deque = collections.deque()
        while self._queue:
            item = self._queue.popleft()
            if item[1].done():  # the client went away
                continue
            if item[0].batch_key == key and rows + item[0].rows <= self.max_rows:
                batch.append(item)
                rows += item[0].rows
            else:
                kept.append(item)
        self._queue = kept
        self._busy = True
        work = self._loop.run_in_executor(self.executor, self._run, [item[0] for item in batch])
        work.add_done_callback(lambda done: self._finish(batch, done))

    def _finish(self, batch: list, done: asyncio.Future) -> None:
        self._busy = False
        if self._queue:
            self._busy = True
            self._start_next()
        error = done.exception()
        results = [error] * len(batch) if error is not None else done.result()
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

    # -- on the predict thread -------------------------------------------------------------------

    def _run(self, requests: list[Decoded]) -> list[Any]:
        started = time.perf_counter()
        if len(requests) == 1:
            results: list[Any] = [self._predict_one(requests[0])]
        else:
            try:
                results = self._predict_stacked(requests)
            except Exception:
                # One bad request must not fail the others: predict them one by one.
                results = [self._predict_one(request) for request in requests]
        if self.on_batch is not None:
            self.on_batch(sum(r.rows for r in requests), time.perf_counter() - started)
        return results

    def _predict_one(self, request: Decoded) -> Any:
        try:
            return self._call(request.array, request.columns)
        except Exception as error:
            return PredictionFailed(f"the model failed to predict: {type(error).__name__}: {error}")

    def _predict_stacked(self, requests: list[Decoded]) -> list[dict[str, np.ndarray]]:
        stacked = np.concatenate([request.array for request in requests])
        outputs = self._call(stacked, requests[0].columns)
        total = stacked.shape[0]
        if any(array.shape[:1] != (total,) for array in outputs.values()):
            raise ValueError("outputs do not have one row per input row; cannot split a batch")
        results = []
        offset = 0
        for request in requests:
            end = offset + request.rows
            results.append({name: array[offset:end] for name, array in outputs.items()})
            offset = end
        return results

    def _call(self, array: np.ndarray, columns: list[str] | None) -> dict[str, np.ndarray]:
        if self.needs_dataframe:
            import pandas as pd  # only for models that select columns by name

            frame = pd.DataFrame(array, columns=columns)
            if array.dtype == object:
                frame = frame.infer_objects()
            return as_outputs(self.model.predict(frame), self.output_name)
        return as_outputs(self.model.predict(array), self.output_name)
