"""Single records that arrive together, scored in one call of the model.

A scikit-learn pipeline spends most of a one-row call on its per-call work (validation,
column selection, dtype checks): eight rows cost it about what one does. So the records of
concurrent ``POST /predict`` requests are scored together: a record that finds the model
idle is scored at once, with those parsed in the same turn of the event loop; records that
arrive while a call runs wait for it and are scored together in the next. Nothing waits for
company, so a lone request is not slowed, and under load the model makes one call per wave
of requests instead of one per request. One call runs at a time, on the event loop or in
one worker thread (``placement.py``), so calls never contend with each other for the GIL.

The answers do not depend on the company a record keeps: the frame's dtypes do not depend
on the other rows (``frames.py``), a row's score is computed from that row alone, and when a
call fails, each of its records is scored alone, so a record the model refuses fails its own
request only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Record = TypeVar("Record")
Answer = TypeVar("Answer")


class Batcher(Generic[Record, Answer]):
    """Hands ``score`` the records waiting, ``max_records`` at most per call, one call at a
    time; ``score`` returns one answer per record, in order."""

    def __init__(self, score: Callable[[list[Record]], Awaitable[list[Answer]]],
                 max_records: int) -> None:
        self._score = score
        self.max_records = max_records
        self._waiting: list[tuple[Record, asyncio.Future[Answer]]] = []
        self._draining: asyncio.Task[None] | None = None

    async def score(self, record: Record) -> Answer:
        """``record``'s answer (or the error scoring it alone raised)."""
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._waiting.append((record, future))
        if self._draining is None:
            # A task, not a call: it runs after the requests already parsed reach here.
            self._draining = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[:self.max_records]
                del self._waiting[:self.max_records]
                await self._answer(batch)
        except BaseException:  # cancelled (the server is stopping): nobody waits in vain
            for _, future in self._waiting:
                future.cancel()
            self._waiting.clear()
            raise
        finally:
            self._draining = None

    async def _answer(self, batch: list[tuple[Record, asyncio.Future[Answer]]]) -> None:
        try:
            answers = await self._score([record for record, _ in batch])
        except Exception as error:  # noqa: BLE001 - the error is the request's answer
            if len(batch) > 1:
                for one in batch:  # each record alone: a refused one fails its own request
                    await self._answer([one])
                return
            _, future = batch[0]
            if not future.done():
                future.set_exception(error)
            return
        except BaseException:
            for _, future in batch:
                future.cancel()
            raise
        for (_, future), answer in zip(batch, answers, strict=True):
            if not future.done():  # a request cancelled meanwhile has gone
                future.set_result(answer)
