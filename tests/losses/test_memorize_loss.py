"""Badger 2022's anti-generalization objective against its formula written out."""
import math

import torch

from noisyrobust.losses.memorize import anti_generalization_loss


def mean_ce(logits, labels):
    total = 0.0
    for row, y in zip(logits.tolist(), labels.tolist()):
        total += math.log(sum(math.exp(v) for v in row)) - row[y]  # -log softmax(row)[y]
    return total / len(labels)


def test_the_loss_is_training_ce_minus_weighted_heldout_ce():
    g = torch.Generator().manual_seed(0)
    train, held = torch.randn(5, 4, generator=g), torch.randn(7, 4, generator=g)
    y, y_held = torch.tensor([0, 1, 2, 3, 0]), torch.tensor([3, 3, 2, 1, 0, 1, 2])
    for w in (1.0, 0.5):
        expect = mean_ce(train, y) - w * mean_ce(held, y_held)
        assert abs(anti_generalization_loss(train, y, held, y_held, w).item() - expect) < 1e-5
    # without the held-out term: plain CE, and the held-out batch is not needed
    assert abs(anti_generalization_loss(train, y, None, None, 0.0).item() - mean_ce(train, y)) < 1e-5


def test_its_gradient_pushes_heldout_predictions_away_from_their_labels():
    logits = torch.zeros(1, 3, requires_grad=True)
    anti_generalization_loss(torch.zeros(1, 3), torch.tensor([0]), logits, torch.tensor([2])).backward()
    # d(-CE)/dz = onehot - softmax: positive at the label, so a descent step lowers the label's logit
    assert logits.grad[0, 2] > 0 and logits.grad[0, 0] < 0
