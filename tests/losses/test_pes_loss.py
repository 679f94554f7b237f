"""PES's class-weighted CE on the confident samples: PyTorch's CrossEntropyLoss(weight=w) over the kept rows
(normalized by the weights of those rows, not by the batch size)."""
import math

import pytest
import torch

from noisyrobust.losses.dividemix import semi_supervised_loss
from noisyrobust.losses.pes import weighted_cross_entropy


def test_weighted_cross_entropy_is_normalized_by_the_kept_rows_weights():
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 3.0], [1.0, 1.0, 1.0]])
    labels = torch.tensor([0, 1, 2, 0])
    w = torch.tensor([0.5, 2.0, 1.0])
    kept = torch.tensor([True, True, False, True])
    rows, y = logits.tolist(), labels.tolist()
    ce = [-math.log(math.exp(rows[i][y[i]]) / sum(math.exp(v) for v in rows[i])) for i in range(4)]
    expected = (0.5 * ce[0] + 2.0 * ce[1] + 0.5 * ce[3]) / (0.5 + 2.0 + 0.5)
    assert weighted_cross_entropy(logits, labels, w, kept).item() == pytest.approx(expected, rel=1e-6)
    reference = torch.nn.CrossEntropyLoss(weight=w)(logits[kept], labels[kept])
    assert weighted_cross_entropy(logits, labels, w, kept).item() == pytest.approx(reference.item(), rel=1e-6)
    assert weighted_cross_entropy(logits, labels, w, torch.zeros(4, dtype=torch.bool)).item() == 0.0


def test_pes_semi_lx_weights_each_class_term():
    logits = torch.tensor([[1.0, 0.0], [0.0, 2.0], [0.5, 0.5]])
    t = torch.tensor([[0.8, 0.2], [0.3, 0.7], [0.5, 0.5]])
    w = torch.tensor([3.0, 0.5])
    labelled = torch.tensor([True, True, False])
    logp = torch.log_softmax(logits, 1)
    expected = -sum(float(w[c] * t[i, c] * logp[i, c]) for i in (0, 1) for c in (0, 1)) / 2  # Σ_c w_c mean_i(-t log p)
    lx, _ = semi_supervised_loss(logits, t, labelled, class_weight=w)
    assert lx.item() == pytest.approx(expected, rel=1e-6)
