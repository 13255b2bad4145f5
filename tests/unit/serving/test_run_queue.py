"""RunQueue: at most `slots` runs at once, the others waiting first come first served, told how many are ahead."""

import threading
import time

import pytest

from core.serving.run_queue import RunQueue


def run_in_threads(queue: RunQueue, count: int, seconds: float, arrivals_s: float = 0.02):
    """``count`` callers arriving ``arrivals_s`` apart, each holding a slot ``seconds``; returns (the most running at
    once, the order they started in, each caller's on_wait value or None)."""
    lock = threading.Lock()
    now_running, most, started = [0], [0], []
    told: dict[int, int | None] = {}

    def caller(k: int) -> None:
        told[k] = None
        with queue.turn(on_wait=lambda ahead: told.__setitem__(k, ahead)):
            with lock:
                started.append(k)
                now_running[0] += 1
                most[0] = max(most[0], now_running[0])
            time.sleep(seconds)
            with lock:
                now_running[0] -= 1

    threads = []
    for k in range(count):
        threads.append(threading.Thread(target=caller, args=(k,)))
        threads[-1].start()
        time.sleep(arrivals_s)
    for thread in threads:
        thread.join(timeout=30)
    return most[0], started, told


def test_no_more_than_slots_run_at_once():
    queue = RunQueue(slots=2)
    most, started, _ = run_in_threads(queue, count=8, seconds=0.1)
    assert most == 2
    assert sorted(started) == list(range(8))
    assert queue.running == 0 and queue.waiting == 0


def test_waiting_callers_are_served_in_arrival_order_and_told_how_many_are_ahead():
    queue = RunQueue(slots=1)
    _, started, told = run_in_threads(queue, count=5, seconds=0.15, arrivals_s=0.03)
    assert started == [0, 1, 2, 3, 4]
    assert told == {0: None, 1: 1, 2: 2, 3: 3, 4: 4}  # the first ran at once; the k-th had k runs ahead of it


def test_the_waiting_state_is_visible_while_a_caller_waits():
    queue = RunQueue(slots=1)
    release = threading.Event()
    waiting_seen = threading.Event()

    def hold() -> None:
        with queue.turn():
            release.wait(timeout=10)

    def wait_behind() -> None:
        with queue.turn(on_wait=lambda ahead: waiting_seen.set()):
            pass

    holder = threading.Thread(target=hold)
    holder.start()
    while queue.running == 0:
        time.sleep(0.01)
    waiter = threading.Thread(target=wait_behind)
    waiter.start()
    assert waiting_seen.wait(timeout=5)
    assert (queue.running, queue.waiting) == (1, 1)
    release.set()
    holder.join(timeout=5)
    waiter.join(timeout=5)
    assert (queue.running, queue.waiting) == (0, 0)


def test_a_caller_that_stops_while_waiting_leaves_the_line():
    queue = RunQueue(slots=1)
    release = threading.Event()

    def hold() -> None:
        with queue.turn():
            release.wait(timeout=10)

    holder = threading.Thread(target=hold)
    holder.start()
    while queue.running == 0:
        time.sleep(0.01)

    def give_up(ahead: int) -> None:
        raise RuntimeError("the session reran")

    with pytest.raises(RuntimeError):
        with queue.turn(on_wait=give_up):
            pass
    assert queue.waiting == 0
    release.set()
    holder.join(timeout=5)
    with queue.turn(on_wait=lambda ahead: pytest.fail("nobody is ahead")):
        assert queue.running == 1


def test_a_queue_needs_a_slot():
    with pytest.raises(ValueError):
        RunQueue(slots=0)
