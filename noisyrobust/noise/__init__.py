"""Label noise: pure injectors, dataset class maps and realized-noise statistics."""

from noisyrobust.noise.class_maps import CIFAR100_FINE_TO_COARSE, CLASS_MAPS, DATASET_NUM_CLASSES
from noisyrobust.noise.injectors import (
    asymmetric_noise,
    instance_noise,
    no_noise,
    pairflip_noise,
    symmetric_noise,
    uniform_noise,
)
from noisyrobust.noise.human import PUBLISHED_HUMAN_NOISE_RATES, human_noise
from noisyrobust.noise.stats import (
    UNKNOWN,
    labels_checksum,
    load_noisy_labels,
    noise_rate,
    save_noisy_labels,
    transition_matrix,
)

__all__ = [
    "CIFAR100_FINE_TO_COARSE",
    "CLASS_MAPS",
    "DATASET_NUM_CLASSES",
    "PUBLISHED_HUMAN_NOISE_RATES",
    "UNKNOWN",
    "asymmetric_noise",
    "human_noise",
    "instance_noise",
    "labels_checksum",
    "load_noisy_labels",
    "no_noise",
    "noise_rate",
    "pairflip_noise",
    "save_noisy_labels",
    "symmetric_noise",
    "transition_matrix",
    "uniform_noise",
]
