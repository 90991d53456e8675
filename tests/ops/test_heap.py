"""Start-up's objects are frozen out of the garbage collector (shopdesk/heap.py)."""

from __future__ import annotations

import gc
import weakref

from shopdesk.heap import freeze_startup


class _Node:
    other: object = None


def test_what_start_up_made_is_frozen_and_its_garbage_collected_first():
    gc.unfreeze()
    alive = [object() for _ in range(3)]  # noqa: F841 — held: it must be frozen
    cycle = _Node()
    cycle.other = cycle  # start-up's garbage: collected, not frozen
    garbage = weakref.ref(cycle)
    del cycle
    try:
        frozen = freeze_startup()
        assert frozen == gc.get_freeze_count() > 0
        assert garbage() is None
        # A full collection no longer walks the frozen objects.
        assert len(gc.get_objects()) < frozen
    finally:
        gc.unfreeze()
