"""Asymmetric noise: a dataset's class map applied with prob. r to the mapped classes only."""

import math
from collections import Counter

import numpy as np
import pytest

from noisyrobust.errors import UserError
from noisyrobust.noise import CIFAR100_FINE_TO_COARSE, CLASS_MAPS, asymmetric_noise

# The maps written out from the papers (independent of the package's tables).
EXPECTED_MAPS = {
    "mnist": {7: 1, 2: 7, 5: 6, 6: 5, 3: 8},
    "digits": {7: 1, 2: 7, 5: 6, 6: 5, 3: 8},
    "cifar10": {9: 1, 2: 0, 4: 7, 3: 5, 5: 3},  # truck->auto, bird->plane, deer->horse, cat<->dog
    "fashion_mnist": {0: 6, 6: 0, 2: 4, 5: 7},  # T-shirt<->Shirt, Pullover->Coat, Sandal->Sneaker
}


def binomial_bound(p, n):
    return 4 * math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("dataset", sorted(EXPECTED_MAPS))
def test_ten_class_maps_are_the_published_ones(dataset):
    assert CLASS_MAPS[dataset] == EXPECTED_MAPS[dataset]


@pytest.mark.parametrize("dataset", sorted(EXPECTED_MAPS))
def test_only_mapped_classes_flip_only_to_their_target_at_rate_r(dataset):
    c, per_class, rate = 10, 20_000, 0.4
    mapping = EXPECTED_MAPS[dataset]
    clean = np.repeat(np.arange(c), per_class)
    noisy = asymmetric_noise(clean, rate=rate, num_classes=c, rng=np.random.default_rng(30), dataset=dataset)
    for i in range(c):
        row = noisy[clean == i]
        if i not in mapping:
            assert np.all(row == i)
        else:
            assert set(np.unique(row)) <= {i, mapping[i]}
            # cat<->dog drawn from clean labels: no 3->5->3 compounding, so each rate stays r
            assert abs(np.mean(row == mapping[i]) - rate) <= binomial_bound(rate, per_class)


def test_cifar100_table_is_the_official_one():
    assert len(CIFAR100_FINE_TO_COARSE) == 100
    assert sorted(Counter(CIFAR100_FINE_TO_COARSE).items()) == [(k, 5) for k in range(20)]
    # spot checks by name: apple->fruit_and_vegetables(4), aquarium_fish->fish(1), worm->non-insect
    # invertebrates(13), tractor->vehicles_2(19), bicycle/bus/motorcycle/pickup/train->vehicles_1(18)
    assert CIFAR100_FINE_TO_COARSE[0] == 4
    assert CIFAR100_FINE_TO_COARSE[1] == 1
    assert CIFAR100_FINE_TO_COARSE[99] == 13
    assert CIFAR100_FINE_TO_COARSE[89] == 19
    assert [f for f in range(100) if CIFAR100_FINE_TO_COARSE[f] == 18] == [8, 13, 48, 58, 90]


def test_cifar100_map_is_a_five_cycle_within_each_superclass():
    mapping = CLASS_MAPS["cifar100"]
    coarse = CIFAR100_FINE_TO_COARSE
    assert sorted(mapping) == list(range(100))
    assert sorted(mapping.values()) == list(range(100))  # a permutation
    for f, g in mapping.items():
        assert coarse[f] == coarse[g] and f != g
    # aquatic mammals (0): beaver 4, dolphin 30, otter 55, seal 72, whale 95 -> next one, cyclic
    assert [mapping[f] for f in (4, 30, 55, 72, 95)] == [30, 55, 72, 95, 4]
    # not blocks of five consecutive indices: apple (0) does not go to aquarium_fish (1)
    assert mapping[0] == 51  # apple -> mushroom, the next fruit_and_vegetables class
    for start in range(100):  # each orbit has length 5
        f, steps = mapping[start], 1
        while f != start:
            f, steps = mapping[f], steps + 1
        assert steps == 5


def test_cifar100_noise_stays_within_the_superclass():
    c, rate = 100, 0.4
    clean = np.repeat(np.arange(c), 2_000)
    noisy = asymmetric_noise(clean, rate=rate, num_classes=c, rng=np.random.default_rng(31), dataset="cifar100")
    coarse = np.array(CIFAR100_FINE_TO_COARSE)
    np.testing.assert_array_equal(coarse[noisy], coarse[clean])
    realized = np.mean(noisy != clean)
    assert abs(realized - rate) <= binomial_bound(rate, clean.size)


def test_unknown_dataset_is_a_clear_error():
    with pytest.raises(UserError, match="no class map for dataset 'svhn'; maps exist for: "
                                        "cifar10, cifar100, cifar100n, cifar10n, digits, fashion_mnist, mnist"):
        asymmetric_noise(np.array([0, 1]), rate=0.2, num_classes=10, rng=np.random.default_rng(0), dataset="svhn")


def test_num_classes_must_match_the_dataset():
    with pytest.raises(UserError, match="num_classes 10 .*'cifar100'.* 100"):
        asymmetric_noise(np.array([0, 1]), rate=0.2, num_classes=10, rng=np.random.default_rng(0), dataset="cifar100")
