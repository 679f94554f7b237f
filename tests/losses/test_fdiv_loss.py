"""The f-divergence losses against -g(p_y(x)) + f*(g(p_y'(x'))) written out for each divergence."""
import math

import pytest
import torch

from noisyrobust.errors import UserError
from noisyrobust.losses.fdiv import check_divergence, f_divergence_loss

LOGITS = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
PEER_LOGITS = torch.tensor([[0.0, 1.0, 0.0], [-3.0, 0.0, 3.0]])
Y, Y_PEER = torch.tensor([0, 2]), torch.tensor([1, 0])

# (g, f*(g)) as functions of the probability x, from the paper's table of variational forms
FORMS = {
    "total_variation": (lambda x: math.tanh(x) / 2, lambda x: math.tanh(x) / 2),
    "kl": (lambda x: x, lambda x: math.exp(x - 1)),
    "jensen_shannon": (lambda x: math.log(2) - math.log(1 + math.exp(-x)),
                       lambda x: -math.log(2 - math.exp(math.log(2) - math.log(1 + math.exp(-x))))),
    "pearson": (lambda x: x, lambda x: x * x / 4 + x),
    "jeffrey": (lambda x: x, lambda x: x + x * x / 4 + x ** 3 / 16),
}


def prob(logits, i, k):
    e = [math.exp(v) for v in logits[i].tolist()]
    return e[k] / sum(e)


@pytest.mark.parametrize("name", FORMS)
def test_each_divergence_is_minus_g_on_the_sample_plus_the_conjugate_on_the_peer(name):
    g, fstar = FORMS[name]
    got = f_divergence_loss(LOGITS, Y, PEER_LOGITS, Y_PEER, divergence=name)
    want = [-g(prob(LOGITS, i, int(Y[i]))) + fstar(prob(PEER_LOGITS, i, int(Y_PEER[i]))) for i in range(2)]
    assert got.tolist() == pytest.approx(want, rel=1e-5, abs=1e-6)


def test_an_unknown_divergence_is_refused_naming_the_choices():
    with pytest.raises(UserError, match="'hellinger' is not one of total_variation, kl"):
        check_divergence("hellinger")
