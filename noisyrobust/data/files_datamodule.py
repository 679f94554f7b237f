"""The datamodule of image-file datasets (Clothing1M, a user's image folder): the same labels, splits and
batches ``(x, label, index)`` as NoisyDataModule, with images decoded in DataLoader worker processes."""
import dataclasses
import logging
import os
from typing import Callable, Optional, Sequence

import numpy as np
from torch.utils.data import DataLoader

from noisyrobust.data.base import NoisyLabelsDataModule
from noisyrobust.data.inputs import check_inputs
from noisyrobust.data.files import (FileSet, ImageFileDataset, ImageTransform, ViewsTransform, find_bad_images,
                                   first_few, load_rgb)
from noisyrobust.data.samplers import EvalSampler, TrainSampler
from noisyrobust.errors import UserError
from noisyrobust.noise import UNKNOWN, noise_rate

log = logging.getLogger(__name__)


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class ImageFileDataModule(NoisyLabelsDataModule):
    """Images read from files by ``reader(root)``, noisy training labels drawn once before training.

    As in NoisyDataModule, the noisy labels depend only on the clean labels (or the released ones), the
    injector and ``noise_seed``; batches are ``(x, label, index)`` with ``index`` the global index in the
    training set; ``batch_size`` is the global batch. Validation is the dataset's clean validation set
    when it has one (Clothing1M), else a ``val_fraction`` share of the noisy training set; the test set is
    the dataset's, else a ``test_fraction`` share of the given training images held out before any noise.

    Every epoch draws ``samples_per_epoch`` training samples (None: as many as there are), class-balanced
    over the noisy labels if ``class_balanced`` (Clothing1M's usual 64,000), from a generator seeded by
    (shuffle_seed, by default noise_seed; epoch). Before training, every image is checked: missing ones always,
    undecodable ones too with ``verify_images`` (a fast reduced-scale decode, in parallel: about two minutes
    per million JPEGs on 8 cores). Bad images stop the run with their names, or with ``skip_bad_images`` are left out.
    """

    strong_views = False  # the file transform draws the views in the workers: weak ones only

    def __init__(self, *, name: str, root, reader: Callable[..., FileSet], num_classes: int, image_size: int,
                 batch_size: int, mean: Sequence[float], std: Sequence[float], in_channels: int = 3,
                 noise: Optional[Callable] = None, noise_seed: int = 0, eval_batch_size: int = 256,
                 resize: int = 256, crop: int = 224, flip: bool = True, samples_per_epoch: Optional[int] = None,
                 class_balanced: bool = False, val_fraction: float = 0.0, test_fraction: float = 0.2,
                 split_seed: int = 0, num_workers: Optional[int] = None, verify_images: bool = True,
                 skip_bad_images: bool = False, drop_last: bool = True, verified_labels: bool = True,
                 inputs: str = "none", clean_validation: bool = False, shuffle_seed: Optional[int] = None,
                 review_file: Optional[str] = None,
                 classes: Optional[Sequence[str]] = None):
        super().__init__()
        check_inputs(inputs, in_memory_images=False, data_name=name)
        if batch_size < 1 or eval_batch_size < 1:
            raise UserError(f"data.batch_size={batch_size} and data.eval_batch_size={eval_batch_size} must be >= 1")
        if not 0 < crop <= resize:
            raise UserError(f"data.crop={crop} must be between 1 and data.resize={resize}")
        if image_size != crop or in_channels != 3:
            raise UserError(f"data.image_size={image_size} and data.in_channels={in_channels} must be data.crop="
                            f"{crop} and 3: images are decoded as RGB and cropped to crop x crop")
        if not 0.0 <= val_fraction < 1.0 or not 0.0 <= test_fraction < 1.0:
            raise UserError(f"data.val_fraction={val_fraction} and data.test_fraction={test_fraction} "
                            "must be in [0, 1)")
        if samples_per_epoch is not None and samples_per_epoch < 1:
            raise UserError(f"data.samples_per_epoch={samples_per_epoch} must be >= 1 (or null: the whole set)")
        if len(mean) != 3 or len(std) != 3:
            raise UserError(f"data.mean/data.std need 3 values each, got {list(mean)} / {list(std)}")
        self.name, self.root, self.reader, self.noise, self.noise_seed = name, root, reader, noise, noise_seed
        self.classes = classes  # data.classes: the class list the reader holds the files to (data=folder)
        self.shuffle_seed = noise_seed if shuffle_seed is None else shuffle_seed  # the training order's seed
        self.review_file = review_file  # applied by build_data (apply_review), after the labels are drawn
        self.num_classes, self.in_channels, self.image_size = num_classes, in_channels, image_size
        self.batch_size, self.eval_batch_size, self.drop_last = batch_size, eval_batch_size, drop_last
        self.samples_per_epoch, self.class_balanced = samples_per_epoch, class_balanced
        self.val_fraction, self.test_fraction, self.split_seed = val_fraction, test_fraction, split_seed
        self.num_workers, self.verify_images, self.skip_bad_images = num_workers, verify_images, skip_bad_images
        self.train_transform = ImageTransform(resize=resize, crop=crop, mean=mean, std=std, flip=flip)
        self.eval_transform = ImageTransform(resize=resize, crop=crop, mean=mean, std=std, flip=False)
        self.files: Optional[FileSet] = None
        self.skipped_images = 0
        self.verified_labels = verified_labels
        # declared in the data config, so that the config checks know it before the files are read
        self.clean_validation = clean_validation  # the reader gives a clean validation set (Clothing1M)

    # -- files and labels, read and drawn once ---------------------------------------------------------
    def setup(self, stage: Optional[str] = None) -> None:
        if self.files is not None:
            return
        files = self.reader(self.root) if self.classes is None else self.reader(self.root, classes=self.classes)
        if len(files.classes) != self.num_classes:
            raise UserError(f"data.num_classes={self.num_classes} but {self.root} holds {len(files.classes)} "
                            f"classes: {first_few(list(files.classes))}")
        if files.val_paths is not None and self.val_fraction:
            raise UserError(f"data.val_fraction={self.val_fraction} must be 0: data={self.name} has its own clean "
                            "validation set")
        files = self._without_bad_images(files)
        if files.test_paths is None:
            files = self._hold_out_test(files)
        clean = files.train_labels
        context = {} if self.noise is None else self._noise_context(human_labels=files.human_labels)
        self._draw_labels(clean, context)
        if files.reference_labels is not None:
            self.reference_noise_rate = noise_rate(*files.reference_labels)
            log.info("%s: noise rate %.4f measured on the %d images labelled both ways in the release",
                     self.name, self.reference_noise_rate, len(files.reference_labels[0]))
        elif files.reference_rate is not None:
            self.reference_noise_rate = files.reference_rate
            log.info("%s: noise rate %.4f as the release measures it", self.name, self.reference_noise_rate)
        more = "".join(f", {len(paths)} {name}" for name, (paths, _) in files.more_tests.items())
        log.info("%s: %d training (%d of them validation), %d %s and %d test images%s; clean labels known for %d",
                 self.name, len(clean), len(self.val_indices), 0 if files.val_paths is None else len(files.val_paths),
                 "clean validation", len(files.test_paths), more, int((clean != UNKNOWN).sum()))
        self.files = files

    def preview(self, indices, size: int = 64) -> np.ndarray:
        """Training images ``indices`` (global) as uint8 (K, size, size, 3) thumbnails, for plots; reads the
        file list only (no image check), so it matches a run that skipped no image."""
        files = self.files or self.reader(self.root)
        return np.stack([np.asarray(load_rgb(files.path("train", int(i))).resize((size, size))) for i in indices])

    def _without_bad_images(self, files: FileSet) -> FileSet:
        workers = self._workers(devices=1)
        bad = {split: find_bad_images(files.root, files.paths(split), decode=self.verify_images, workers=workers)
               for split in files.splits()}
        named = [f"{os.fsdecode(files.paths(s)[i])} ({why})" for s, found in bad.items() for i, why in found]
        if not named:
            return files
        total = sum(len(files.paths(s)) for s in files.splits())
        what = f"{len(named)} of the {total} images under {files.root} are missing or cannot be decoded"
        if not self.skip_bad_images:
            raise UserError(f"{what}: {first_few(named)}; data.skip_bad_images=true leaves them out")
        log.warning("%s: skipped (data.skip_bad_images=true): %s", what, first_few(named))
        self.skipped_images = len(named)
        files = files.without({s: np.array([i for i, _ in found], dtype=np.int64) for s, found in bad.items()})
        for split in files.splits():
            if not len(files.paths(split)):
                raise UserError(f"data={self.name}: no {split} image left after skipping the bad ones")
        return files

    def _hold_out_test(self, files: FileSet) -> FileSet:
        """No test set given: a ``test_fraction`` share of the training images, with their given labels."""
        n = len(files.train_paths)
        n_test = int(round(self.test_fraction * n))
        if not 0 < n_test < n:
            raise UserError(f"data={self.name} at {files.root} has no test set and data.test_fraction="
                            f"{self.test_fraction} of its {n} training images holds out {n_test}: give a "
                            "test set or a test_fraction that leaves images on both sides")
        test = np.sort(np.random.default_rng([self.split_seed, 1]).permutation(n)[:n_test])
        return dataclasses.replace(files.without({"train": test}), test_paths=files.train_paths[test],
                                   test_labels=files.train_labels[test])

    # -- DataLoaders over worker processes ---------------------------------------------------------------
    def _workers(self, devices: Optional[int] = None) -> int:
        """``data.num_workers``, else min(8, the CPUs of this machine shared among its training processes)."""
        if self.num_workers is not None:
            return self.num_workers
        if devices is None:
            devices = self.trainer.num_devices if self.trainer is not None else 1
        return min(8, max(1, _cpus() // max(1, devices)))

    def _loader(self, dataset, sampler, batch_size: int, *, drop_last: bool = False, persistent: bool = False):
        workers = self._workers()
        cuda = self.trainer is not None and self.trainer.strategy.root_device.type == "cuda"
        return DataLoader(dataset, batch_size=batch_size, sampler=sampler, num_workers=workers, pin_memory=cuda,
                          drop_last=drop_last, persistent_workers=persistent and workers > 0)

    def _dataset(self, split: str, transform: ImageTransform) -> ImageFileDataset:
        f = self.files
        if split == "train":
            return ImageFileDataset(f.root, f.train_paths, self.noisy_labels.numpy(), transform)
        return ImageFileDataset(f.root, f.paths(split), f.labels(split), transform)

    def train_dataloader(self):
        rank, world = self._rank_world()
        self.check_world_size(world)
        labels = self.noisy_labels[self.train_indices].numpy() if self.class_balanced else None
        sampler = TrainSampler(self.train_indices.numpy(), seed=self.shuffle_seed, labels=labels,
                               num_samples=self.samples_per_epoch, rank=rank, world_size=world)
        transform = ViewsTransform(self.train_transform, len(self.views)) if self.views else self.train_transform
        return self._loader(self._dataset("train", transform), sampler, self.batch_size // world,
                            drop_last=self.drop_last, persistent=True)

    def _eval_loader(self, which: str):
        rank, world = self._rank_world()
        if which == "val" and self.files.val_paths is None:  # the noisy validation share of the training set
            dataset, indices = self._dataset("train", self.eval_transform), self.val_indices.numpy()
        elif which == "predict":
            dataset = self._dataset("train", self.eval_transform)
            indices = np.arange(len(dataset))
        else:
            dataset = self._dataset(which, self.eval_transform)
            indices = np.arange(len(dataset))
        return self._loader(dataset, EvalSampler(indices, rank=rank, world_size=world), self.eval_batch_size)

    @property
    def eval_names(self) -> list:
        """What each validation dataloader holds, in order: the validation set (if any), the test set, then the
        dataset's further test sets (WebVision's ``test_imagenet``)."""
        has_val = self.files.val_paths is not None or len(self.val_indices) > 0
        return (["val"] if has_val else []) + ["test", *self.files.more_tests]

    def val_dataloader(self):
        return [self._eval_loader(name) for name in self.eval_names]

    def test_dataloader(self):
        return self._eval_loader("test")

    def predict_dataloader(self):
        """Every training point (the noisy validation share included) with its noisy label and global
        index, in order, without augmentation: what RHO-LOSS scores its irreducible losses on."""
        return self._eval_loader("predict")
