"""PES's confident set and class weights against the paper's rule written out: confident = argmax p = ỹ;
w_c = mean over present classes of n_c' / n_c, 0 for a class with no confident sample, optionally capped."""
import torch

from noisyrobust.selection.confident import confident_class_weights, confident_mask


def test_a_sample_is_confident_when_its_prediction_is_its_label():
    probs = torch.tensor([[0.6, 0.4], [0.3, 0.7], [0.2, 0.8]])
    assert confident_mask(probs, torch.tensor([0, 0, 1])).tolist() == [True, False, True]


def test_class_weights_are_the_mean_count_over_each_count_and_zero_for_an_absent_class():
    labels = torch.tensor([0, 0, 0, 2, 3, 3, 1])
    confident = torch.tensor([True, True, True, True, False, False, False])
    counts = {0: 3, 1: 0, 2: 1, 3: 0}
    mean = (3 + 1) / 2  # over the classes with a confident sample only
    expected = [mean / counts[c] if counts[c] else 0.0 for c in range(4)]
    torch.testing.assert_close(confident_class_weights(labels, confident, 4), torch.tensor(expected))
    # all C classes, also when the last ones have none (the reference's bincount(minlength=10) breaks for C = 100)
    assert confident_class_weights(labels, confident, 100).shape == (100,)
    capped = confident_class_weights(labels, confident, 4, cap=1.5)
    torch.testing.assert_close(capped, torch.tensor([mean / 3, 0.0, 1.5, 0.0]))
