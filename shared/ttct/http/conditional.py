"""If-Match on an event-sourced aggregate: its ETag is its stream's version, and a change sent with If-Match is
decided only on the state the client read.

The version is checked when the state is loaded; the decision then runs inside `Aggregates.execute`, which appends
with that version expected, so a writer that got in between (here or in another replica) either shows up as a
different state to decide on, or makes the append conflict and the retry see a different state: both are
refused (412) and nothing is appended. Without If-Match the change goes ahead as before (last writer wins).
"""
from __future__ import annotations

from typing import TypeVar

from ttct.contracts import EventMetadata
from ttct.domain.errors import PreconditionFailed
from ttct.domain.versions import check_version
from ttct.eventsourcing.aggregates import Aggregates, Decide, Project

S = TypeVar("S")


def _check(tags: frozenset[str] | None, version: int, what: str, empty_exists: bool) -> None:
    if empty_exists and version == 0 and tags is not None and tags & {"*", "0"}:
        return  # an aggregate that exists before its first event (e.g. an empty roster) is at version 0
    check_version(tags, version, what)


async def execute_versioned(aggregates: Aggregates[S], stream_id: str, decide: Decide[S], metadata: EventMetadata,
                            *, if_match: frozenset[str] | None, what: str, project: Project | None = None,
                            empty_exists: bool = False) -> int:
    """Decide and append as `Aggregates.execute` does, only on the version `if_match` names (when given); the
    stream's version afterwards (the new ETag; unchanged when the decision appended nothing)."""
    if if_match is not None:
        read, version = await aggregates.load(stream_id)
        _check(if_match, version, what, empty_exists)
        unconditional = decide

        def decide(state: S) -> list:
            if state is not read and state != read:
                raise PreconditionFailed(f"{what} changed meanwhile; reload it and try again",
                                         f"{what} vừa được thay đổi; vui lòng tải lại và thử lại")
            return list(unconditional(state))

    envelopes = await aggregates.execute(stream_id, decide, metadata, project=project)
    return envelopes[-1].stream_version if envelopes else await version_of(aggregates, stream_id)


async def version_of(aggregates: Aggregates[S], stream_id: str) -> int:
    """The aggregate's current version: its ETag."""
    return (await aggregates.load(stream_id))[1]
