"""Running a command against an event-sourced aggregate: load, decide, append, retry on a lost race.

State is cached per stream (with its version) so a command reads only the events appended since, and commands
on one stream in this process run one at a time; a writer in another replica shows up as a concurrency
conflict, after which the state is reloaded and the decision taken again.

The cache is bounded by the events its states fold (a stream's version), not only by streams: a class's roster
holds every learner's sealed data, so 10,000 rosters of a province's year are gigabytes, 10,000 learners' results
a few megabytes. The least recently used states go first; a state no longer cached is read again from the store.
"""
from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from ttct.contracts import DomainEvent, Envelope, EventMetadata, read_event
from ttct.eventsourcing.eventstore import ConcurrencyConflict, EventStore, make_envelopes

S = TypeVar("S")

Decide = Callable[[S], Sequence[DomainEvent]]
Project = Callable[[Any, list[Envelope]], Awaitable[None]]
# `evolve` over many events at once: for a state that evolve copies whole (a class's roster, a centre's register of
# certificates), folding a stream's thousands of events one by one is quadratic
Fold = Callable[[S, Sequence[DomainEvent]], S]


class Aggregates(Generic[S]):
    def __init__(
        self,
        store: EventStore,
        initial: Callable[[], S],
        evolve: Callable[[S, DomainEvent], S],
        *,
        clock: Callable[[], datetime],
        new_id: Callable[[], UUID],
        cache_size: int = 10_000,
        cache_events: int | None = 20_000,
        attempts: int = 5,
        fold: Fold[S] | None = None,
    ) -> None:
        """`cache_events` None: bounded by `cache_size` streams only (an aggregate whose states are small however
        many events they fold)."""
        self._store, self._initial, self._evolve = store, initial, evolve
        self._fold = fold or self._one_by_one
        self._clock, self._new_id = clock, new_id
        self._cache: OrderedDict[str, tuple[S, int]] = OrderedDict()
        self._cached_events = 0  # the sum of the cached streams' versions
        self._locks: dict[str, asyncio.Lock] = {}
        self._cache_size, self._cache_events, self._attempts = cache_size, cache_events, attempts

    def _one_by_one(self, state: S, events: Sequence[DomainEvent]) -> S:
        for event in events:
            state = self._evolve(state, event)
        return state

    @property
    def cached(self) -> tuple[int, int]:
        """(streams, events) the cache holds now."""
        return len(self._cache), self._cached_events

    async def load(self, stream_id: str) -> tuple[S, int]:
        state, version = self._cache.get(stream_id, (self._initial(), 0))
        found = await self._store.read(stream_id, after_version=version)
        if found:
            state, version = self._fold(state, [read_event(e) for e in found]), found[-1].stream_version
        self._remember(stream_id, state, version)
        return state, version

    async def load_many(self, stream_ids: Sequence[str]) -> dict[str, tuple[S, int]]:
        """`load` for many streams, their new events read in one query."""
        known = {stream: self._cache.get(stream, (self._initial(), 0)) for stream in stream_ids}
        found = await self._store.read_many({stream: version for stream, (_state, version) in known.items()})
        out = {}
        for stream, (state, version) in known.items():
            if found[stream]:
                state = self._fold(state, [read_event(e) for e in found[stream]])
                version = found[stream][-1].stream_version
            self._remember(stream, state, version)
            out[stream] = (state, version)
        return out

    async def execute(
        self, stream_id: str, decide: Decide[S], metadata: EventMetadata, *, project: Project | None = None
    ) -> list[Envelope]:
        """Decide on the current state and append; `project` updates views in the same transaction.

        A cached state is decided on without reading the store first: the append expects the cached version, so
        a state another replica has moved on makes it conflict, and the decision is taken again on the stream as
        stored. A refusal, or a decision to change nothing, is only given on the stream as stored (read again if
        it was decided on the cache): no append checks those."""
        lock = self._locks.setdefault(stream_id, asyncio.Lock())
        async with lock:
            try:
                read = False
                for _ in range(self._attempts):
                    cached = None if read else self._cache.get(stream_id)
                    if cached is None:
                        state, version = await self.load(stream_id)
                        read = True
                    else:
                        state, version = cached
                        self._cache.move_to_end(stream_id)
                    try:
                        events = list(decide(state))
                    except Exception:
                        if read:
                            raise
                        read = True
                        continue
                    if not events:
                        if read:
                            return []
                        read = True
                        continue
                    envelopes = make_envelopes(stream_id, version, events, metadata,
                                               now=self._clock(), new_id=self._new_id)
                    try:
                        await self._store.commit(envelopes, version, project=project)
                    except ConcurrencyConflict:
                        self._forget(stream_id)
                        read = False
                        continue
                    state = self._fold(state, events)
                    self._remember(stream_id, state, version + len(events))
                    return envelopes
                raise ConcurrencyConflict(stream_id, version)
            finally:
                if not lock._waiters:  # keep the lock table from growing without bound
                    self._locks.pop(stream_id, None)

    def _remember(self, stream_id: str, state: S, version: int) -> None:
        self._forget(stream_id)
        self._cache[stream_id] = (state, version)
        self._cached_events += version
        # the state just used stays, however large: the next command on it is the likeliest
        while len(self._cache) > 1 and (len(self._cache) > self._cache_size or (
                self._cache_events is not None and self._cached_events > self._cache_events)):
            _stream, (_state, evicted) = self._cache.popitem(last=False)
            self._cached_events -= evicted

    def _forget(self, stream_id: str) -> None:
        gone = self._cache.pop(stream_id, None)
        if gone is not None:
            self._cached_events -= gone[1]
