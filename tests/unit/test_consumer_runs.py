"""Batched projection handlers (ttct.eventsourcing.consumer.batched): a run of events is split into rounds in which no row key
repeats, each key's events keep their order, and applying the rounds one after another is applying the events
one by one."""
import pytest
from ttct.eventsourcing.consumer import batched, is_batched, rounds

pytestmark = pytest.mark.unit


def test_rounds_keep_each_keys_order_and_never_repeat_a_key_in_one_round():
    items = [("a", 1), ("b", 1), ("a", 2), ("c", 1), ("a", 3), ("b", 2)]
    parts = rounds(items, key=lambda item: item[0])
    assert parts == [[("a", 1), ("b", 1), ("c", 1)], [("a", 2), ("b", 2)], [("a", 3)]]
    for part in parts:
        assert len({k for k, _ in part}) == len(part)
    replayed: dict[str, list[int]] = {}
    for part in parts:
        for k, v in part:
            replayed.setdefault(k, []).append(v)
    assert replayed == {"a": [1, 2, 3], "b": [1, 2], "c": [1]}


def test_a_run_of_distinct_rows_is_one_round():
    items = [(i, "enrolled") for i in range(200)]
    assert rounds(items, key=lambda item: item[0]) == [items]


def test_batched_marks_a_handler():
    async def seats(conn, items):
        return None

    assert not is_batched(seats)
    assert is_batched(batched(seats)) and batched(seats) is seats
