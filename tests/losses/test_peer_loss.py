"""Peer loss against -log(p_y + 1e-5) - α (-log(p_y' + 1e-5)) written out, and the authors' α plan."""
import math

import pytest
import torch

from noisyrobust.losses.peer import peer_alpha, peer_loss, stable_nll

LOGITS = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
PEER_LOGITS = torch.tensor([[0.0, 1.0, 0.0], [-3.0, 0.0, 3.0]])


def softmax(row):
    e = [math.exp(v) for v in row]
    return [v / sum(e) for v in e]


def test_stable_nll_is_minus_log_of_p_plus_1e_5():
    y = torch.tensor([0, 2])
    want = [-math.log(softmax(LOGITS[i].tolist())[int(y[i])] + 1e-5) for i in range(2)]
    assert stable_nll(LOGITS, y).tolist() == pytest.approx(want, rel=1e-6)


def test_peer_loss_subtracts_alpha_times_the_loss_on_the_peer_pair():
    y, y_peer = torch.tensor([0, 2]), torch.tensor([1, 0])
    got = peer_loss(LOGITS, y, PEER_LOGITS, y_peer, alpha=0.7)
    want = [-math.log(softmax(LOGITS[i].tolist())[int(y[i])] + 1e-5)
            + 0.7 * math.log(softmax(PEER_LOGITS[i].tolist())[int(y_peer[i])] + 1e-5) for i in range(2)]
    assert got.tolist() == pytest.approx(want, rel=1e-6)


def test_the_peer_term_is_bounded_where_the_peer_probability_vanishes():
    far = torch.tensor([[0.0, -200.0]])
    assert stable_nll(far, torch.tensor([1])).item() == pytest.approx(-math.log(1e-5), rel=1e-6)


@pytest.mark.parametrize("epoch, dense, sparse", [
    (0, 0.0, 0.0), (19, 0.0, 0.0),                      # 20 epochs of 0
    (20, 0.0, 0.0), (39, 0.1, 1.0),                     # linspace(0, 0.1 | 1, 20)
    (40, 1.0, 1.0), (89, 2.0, 2.0),                     # dense jumps to 1; linspace(1, 2, 50)
    (90, 2.0, 2.0), (139, 2.5, 5.0),                    # linspace(2, 2.5 | 5, 50)
    (140, 2.5, 5.0), (239, 3.3, 10.0),                  # linspace(2.5 | 5, 3.3 | 10, 100)
    (240, 3.3, 10.0), (299, 3.3 + 1.7 * 59 / 99, 10 + 10 * 59 / 99),  # the authors' runs end here
    (339, 5.0, 20.0), (500, 5.0, 20.0)])
def test_alpha_follows_the_authors_concatenated_linspaces(epoch, dense, sparse):
    assert peer_alpha(epoch, schedule="dense") == pytest.approx(dense)
    assert peer_alpha(epoch, schedule="sparse") == pytest.approx(sparse)


def test_alpha_inside_a_segment_is_linear_and_a_fractional_epoch_takes_its_epochs_value():
    assert peer_alpha(64, schedule="dense") == pytest.approx(1.0 + 24 / 49)  # linspace(1, 2, 50)[24]
    assert peer_alpha(64.9, schedule="dense") == peer_alpha(64, schedule="dense")
