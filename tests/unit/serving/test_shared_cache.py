"""SharedCache: bounded by entries and bytes (least recently used first out), one computation per key."""

import threading
import time
from dataclasses import dataclass

import numpy as np
import pytest

from core.serving.shared_cache import SharedCache, freeze, nbytes


def test_it_keeps_at_most_max_entries_and_drops_the_least_recently_used():
    cache: SharedCache[str] = SharedCache(max_entries=3)
    for key in "abc":
        cache.get_or_compute(key, lambda key=key: key.upper())
    assert cache.get("a") == "A"  # "a" is now the most recently used, "b" the least
    cache.get_or_compute("d", lambda: "D")
    assert len(cache) == 3
    assert "b" not in cache
    assert all(key in cache for key in "acd")
    assert cache.stats.evictions == 1


def test_it_keeps_at_most_max_bytes_of_arrays():
    cache: SharedCache[np.ndarray] = SharedCache(max_entries=100, max_bytes=10_000)
    for k in range(10):
        cache.get_or_compute(k, lambda: np.zeros(300))  # 2,400 bytes each: 4 fit
        assert cache.bytes <= 10_000
    assert len(cache) == 4
    assert [k in cache for k in range(10)] == [False] * 6 + [True] * 4


def test_a_value_bigger_than_the_whole_budget_is_returned_but_not_kept():
    cache: SharedCache[np.ndarray] = SharedCache(max_entries=10, max_bytes=1_000)
    kept = cache.get_or_compute("small", lambda: np.zeros(10))
    big = cache.get_or_compute("big", lambda: np.zeros(1_000))
    assert big.shape == (1_000,)
    assert "big" not in cache and "small" in cache
    assert cache.get("small") is kept


def test_callers_of_the_same_key_at_once_share_one_computation():
    cache: SharedCache[object] = SharedCache(max_entries=4)
    calls = []
    start = threading.Barrier(16)
    results: list[object] = []

    def compute():
        calls.append(1)
        time.sleep(0.2)  # long enough for every other thread to ask meanwhile
        return object()

    def ask():
        start.wait()
        results.append(cache.get_or_compute("same link", compute))

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(calls) == 1
    assert len(results) == 16 and all(result is results[0] for result in results)
    assert cache.stats.misses == 1 and cache.stats.hits == 15


def test_different_keys_are_computed_at_the_same_time():
    cache: SharedCache[int] = SharedCache(max_entries=4)
    both_inside = threading.Barrier(2, timeout=5)  # breaks (BrokenBarrierError) if the two computations were serial

    def compute(value: int) -> int:
        both_inside.wait()
        return value

    threads = [threading.Thread(target=cache.get_or_compute, args=(k, lambda k=k: compute(k))) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not both_inside.broken
    assert cache.get(0) == 0 and cache.get(1) == 1


def test_a_failed_computation_reaches_its_caller_and_is_not_kept():
    cache: SharedCache[str] = SharedCache(max_entries=4)

    def fail() -> str:
        raise ValueError("empty text")

    with pytest.raises(ValueError, match="empty text"):
        cache.get_or_compute("k", fail)
    assert "k" not in cache
    assert cache.get_or_compute("k", lambda: "computed again") == "computed again"


@dataclass
class Result:
    attentions: np.ndarray
    layers: tuple[np.ndarray, ...]
    name: str


def test_freeze_makes_every_array_inside_read_only():
    result = freeze(Result(np.ones((2, 3)), (np.zeros(4), np.zeros(5)), "x"))
    for array in (result.attentions, *result.layers):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 7


def test_nbytes_counts_the_arrays_and_strings_of_nested_values():
    result = Result(np.ones((2, 3), dtype=np.float32), (np.zeros(4), np.zeros(5)), "x")
    assert nbytes(result) == 2 * 3 * 4 + 4 * 8 + 5 * 8 + 1
    assert nbytes({"a": result, "b": [np.zeros(2)], "page": "<html>"}) == nbytes(result) + 16 + 6
    assert nbytes(3.5) == 0


def test_a_cache_needs_room_for_one_entry():
    with pytest.raises(ValueError):
        SharedCache(max_entries=0)
