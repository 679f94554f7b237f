"""An in-memory image dataset: the common result of every small-image reader."""
from dataclasses import dataclass, field

import torch


@dataclass(frozen=True)
class ImageSet:
    """A small image dataset held in memory: uint8 images (N, C, H, W), int64 labels.

    Attributes
    ----------
    train_images, test_images : torch.Tensor
        uint8 (float32 on the 0-255 scale for Gaussian inputs), shape (N, C, H, W); train and test share
        C, H and W.
    train_labels, test_labels : torch.Tensor
        int64, shape (N,), values in ``0 .. len(classes) - 1``; -1 where a training image's clean label is
        unknown (Animal-10N: its released labels are the noisy ones, in ``extra['human_labels']``).
    classes : tuple of str
        Class names in label order.
    extra : dict
        Reader-specific additions, e.g. ``{'train_coarse_labels': tensor}`` for CIFAR-100.
    """

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    classes: tuple[str, ...]
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        """Assert the invariants; readers raise UserError for bad files before building one."""
        for images, labels, lowest in ((self.train_images, self.train_labels, -1),  # -1: unknown (Animal-10N)
                                       (self.test_images, self.test_labels, 0)):
            # float32 on the same 0-255 scale: synthetic inputs (data.inputs=gaussian)
            assert images.dtype in (torch.uint8, torch.float32) and images.dim() == 4, (images.dtype, images.shape)
            assert labels.dtype == torch.int64 and labels.dim() == 1, (labels.dtype, labels.shape)
            assert len(images) == len(labels) > 0, (len(images), len(labels))
            assert lowest <= int(labels.min()) and int(labels.max()) < len(self.classes)
        assert self.train_images.shape[1:] == self.test_images.shape[1:]

    @property
    def num_classes(self) -> int:
        """Number of classes."""
        return len(self.classes)

    @property
    def in_channels(self) -> int:
        """Channels per image (1 grey, 3 RGB)."""
        return self.train_images.shape[1]

    @property
    def image_size(self) -> int:
        """Image height in pixels (images are square)."""
        return self.train_images.shape[2]
