"""§2.1: an RNN keeps r^n of the first word after n steps; attention reaches it in one step."""

import numpy as np
import pytest

from core.analysis.rnn_memory import rnn_vs_attention, surviving_share


def test_half_kept_per_step_leaves_under_a_thousandth_after_ten_steps():
    assert surviving_share(0.5, 10) == pytest.approx(0.0009765625)
    assert surviving_share(0.5, 10) < 0.001


def test_the_share_fades_geometrically_over_steps():
    assert np.allclose(surviving_share(0.9, np.arange(4)), [1.0, 0.9, 0.81, 0.729])


def test_attention_is_one_step_away_whatever_the_distance():
    assert rnn_vs_attention(0.5, 10) == pytest.approx((0.5**10, 0.5))
    assert rnn_vs_attention(0.5, 100)[1] == 0.5


def test_a_keep_rate_outside_zero_to_one_is_rejected():
    with pytest.raises(ValueError):
        surviving_share(1.5, 3)
