"""What a benchmark prints about the machine it ran on: versions, threads, CPUs and how busy they were; and the CPU
time and resident memory of a server it started (the process and its children, as psutil sees them)."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import psutil


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages, e.g. "1.22 1.83 1.74": other jobs on these CPUs slow a timing."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def torch_setup() -> str:
    """Python, torch (with its thread count) and transformers versions, the CPU count and the load average."""
    import torch
    import transformers

    threads = torch.get_num_threads()
    return (
        f"python {platform.python_version()}, torch {torch.__version__} ({threads} thread{'s' * (threads != 1)}), "
        f"transformers {transformers.__version__}, {os.cpu_count()} CPUs, load average {load_average()}"
    )


def _tree(process) -> list[psutil.Process]:
    """``process`` (anything with a ``pid``: a Popen) and its children, recursively."""
    root = psutil.Process(process.pid)
    return [root, *root.children(recursive=True)]


def cpu_seconds(process) -> float:
    """User + system CPU seconds so far of the process and its children (0 once it has exited)."""
    try:
        tree = _tree(process)
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for p in tree:
        try:
            times = p.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def rss_mb(process) -> float:
    """Resident MB of the process and its children, now."""
    total = 0
    for p in _tree(process):
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


def peak_mb(process) -> float:
    """Sum over the process tree of each process's peak resident memory (VmHWM, Linux); NaN elsewhere."""
    total = 0
    for p in _tree(process):
        try:
            for line in Path(f"/proc/{p.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) * 1024
        except (OSError, psutil.NoSuchProcess):
            pass
    return total / 2**20 if total else float("nan")
