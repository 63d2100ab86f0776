"""If-Match on an event-sourced aggregate (ttct.http.conditional) against the real event store: a change is made only on
the version the client read, even when another replica's writer gets in after the check, and a refused change
appends nothing."""
import asyncio
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from helpers import class_opened
from ttct.contracts import EventMetadata
from ttct.domain.errors import PreconditionFailed
from ttct.eventsourcing.aggregates import Aggregates
from ttct.eventsourcing.eventstore import EventStore
from ttct.http.conditional import execute_versioned

pytestmark = pytest.mark.integration
META = EventMetadata(province="thanh-hoa", centre="hau-loc", correlation_id=uuid4())


def replica(store: EventStore) -> Aggregates[int]:
    """An aggregate whose state is how many events it has seen: enough to tell one version from another."""
    return Aggregates(store, lambda: 0, lambda state, _event: state + 1, clock=lambda: datetime.now(UTC),
                      new_id=uuid4)


def one_more(_state: int) -> list:
    return [class_opened()]


async def test_a_matching_if_match_appends_and_answers_the_new_version_a_stale_one_appends_nothing(pool):
    store, stream = EventStore(pool), f"scheduling:class:{uuid4()}"
    here = replica(store)
    assert await execute_versioned(here, stream, one_more, META, if_match=None, what="the class") == 1
    assert await execute_versioned(here, stream, one_more, META, if_match=frozenset({"1"}), what="the class") == 2
    assert await execute_versioned(here, stream, one_more, META, if_match=frozenset({"*"}), what="the class") == 3
    with pytest.raises(PreconditionFailed) as refused:
        await execute_versioned(here, stream, one_more, META, if_match=frozenset({"2", "1"}), what="the class")
    assert refused.value.extra["current_version"] == 3
    assert await execute_versioned(here, stream, lambda _: [], META, if_match=frozenset({"3"}), what="x") == 3
    assert await store.version(stream) == 3


async def test_a_writer_in_another_replica_between_the_check_and_the_decision_makes_it_412(pool):
    store, stream = EventStore(pool), f"scheduling:class:{uuid4()}"
    other = replica(store)
    await other.execute(stream, one_more, META)

    class Overtaken(Aggregates):
        async def execute(self, *args, **kwargs):  # the other replica writes right after our version check
            await other.execute(stream, one_more, META)
            return await super().execute(*args, **kwargs)

    here = Overtaken(store, lambda: 0, lambda state, _event: state + 1, clock=lambda: datetime.now(UTC), new_id=uuid4)
    with pytest.raises(PreconditionFailed):
        await execute_versioned(here, stream, one_more, META, if_match=frozenset({"1"}), what="the class")
    assert await store.version(stream) == 2  # the other replica's event only


async def test_a_writer_in_another_replica_between_the_decision_and_the_append_makes_it_412(pool):
    class RacedStore(EventStore):
        raced = False

        async def append(self, envelopes, expected_version, *, conn=None):
            if not self.raced:  # the other replica's append lands first, on the same version
                self.raced = True
                await replica(EventStore(pool)).execute(stream, one_more, META)
            return await super().append(envelopes, expected_version, conn=conn)

    store, stream = RacedStore(pool), f"scheduling:class:{uuid4()}"
    await replica(EventStore(pool)).execute(stream, one_more, META)
    store.raced = False
    with pytest.raises(PreconditionFailed):
        await execute_versioned(replica(store), stream, one_more, META, if_match=frozenset({"1"}), what="the class")
    assert await store.version(stream) == 2


async def test_an_empty_aggregate_matches_version_0_when_it_exists_before_its_first_event(pool):
    store, stream = EventStore(pool), f"enrolment:roster:{uuid4()}"
    here = replica(store)
    with pytest.raises(PreconditionFailed):
        await execute_versioned(here, stream, one_more, META, if_match=frozenset({"0"}), what="a class")
    assert await execute_versioned(here, stream, one_more, META, if_match=frozenset({"0"}), what="a roster",
                                   empty_exists=True) == 1
    results = await asyncio.gather(*(execute_versioned(replica(store), stream, one_more, META,
                                                       if_match=frozenset({"1"}), what="a roster")
                                     for _ in range(5)), return_exceptions=True)
    assert sum(1 for r in results if r == 2) == 1  # of five clients who read version 1, exactly one wins
    assert all(isinstance(r, PreconditionFailed) for r in results if r != 2)
    assert await store.version(stream) == 2
