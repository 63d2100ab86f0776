"""How often a service process (and a tool replaying its events) runs CPython's cyclic garbage collector.

CPython collects its youngest generation after every 700 net allocations of container objects. A consumer batch
keeps several thousand alive at once (up to 200 envelopes and their events, the dicts JSON made of them, the
run's arrays), so each batch's objects outlived two young collections, were promoted to the oldest generation,
and every time that grew by a quarter a full collection walked the whole heap: about 15 µs of CPU per event a
rebuild replayed, a fifth of it (measured with `gc.callbacks`; docs/performance.md). Those objects hold no cycles:
reference counting frees them when the batch is done. They only need to die young, so the youngest generation
is collected after more allocations than a batch makes. The older generations keep their ratios, and garbage
that does form cycles is still collected, a little later: at most a few megabytes of it wait.
"""
from __future__ import annotations

import gc

YOUNG_GENERATION = 20_000
"""Net container allocations between two collections of the youngest generation (CPython's default: 700)."""


def pace_collector(young_generation: int = YOUNG_GENERATION) -> tuple[int, int, int]:
    """Collect the youngest generation after `young_generation` allocations; the thresholds it replaced."""
    before = gc.get_threshold()
    gc.set_threshold(young_generation, *before[1:])
    return before
