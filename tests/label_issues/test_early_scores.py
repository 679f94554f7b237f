"""The early_* scores: each free score over the epochs up to the noisy validation accuracy's peak, against the
formulas written out over those epochs; a resumed state keeps the peak."""
import numpy as np
import torch

from noisyrobust.label_issues.dynamics import TrainingDynamics


def test_early_scores_stop_at_the_validation_peak_and_survive_a_checkpoint():
    rng = np.random.default_rng(0)
    logits = torch.tensor(rng.normal(size=(4, 6, 3)), dtype=torch.float32)  # 4 epochs, 6 samples, 3 classes
    given = torch.tensor([0, 1, 2, 0, 1, 2])
    dyn = TrainingDynamics(6, 3)
    for epoch, accuracy in enumerate([0.4, 0.7, 0.6, 0.7]):  # peak after epoch 1 (a tie later does not move it)
        dyn.record(torch.arange(6), logits[epoch], given, epoch)
        dyn.end_epoch()
        dyn.observe_validation(accuracy, epoch)
    resumed = TrainingDynamics(6, 3)
    resumed.load_state(dyn.state())
    for d in (dyn, resumed):
        scores = d.scores()
        z = logits[:2].double()  # epochs 0 and 1
        loss = -(z.log_softmax(-1).gather(-1, given.expand(2, 6)[..., None]).squeeze(-1)).mean(0)
        z_y = z.gather(-1, given.expand(2, 6)[..., None]).squeeze(-1)
        other = z.scatter(-1, given.expand(2, 6)[..., None], float("-inf")).max(-1).values
        aum = (z_y - other)[1]  # the mean margin skipping epoch 0: epoch 1's
        np.testing.assert_allclose(scores["early_loss"], loss.numpy(), rtol=1e-5)
        np.testing.assert_allclose(scores["early_aum"], -aum.numpy(), rtol=1e-5)
        correct = (z.argmax(-1) == given).numpy()
        first = np.where(correct.any(0), correct.argmax(0), 2)  # never learned by the peak: 2 presentations
        np.testing.assert_array_equal(scores["early_first_learned"], first)
        all_loss = -(logits.double().log_softmax(-1).gather(-1, given.expand(4, 6)[..., None]).squeeze(-1)).mean(0)
        np.testing.assert_allclose(scores["loss"], all_loss.numpy(), rtol=1e-5)  # the others: every epoch
        np.testing.assert_allclose(d.mean_probabilities(early=True), z.softmax(-1).mean(0).numpy(), rtol=1e-5)
    assert resumed.peak_epoch == 1


def test_without_a_validation_split_the_early_scores_are_the_whole_runs():
    dyn = TrainingDynamics(3, 2)
    for epoch in range(3):
        dyn.record(torch.arange(3), torch.randn(3, 2), torch.tensor([0, 1, 0]), epoch)
        dyn.end_epoch()
    scores = dyn.scores()
    for name in ("loss", "aum", "forgetting", "first_learned"):
        np.testing.assert_array_equal(scores[f"early_{name}"], scores[name])
