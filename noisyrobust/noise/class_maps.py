"""Class maps of asymmetric (class-conditional) label noise, one per dataset: {true class: noisy class}."""

# Official CIFAR-100 fine -> coarse (superclass) label table, fine labels in the release's
# (alphabetical) order: 0 apple -> 4 fruit_and_vegetables, 1 aquarium_fish -> 1 fish, ...
CIFAR100_FINE_TO_COARSE: tuple[int, ...] = (
    4, 1, 14, 8, 0, 6, 7, 7, 18, 3,
    3, 14, 9, 18, 7, 11, 3, 9, 7, 11,
    6, 11, 5, 10, 7, 6, 13, 15, 3, 15,
    0, 11, 1, 10, 12, 14, 16, 9, 11, 5,
    5, 19, 8, 8, 15, 13, 14, 17, 18, 10,
    16, 4, 17, 4, 2, 0, 17, 4, 18, 17,
    10, 3, 2, 12, 12, 16, 12, 1, 9, 19,
    2, 10, 0, 1, 16, 12, 9, 13, 15, 13,
    16, 19, 2, 4, 6, 19, 5, 5, 8, 19,
    18, 1, 2, 15, 6, 0, 17, 8, 14, 13,
)


def _cifar100_superclass_map() -> dict[int, int]:
    """Each fine class -> the next fine class (by index, cyclic) of its own superclass."""
    mapping: dict[int, int] = {}
    for coarse in range(20):
        fine = [f for f, c in enumerate(CIFAR100_FINE_TO_COARSE) if c == coarse]
        for i, f in enumerate(fine):
            mapping[f] = fine[(i + 1) % len(fine)]
    return mapping


# MNIST (Patrini et al. 2017; Co-teaching/JoCoR): 7->1, 2->7, 5<->6, 3->8.
_MNIST = {7: 1, 2: 7, 5: 6, 6: 5, 3: 8}

CLASS_MAPS: dict[str, dict[int, int]] = {
    "mnist": dict(_MNIST),
    # scikit-learn's UCI handwritten digits have the same ten digit classes 0-9 as MNIST.
    "digits": dict(_MNIST),
    # CIFAR-10 (Patrini et al. 2017): truck->automobile, bird->airplane, deer->horse, cat<->dog.
    "cifar10": {9: 1, 2: 0, 4: 7, 3: 5, 5: 3},
    # Fashion-MNIST: the pairs classifiers confuse most (Xiao et al. 2017 confusion matrices):
    # T-shirt/top<->Shirt, Pullover->Coat, Sandal->Sneaker.
    "fashion_mnist": {0: 6, 6: 0, 2: 4, 5: 7},
    # CIFAR-100: next fine class within each of the 20 official superclasses (a permutation).
    "cifar100": _cifar100_superclass_map(),
}

# CIFAR-10N / CIFAR-100N are the CIFAR training images (with human labels beside the clean ones)
CLASS_MAPS["cifar10n"], CLASS_MAPS["cifar100n"] = CLASS_MAPS["cifar10"], CLASS_MAPS["cifar100"]

DATASET_NUM_CLASSES: dict[str, int] = {
    "mnist": 10,
    "digits": 10,
    "cifar10": 10,
    "fashion_mnist": 10,
    "cifar100": 100,
    "cifar10n": 10,
    "cifar100n": 100,
}
