"""load_digits: the bundled UCI digits as uint8 images with a fixed stratified clean test split."""
from collections import Counter

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits as sklearn_digits

from noisyrobust.data.digits import load_digits
from noisyrobust.errors import UserError


def _pairs(images, labels):
    return Counter((img.numpy().tobytes(), int(lab)) for img, lab in zip(images, labels))


def test_shapes_dtypes_and_counts():
    data = load_digits()
    assert data.train_images.shape == (1437, 1, 8, 8)
    assert data.test_images.shape == (360, 1, 8, 8)
    assert data.train_images.dtype == data.test_images.dtype == torch.uint8
    assert data.train_labels.dtype == data.test_labels.dtype == torch.int64
    assert data.classes == tuple("0123456789")
    assert (data.num_classes, data.in_channels, data.image_size) == (10, 1, 8)
    assert int(data.train_images.min()) == 0 and int(data.train_images.max()) == 255


def test_images_are_the_sklearn_digits_scaled_to_0_255():
    bunch = sklearn_digits()
    values = bunch.images.astype(np.int64)  # integers 0..16
    expected = ((values * 255 + 8) // 16).astype(np.uint8)[:, None]  # round half up; 8 -> 128
    data = load_digits()
    got = _pairs(data.train_images, data.train_labels) + _pairs(data.test_images, data.test_labels)
    assert got == _pairs(torch.from_numpy(expected), bunch.target)


def test_split_is_fixed_and_independent_of_other_randomness():
    first = load_digits()
    torch.manual_seed(123)
    np.random.seed(123)
    second = load_digits()
    assert torch.equal(first.test_images, second.test_images)
    assert torch.equal(first.test_labels, second.test_labels)
    assert torch.equal(first.train_labels, second.train_labels)
    other = load_digits(split_seed=1)
    assert _pairs(other.test_images, other.test_labels) != _pairs(first.test_images, first.test_labels)


def test_split_is_stratified():
    data = load_digits()
    per_class = np.bincount(sklearn_digits().target, minlength=10)
    in_test = np.bincount(data.test_labels.numpy(), minlength=10)
    assert np.all(np.abs(in_test - 0.2 * per_class) <= 1), (in_test, per_class)


def test_other_fraction():
    data = load_digits(test_fraction=0.5)
    assert (len(data.train_labels), len(data.test_labels)) == (898, 899)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 0.001])
def test_bad_fraction_is_a_user_error(fraction):
    with pytest.raises(UserError, match=rf"test_fraction={fraction!r}"):
        load_digits(test_fraction=fraction)
