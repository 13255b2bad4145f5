"""How much of the first word an RNN still carries, against attention (source chapter §2.1).

An RNN hands its state on one step per word, so if each step keeps a share r, the first word's share after n steps
is rⁿ (0.5¹⁰ ≈ 0.000977). Attention reaches any earlier word in one step, whatever the distance: r¹.
"""

from __future__ import annotations

import numpy as np


def surviving_share(keep_rate: float, steps: int | np.ndarray) -> float | np.ndarray:
    """rⁿ: the share of the first word left after ``steps`` steps that each keep ``keep_rate``."""
    if not 0.0 <= keep_rate <= 1.0:
        raise ValueError(f"keep_rate must lie in [0, 1], got {keep_rate}")
    return keep_rate**steps


def rnn_vs_attention(keep_rate: float, distance: int) -> tuple[float, float]:
    """(RNN: ``distance`` steps back, attention: one step) shares of a word ``distance`` words back."""
    return float(surviving_share(keep_rate, distance)), float(surviving_share(keep_rate, 1))
