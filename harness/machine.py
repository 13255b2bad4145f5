"""What a benchmark prints about the machine it ran on: versions, threads, CPUs and how busy they were."""

from __future__ import annotations

import os
import platform


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
