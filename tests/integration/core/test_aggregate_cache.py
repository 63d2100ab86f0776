"""The aggregates' cache against the real event store: bounded by the events its states fold, not only by how many
streams it holds (a province's year of rosters would otherwise take gigabytes), and a state dropped from it is read
again whole, so no command decides on less than every event."""
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from helpers import class_opened
from ttct.contracts import EventMetadata
from ttct.eventsourcing.aggregates import Aggregates
from ttct.eventsourcing.eventstore import EventStore

pytestmark = pytest.mark.integration
META = EventMetadata(province="thanh-hoa", centre="hau-loc", correlation_id=uuid4())


def counting(store: EventStore, cache_events: int) -> Aggregates[int]:
    """An aggregate whose state is how many events it has folded."""
    return Aggregates(store, lambda: 0, lambda state, _event: state + 1, clock=lambda: datetime.now(UTC),
                      new_id=uuid4, cache_events=cache_events)


def one_more(_state: int) -> list:
    return [class_opened()]


async def test_the_cache_keeps_at_most_its_events_and_a_dropped_state_is_read_again_whole(pool):
    store = EventStore(pool)
    classes = counting(store, cache_events=10)
    first, second = f"scheduling:class:{uuid4()}", f"scheduling:class:{uuid4()}"
    for _ in range(6):
        await classes.execute(first, one_more, META)
    assert classes.cached == (1, 6)
    for _ in range(6):
        await classes.execute(second, one_more, META)
    assert classes.cached == (1, 6)  # the first class's six events went when the second's reached 6 + 5 > 10

    seen: list[int] = []
    appended = await classes.execute(first, lambda state: seen.append(state) or [class_opened()], META)
    assert seen == [6] and appended[0].stream_version == 7  # every event read again, no lost race
    assert classes.cached == (1, 7)
    assert (await counting(store, cache_events=10).load(first)) == (7, 7)


async def test_a_state_larger_than_the_whole_cache_stays_while_it_is_the_one_in_use(pool):
    store = EventStore(pool)
    classes = counting(store, cache_events=3)
    stream = f"scheduling:class:{uuid4()}"
    for _ in range(5):
        await classes.execute(stream, one_more, META)
    assert classes.cached == (1, 5)
    small = f"scheduling:class:{uuid4()}"
    await classes.execute(small, one_more, META)
    assert classes.cached == (1, 1)
    assert await classes.load(stream) == (5, 5)


async def test_a_kind_bounded_by_streams_keeps_long_streams_whole_and_a_fold_reads_each_stream_at_once(pool):
    store, folded = EventStore(pool), []

    def fold(state: int, events) -> int:
        folded.append(len(events))
        return state + len(events)

    registers = Aggregates(store, lambda: 0, lambda state, _event: state + 1, clock=lambda: datetime.now(UTC),
                           new_id=uuid4, cache_events=None, cache_size=2, fold=fold)
    streams = [f"scheduling:class:{uuid4()}" for _ in range(3)]
    for stream in streams[:2]:
        for _ in range(20):
            await registers.execute(stream, one_more, META)
    assert registers.cached == (2, 40)  # no bound on events: both long streams stay
    await registers.execute(streams[2], one_more, META)
    assert registers.cached == (2, 21)  # the bound on streams still holds: the least recently used went

    folded.clear()
    assert await registers.load(streams[0]) == (20, 20)  # read again whole…
    assert folded == [20]  # …its twenty events folded in one call


async def test_a_replica_deciding_on_its_cached_state_sees_another_replica_s_events_before_it_appends_or_refuses(pool):
    store = EventStore(pool)
    here, there = counting(store, cache_events=100), counting(store, cache_events=100)
    stream = f"scheduling:class:{uuid4()}"
    await here.execute(stream, one_more, META)
    await there.execute(stream, one_more, META)  # `here` still caches version 1

    seen: list[int] = []
    appended = await here.execute(stream, lambda state: seen.append(state) or [class_opened()], META)
    assert seen == [1, 2] and appended[0].stream_version == 3  # decided on the cache, conflicted, decided again

    await there.execute(stream, one_more, META)  # version 4; `here` caches 3

    def at_most_three(state: int) -> list:
        if state >= 3:
            raise ValueError(f"already {state}")
        return [class_opened()]

    with pytest.raises(ValueError, match="already 4"):  # the refusal is given on the stream as stored
        await here.execute(stream, at_most_three, META)
    await there.execute(stream, one_more, META)  # 5
    assert await here.execute(stream, lambda state: [] if state == 4 else [class_opened()], META) != []
    assert await store.version(stream) == 6  # "nothing to do" on the cached 4 was checked against the stored 5
