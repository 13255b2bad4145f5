"""At most ``slots`` model runs at a time; the rest wait their turn, in arrival order.

Forty sessions that each start a model run on a two-core server would otherwise share the cores forty ways: every
run finishes late, and the first to ask waits as long as the last. ``RunQueue.turn`` runs ``slots`` of them at once
(about one per core) and queues the others first come, first served, so the first to ask is answered first and a
session's wait is bounded by the runs ahead of it. A caller that has to wait is told how many runs are ahead of it
(``on_wait(ahead)``), once, before it blocks: the page shows that as its waiting state.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Callable, Iterator


class RunQueue:
    """A first-come, first-served bound on concurrent runs."""

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError(f"a queue needs at least one slot, not {slots}")
        self.slots = slots
        self._running = 0
        self._waiting: deque[object] = deque()  # one ticket per waiting caller, first in line first
        self._changed = threading.Condition()

    @property
    def running(self) -> int:
        with self._changed:
            return self._running

    @property
    def waiting(self) -> int:
        with self._changed:
            return len(self._waiting)

    @contextlib.contextmanager
    def turn(self, on_wait: Callable[[int], None] | None = None) -> Iterator[None]:
        """Hold one slot for the block. When none is free (or others already wait), call ``on_wait(ahead)`` with the
        number of runs ahead of this one (running and waiting), then wait until it is this caller's turn."""
        ticket = object()
        with self._changed:
            if self._running < self.slots and not self._waiting:
                self._running += 1
                ahead = 0
            else:
                ahead = self._running + len(self._waiting)
                self._waiting.append(ticket)
        if ahead:
            try:
                if on_wait is not None:
                    on_wait(ahead)
                with self._changed:
                    self._changed.wait_for(lambda: self._waiting[0] is ticket and self._running < self.slots)
                    self._waiting.popleft()
                    self._running += 1
                    self._changed.notify_all()  # the next in line may fit too
            except BaseException:  # a caller stopped while waiting (its session rerun, say) leaves the line
                with self._changed:
                    if ticket in self._waiting:
                        self._waiting.remove(ticket)
                    self._changed.notify_all()
                raise
        try:
            yield
        finally:
            with self._changed:
                self._running -= 1
                self._changed.notify_all()
