"""The datamodule: clean data + noise injector -> noisy training labels, splits, device-resident batches."""
import dataclasses
from typing import Callable, Optional, Sequence

import numpy as np
import torch

from noisyrobust.data.base import NoisyLabelsDataModule
from noisyrobust.data.imageset import ImageSet
from noisyrobust.data.inputs import check_inputs, corrupt_inputs, inputs_checksum
from noisyrobust.data.loader import BatchTransform, TensorBatches
from noisyrobust.errors import UserError


class NoisyDataModule(NoisyLabelsDataModule):
    """A small image dataset held in memory, with noisy training labels drawn once before training.

    The noisy labels depend only on the clean labels, the injector and ``noise_seed``. Validation is a
    fixed share of the *noisy* training set; the test set is clean. Batches are ``(x, label, index)``
    with ``index`` the sample's index in the full training set (validation part included).
    """

    fuses_steps = True  # TensorBatches on the training device

    def __init__(self, *, name: str, source: Callable[[], ImageSet], num_classes: int, in_channels: int,
                 image_size: int, batch_size: int, noise: Optional[Callable] = None, noise_seed: int = 0,
                 eval_batch_size: int = 1024, val_fraction: float = 0.1, split_seed: int = 0,
                 normalize: bool = True, mean: Sequence[float] = (), std: Sequence[float] = (),
                 augment: bool = False, crop_padding: int = 4, flip: bool = True, drop_last: bool = True,
                 inputs: str = "none", input_signal: float = 0.0, shuffle_seed: Optional[int] = None,
                 review_file: Optional[str] = None):
        super().__init__()
        self.inputs = check_inputs(inputs, in_memory_images=True, data_name=name, signal=input_signal)
        self.input_signal = input_signal
        if batch_size < 1 or eval_batch_size < 1:
            raise UserError(f"data.batch_size={batch_size} and data.eval_batch_size={eval_batch_size} must be >= 1")
        if not 0.0 <= val_fraction < 1.0:
            raise UserError(f"data.val_fraction={val_fraction} is outside [0, 1)")
        self.name, self.source, self.noise, self.noise_seed = name, source, noise, noise_seed
        self.num_classes, self.in_channels, self.image_size = num_classes, in_channels, image_size
        self.batch_size, self.eval_batch_size = batch_size, eval_batch_size
        self.val_fraction, self.split_seed, self.drop_last = val_fraction, split_seed, drop_last
        self.augment, self.crop_padding, self.flip = augment, crop_padding, flip
        # the training order's seed; by default the noise seed's (Arpit et al.'s runs vary it with the labels fixed)
        self.shuffle_seed = noise_seed if shuffle_seed is None else shuffle_seed
        self.review_file = review_file  # applied by build_data (apply_review), after the labels are drawn
        mean_t = torch.tensor(mean, dtype=torch.float32) if normalize else None
        std_t = torch.tensor(std, dtype=torch.float32) if normalize else None
        if normalize and (len(mean) != in_channels or len(std) != in_channels):
            raise UserError(f"data.mean/data.std need {in_channels} values each, got {list(mean)} / {list(std)}")
        self.eval_transform = BatchTransform(mean_t, std_t)
        self.train_transform = BatchTransform(mean_t, std_t, crop_padding if augment else 0, flip and augment)
        self.data: Optional[ImageSet] = None
        self._on_device: dict = {}

    # -- labels, drawn once ------------------------------------------------------------------------
    def setup(self, stage: Optional[str] = None) -> None:
        if self.data is not None:
            return
        data = self.source()
        declared = (self.num_classes, self.in_channels, self.image_size)
        found = (data.num_classes, data.in_channels, data.image_size)
        if declared != found:
            raise UserError(f"data.{self.name} declares (num_classes, in_channels, image_size)={declared} "
                            f"but the files hold {found}")
        self._draw_labels(data.train_labels.numpy(), {} if self.noise is None else self._context(data))
        self.data = self._corrupt_inputs(data)

    def _corrupt_inputs(self, data: ImageSet) -> ImageSet:
        """``data.inputs``: Zhang et al.'s input corruptions, drawn once from ``noise_seed`` (a stream of
        its own, so the labels stay those of the same seed without it) and recorded in ``inputs_record``."""
        if self.inputs == "none":
            return data
        rng = np.random.default_rng([self.noise_seed, 2017])
        train, test, perm = corrupt_inputs(self.inputs, data.train_images, data.test_images, rng=rng,
                                           signal=self.input_signal)
        self.inputs_record = {"kind": self.inputs, "seed": self.noise_seed, "checksum": inputs_checksum(train),
                              **({"signal": self.input_signal} if self.input_signal else {}),
                              **({"permutation": perm} if perm is not None else {})}
        return dataclasses.replace(data, train_images=train, test_images=test)

    def preview(self, indices) -> np.ndarray:
        """Training images ``indices`` (global) as uint8 (K, H, W, C), for plots."""
        self.setup()
        return self.data.train_images[torch.as_tensor(indices)].permute(0, 2, 3, 1).numpy()

    def _context(self, data: ImageSet) -> dict:
        def features():
            x = self.eval_transform(data.train_images, None)
            return x.reshape(len(x), -1).numpy()
        return self._noise_context(human_labels=data.extra.get("human_labels", {}), features=features)

    # -- batches on the training device --------------------------------------------------------------
    def _tensors(self, device: torch.device):
        if device not in self._on_device:  # one device at a time; the dict is shared with with_train_indices copies
            d = self.data
            self._on_device.clear()
            self._on_device[device] = (d.train_images.to(device), self.noisy_labels.to(device),
                                       d.test_images.to(device), d.test_labels.to(device))
        return self._on_device[device]

    def _batches(self, which: str) -> TensorBatches:
        rank, world = self._rank_world()
        device = self.trainer.strategy.root_device if self.trainer is not None else torch.device("cpu")
        train_x, noisy, test_x, test_y = self._tensors(device)
        if which == "train":
            self.check_world_size(world)
            epoch = (lambda: self.trainer.current_epoch) if self.trainer is not None else (lambda: 0)
            return TensorBatches(train_x, noisy, self.train_indices, batch_size=self.batch_size,
                                 transform=self.train_transform, shuffle=True, drop_last=self.drop_last,
                                 augment=self.augment or bool(self.views),
                                 seed=self.shuffle_seed, epoch=epoch,
                                 rank=rank, world_size=world, views=[self._view(v) for v in self.views],
                                 fuse=self.fused_steps)
        images, labels, idx = {"val": (train_x, noisy, self.val_indices),
                               "predict": (train_x, noisy, torch.arange(len(noisy))),
                               "test": (test_x, test_y, torch.arange(len(test_y)))}[which]
        return TensorBatches(images, labels, idx, batch_size=self.eval_batch_size, transform=self.eval_transform,
                             shuffle=False, rank=rank, world_size=world)

    def train_dataloader(self):
        return self._batches("train")

    def heldout_tensors(self, device: torch.device):
        train_x, noisy, _, _ = self._tensors(device)
        index = self.val_indices.to(device)
        return self.eval_transform(train_x[index], None), noisy[index]

    def _view(self, kind: str) -> BatchTransform:
        t = self.train_transform
        return t if kind == "weak" else BatchTransform(t.mean, t.std, self.crop_padding, self.flip, strong=kind)

    def transfer_batch_to_device(self, batch, device: torch.device, dataloader_idx: int):
        return batch  # TensorBatches are made on the training device: nothing to move, nothing to walk

    @property
    def eval_names(self) -> list:
        """What each validation dataloader holds, in order: the noisy validation split (if any), then the
        clean test set, scored every epoch."""
        return (["val"] if len(self.val_indices) else []) + ["test"]

    def val_dataloader(self):
        return [self._batches(name) for name in self.eval_names]

    def test_dataloader(self):
        return self._batches("test")

    def predict_dataloader(self):
        """Every training point (validation and held-out parts included) with its noisy label and global
        index, unshuffled, without augmentation: what RHO-LOSS scores its irreducible losses on."""
        return self._batches("predict")
