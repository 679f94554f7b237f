"""ForgetRateSchedule R(t) (Han et al. 2018 reference code): for t < T_k the value is
np.linspace(0, tau**c, T_k)[t], afterwards tau."""
import math

import numpy as np
import pytest

from noisyrobust.errors import UserError
from noisyrobust.selection import ForgetRateSchedule


def reference_schedule(tau, num_gradual, exponent, n_epoch):
    """The reference code's plan, written out: ones * tau, first T_k entries replaced by a linspace."""
    plan = np.ones(n_epoch) * tau
    plan[:num_gradual] = np.linspace(0, tau ** exponent, num_gradual)
    return plan


def values(schedule, n_epoch):
    return [schedule(epoch) for epoch in range(n_epoch)]


def test_default_schedule_ramps_linearly_over_ten_epochs_then_holds_tau():
    sched = ForgetRateSchedule(0.5)
    expected = list(np.linspace(0, 0.5, 10)) + [0.5] * 10
    assert values(sched, 20) == pytest.approx(expected, abs=1e-12)


def test_ramp_values_written_out():
    sched = ForgetRateSchedule(0.45, num_gradual=10)
    assert sched(0) == 0.0
    assert sched(1) == pytest.approx(0.45 / 9)
    assert sched(3) == pytest.approx(0.45 * 3 / 9)
    assert sched(9) == pytest.approx(0.45)
    assert sched(10) == 0.45
    assert sched(199) == 0.45


@pytest.mark.parametrize("tau, num_gradual", [(0.2, 10), (0.8, 5), (0.45, 3), (0.5, 2), (1.0, 4), (0.0, 10)])
def test_schedule_matches_reference_linspace(tau, num_gradual):
    assert values(ForgetRateSchedule(tau, num_gradual), 30) == pytest.approx(
        list(reference_schedule(tau, num_gradual, 1, 30)), abs=1e-12)


def test_exponent_two_ramps_to_tau_squared_then_jumps_to_tau():
    sched = ForgetRateSchedule(0.5, num_gradual=10, exponent=2)
    assert values(sched, 15) == pytest.approx(list(np.linspace(0, 0.25, 10)) + [0.5] * 5, abs=1e-12)
    assert sched(9) == pytest.approx(0.25)
    assert sched(10) == 0.5


def test_exponent_half_matches_reference_linspace():
    sched = ForgetRateSchedule(0.36, num_gradual=4, exponent=0.5)
    assert values(sched, 8) == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.36, 0.36, 0.36, 0.36], abs=1e-12)
    assert sched(3) == pytest.approx(math.sqrt(0.36))


def test_num_gradual_zero_holds_tau_from_the_first_epoch():
    sched = ForgetRateSchedule(0.3, num_gradual=0)
    assert values(sched, 5) == [0.3] * 5
    assert values(sched, 5) == pytest.approx(list(reference_schedule(0.3, 0, 1, 5)))


def test_num_gradual_one_is_zero_at_epoch_zero_then_tau_as_linspace():
    # np.linspace(0, tau**c, 1) == [0.]: the reference forgets nothing in epoch 0
    assert list(np.linspace(0, 0.3, 1)) == [0.0]
    sched = ForgetRateSchedule(0.3, num_gradual=1)
    assert values(sched, 4) == pytest.approx([0.0, 0.3, 0.3, 0.3], abs=1e-12)
    assert values(ForgetRateSchedule(0.3, num_gradual=1, exponent=2), 3) == pytest.approx([0.0, 0.3, 0.3])


@pytest.mark.parametrize("tau", [0.0, 1.0])
def test_forget_rate_bounds_are_accepted(tau):
    assert ForgetRateSchedule(tau)(50) == tau


@pytest.mark.parametrize("tau", [-0.1, 1.01, 2.0, float("nan")])
def test_forget_rate_outside_unit_interval_raises_user_error(tau):
    with pytest.raises(UserError, match="forget_rate"):
        ForgetRateSchedule(tau)


def test_negative_num_gradual_raises_user_error():
    with pytest.raises(UserError, match="num_gradual"):
        ForgetRateSchedule(0.2, num_gradual=-1)
