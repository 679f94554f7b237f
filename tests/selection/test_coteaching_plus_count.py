"""Co-teaching+'s kept count inside the disagreement set: floor((1 - R)|D|) exactly, also when |D| is a
device tensor (float32 arithmetic fell one short: |D| = 75, R = 0.16 kept 62, not 63)."""
from fractions import Fraction

import pytest
import torch

from noisyrobust.selection import num_to_keep


def exact(n: int, rate: float) -> int:
    # the rate as the decimal a user writes (0.16), so floor is taken on the exact rational (1 - R) n
    return int((1 - Fraction(repr(rate))) * n // 1)


@pytest.mark.parametrize("n, rate, expected", [(75, 0.16, 63), (100, 0.41, 59)])
def test_the_two_reported_cases(n, rate, expected):
    assert float32_count(n, rate) == expected - 1  # the old float32 computation, for the record
    assert int(num_to_keep(torch.tensor(n), rate)) == expected


def float32_count(n, rate):
    return int(((1.0 - rate) * torch.tensor(n).float() + 1e-6).floor())


def test_tensor_count_equals_the_exact_floor_over_many_pairs():
    rates = [round(r / 100, 2) for r in range(0, 101)]
    for n in range(0, 301):
        counts = torch.tensor(n)
        for rate in rates:
            assert int(num_to_keep(counts, rate)) == exact(n, rate) == num_to_keep(n, rate), (n, rate)
