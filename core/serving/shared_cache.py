"""A cache shared by every session of a process: bounded, least recently used, one computation per key.

Forty people opening the same link ask for the same result at the same moment. ``SharedCache.get_or_compute`` lets
the first of them compute it while the others wait for that result (a lock per key: *single flight*), then hands
every caller the same object: no copy per session, so values must be treated as read-only (``freeze`` makes the
NumPy arrays in them read-only, so that a write fails loudly instead of changing what others see).

The cache holds at most ``max_entries`` values and at most ``max_bytes`` bytes as ``size_of`` counts them; the least
recently used values go first. A value bigger than ``max_bytes`` on its own is returned but not kept.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

V = TypeVar("V")


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0  # computations run
    evictions: int = 0


def nbytes(value: object) -> int:
    """Bytes held by the NumPy arrays and strings in ``value``: an array or a string (its length), or dataclasses,
    tuples, lists and dicts of them; anything else counts 0."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, (str, bytes)):
        return len(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(nbytes(getattr(value, field.name)) for field in dataclasses.fields(value))
    if isinstance(value, (tuple, list)):
        return sum(nbytes(item) for item in value)
    if isinstance(value, dict):
        return sum(nbytes(item) for item in value.values())
    return 0


def freeze(value: V) -> V:
    """``value`` with every NumPy array in it (through dataclasses, tuples, lists and dicts) made read-only."""
    if isinstance(value, np.ndarray):
        value.setflags(write=False)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            freeze(getattr(value, field.name))
    elif isinstance(value, (tuple, list)):
        for item in value:
            freeze(item)
    elif isinstance(value, dict):
        for item in value.values():
            freeze(item)
    return value


class SharedCache(Generic[V]):
    """A thread-safe LRU cache bounded by entries and bytes, computing each missing key once."""

    def __init__(self, max_entries: int, max_bytes: int | None = None, size_of: Callable[[V], int] = nbytes) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, not {max_entries}")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.size_of = size_of
        self.stats = CacheStats()
        self._values: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()  # key → (value, bytes), oldest first
        self._bytes = 0
        self._lock = threading.Lock()  # guards _values, _bytes, stats and _key_locks
        self._key_locks: dict[Hashable, threading.Lock] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._values

    @property
    def bytes(self) -> int:
        """Bytes held now, as ``size_of`` counts them."""
        with self._lock:
            return self._bytes

    def get(self, key: Hashable) -> V | None:
        """The value kept for ``key`` (now the most recently used), or None."""
        with self._lock:
            return self._hit(key)

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The value for ``key``: kept, or computed by ``compute()`` once however many threads ask at the same time
        (the others wait for it). An exception from ``compute`` reaches its caller and nothing is kept."""
        with self._lock:
            value = self._hit(key)
            if value is not None:
                return value
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:  # computed by another thread while this one waited?
                value = self._hit(key)
                if value is not None:
                    return value
                self.stats.misses += 1
            try:
                value = compute()
                self._keep(key, value)
            finally:
                with self._lock:
                    self._key_locks.pop(key, None)
        return value

    def _hit(self, key: Hashable) -> V | None:
        entry = self._values.get(key)
        if entry is None:
            return None
        self._values.move_to_end(key)
        self.stats.hits += 1
        return entry[0]

    def _keep(self, key: Hashable, value: V) -> None:
        size = self.size_of(value)
        if self.max_bytes is not None and size > self.max_bytes:
            return
        with self._lock:
            self._values[key] = (value, size)
            self._bytes += size
            while len(self._values) > self.max_entries or (self.max_bytes is not None and self._bytes > self.max_bytes):
                _, (_, evicted) = self._values.popitem(last=False)
                self._bytes -= evicted
                self.stats.evictions += 1
