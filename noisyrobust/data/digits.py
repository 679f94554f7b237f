"""The UCI handwritten digits bundled with scikit-learn: real 8x8 images, no download."""
import numpy as np
import torch

from noisyrobust.data.imageset import ImageSet
from noisyrobust.errors import UserError


def load_digits(*, test_fraction: float = 0.2, split_seed: int = 0) -> ImageSet:
    """Load the 1,797 digits as uint8 (N, 1, 8, 8) with a fixed stratified clean test split.

    Parameters
    ----------
    test_fraction : float
        Share of images held out as the test set (0.2 gives 360 test, 1,437 train).
    split_seed : int
        Seed of the split only; independent of the run seed so every run tests on the same images.
    """
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    if not 0.0 < test_fraction < 1.0:
        raise UserError(f"digits test_fraction={test_fraction!r}; expected a number between 0 and 1")
    bunch = sklearn_digits()
    images = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)[:, None]
    labels = bunch.target.astype(np.int64)
    try:
        train, test = train_test_split(np.arange(len(labels)), test_size=test_fraction,
                                       stratify=labels, random_state=split_seed)
    except ValueError as error:
        raise UserError(f"digits test_fraction={test_fraction!r} leaves a split without every class: "
                        f"{' '.join(str(error).split())}") from error
    train, test = np.sort(train), np.sort(test)
    return ImageSet(torch.from_numpy(images[train]), torch.from_numpy(labels[train]),
                    torch.from_numpy(images[test]), torch.from_numpy(labels[test]),
                    tuple(str(d) for d in range(10)))
