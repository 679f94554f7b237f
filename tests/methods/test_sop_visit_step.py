"""SOP's u/v step per sample visit: the paper's rates at its own 300 epochs and batch 128 are taken as they are
(the CIFAR protocols unchanged), and any other run gets the paper's total step per sample."""
import pytest
import torch

from noisyrobust.methods import SOP


class _Trainer:
    def __init__(self, max_epochs):
        self.max_epochs = max_epochs


@pytest.mark.parametrize("epochs, local_batch, reference_epochs, scale", [
    (300, 128, 300, 1.0),     # the paper's protocol: lr_u * the gradient of the batch mean, as before
    (50, 128, 300, 6.0),      # 6x fewer visits: 6x the step per visit
    (300, 64, 300, 0.5),      # a rank holding half of the global batch 128 (or a batch of 64): per-sample gradient / 128
    (50, 32, 300, 1.5),
    (50, 128, None, 1.0),     # reference_epochs null: per visit at the paper's batch, no epoch factor
    (-1, 128, 300, 1.0),      # a run bounded by steps only: unscaled
])
def test_the_step_per_visit_is_the_papers_total_over_the_runs_visits(monkeypatch, epochs, local_batch,
                                                                     reference_epochs, scale):
    module = SOP(net=torch.nn.Linear(2, 3), num_classes=3, optimizer=None, reference_epochs=reference_epochs)
    monkeypatch.setattr(SOP, "trainer", _Trainer(epochs), raising=False)
    # the gradient of the local mean loss times local_batch is the sample's own gradient: lr * scale * that / 128
    assert module.visit_scale(local_batch) == pytest.approx(scale)
    assert module.visit_scale(local_batch) / local_batch == pytest.approx(
        (1.0 if reference_epochs is None or epochs < 1 else 300 / epochs) / 128)
