"""The collector's pace: a consumer batch's objects die young, garbage with cycles is still collected."""
import gc

import pytest

from ttct.operations.collector import YOUNG_GENERATION, pace_collector

pytestmark = pytest.mark.unit


@pytest.fixture
def thresholds():
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_the_youngest_generation_waits_for_more_allocations_than_a_batch_makes_and_the_older_keep_their_ratios(
        thresholds):
    older = gc.get_threshold()[1:]
    replaced = pace_collector()
    assert gc.get_threshold() == (YOUNG_GENERATION, *older)
    assert replaced[1:] == older


def test_garbage_with_cycles_is_still_collected(thresholds):
    class Node:
        pass

    pace_collector()
    gc.collect()
    for _ in range(5 * YOUNG_GENERATION):  # cycles nobody refers to any more
        a, b = Node(), Node()
        a.other, b.other = b, a
    del a, b
    assert len([o for o in gc.get_objects() if isinstance(o, Node)]) < 2 * 2 * YOUNG_GENERATION
