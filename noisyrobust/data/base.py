"""What every datamodule shares, whatever holds its images: the global batch split over processes, a copy
restricted to some training points, and the context a noise injector asks for."""
import copy
import inspect
from typing import Callable, Optional

import numpy as np
import torch
from lightning.pytorch import LightningDataModule

from noisyrobust.data.review_file import apply_review, check_same_labels, read_review
from noisyrobust.errors import UserError
from noisyrobust.noise import UNKNOWN


class NoisyLabelsDataModule(LightningDataModule):
    """Base of the datamodules. A subclass sets ``name``, ``noise``, ``batch_size`` and, in ``setup``,
    ``clean_labels``, ``noisy_labels``, ``train_indices`` and ``val_indices``."""

    # False where the "clean" labels are only the labels a user gave (data=folder): without injected noise,
    # nothing is known of which of them are wrong (the label-issue report then leaves is_noisy empty)
    verified_labels = True
    # the noise rate measured where the release labels images both ways (Clothing1M); None elsewhere
    reference_noise_rate = None
    views: tuple = ()  # training views (with_views); none: x is one augmented batch
    fused_steps = 1  # training batches per call of the training step (device-resident batches only)
    fuses_steps = False  # whether the training batches can come several to a call (TensorBatches)
    strong_views = True  # whether with_views can make a strong view (device-resident batches)
    inputs_record = None  # data.inputs: {"kind", "seed", "checksum"[, "permutation"]} of corrupted inputs
    review_file = None  # data.review_file: a person's decisions (RUN/review.csv), applied by apply_review
    review = None  # the Review applied
    given_labels = None  # with a review: the drawn labels, before it (noisy_labels: the labels trained on)
    corpus_facts: dict = {}  # what summary.json reports of a corpus built by the reader (data=python_names)

    def _draw_labels(self, clean: np.ndarray, context: dict) -> None:
        """Noisy labels, drawn once from the clean ones with ``noise_seed`` (noise is data, not a training trick), and the
        validation split: a fixed share (``split_seed``) of the noisy training set. Where clean labels are
        unknown (-1: Clothing1M, Food-101N, Animal-10N), only the released noisy labels (noise=human) can be used."""
        if (clean == UNKNOWN).any() and "human_labels" not in context:
            raise UserError(f"data={self.name}: the clean labels of {int((clean == UNKNOWN).sum())} of its "
                            f"{len(clean)} training images are unknown, so no noise can be injected into "
                            "them; train on its released noisy labels with noise=human")
        rng = np.random.default_rng(self.noise_seed)
        noisy = clean.copy() if self.noise is None else self.noise(clean, num_classes=self.num_classes, rng=rng,
                                                                   **context)
        self.clean_labels = torch.as_tensor(clean, dtype=torch.long)
        self.noisy_labels = torch.as_tensor(np.asarray(noisy), dtype=torch.long)
        perm = torch.from_numpy(np.random.default_rng(self.split_seed).permutation(len(clean)))
        n_val = int(round(self.val_fraction * len(clean)))
        self.val_indices, self.train_indices = perm[:n_val].sort().values, perm[n_val:].sort().values

    def apply_review(self) -> None:
        """``data.review_file``: relabelled samples train on their new label, dropped ones leave the training
        (and validation) split; indices stay global. Refused before anything changes when the file belongs to
        other data (an index out of range, an unknown class, other labels)."""
        if not self.review_file or self.review is not None:
            return
        noisy = self.noisy_labels.numpy()
        review = read_review(self.review_file, num_samples=len(noisy), num_classes=self.num_classes)
        check_same_labels(review, noisy, str(self.review_file))
        trained, dropped = apply_review(noisy, review)
        self.given_labels, self.noisy_labels = self.noisy_labels, torch.as_tensor(trained, dtype=torch.long)
        keep = torch.from_numpy(~dropped)
        self.train_indices, self.val_indices = (i[keep[i]] for i in (self.train_indices, self.val_indices))
        self.review = review

    def check_world_size(self, world_size: int) -> None:
        """``batch_size`` is the global batch: each of the ``world_size`` processes takes an equal share."""
        if self.batch_size % world_size:
            raise UserError(f"data.batch_size={self.batch_size} is not divisible by the {world_size} processes "
                            f"of this trainer; use a multiple of {world_size}")

    def _rank_world(self):
        t = self.trainer
        return (t.global_rank, t.world_size) if t is not None else (0, 1)

    def heldout_tensors(self, device: torch.device):
        """The validation split as (normalized images, labels) on ``device``, without augmentation: the
        held-out batches of a method that trains against held-out data (``method=memorize``)."""
        raise UserError(f"data={self.name} reads image files; a method that draws held-out batches during "
                        "training (method=memorize) needs a dataset held in memory (digits, mnist, cifar10, ...)")

    def with_train_indices(self, indices):
        """A copy that trains on the training points ``indices`` (global indices) only: same labels,
        validation and test splits, sharing the data already loaded. RHO-LOSS trains its irreducible-loss
        model on one part of the training split and the target on the rest."""
        assert getattr(self, "train_indices", None) is not None, "setup() first: indices refer to the loaded set"
        other = copy.copy(self)
        other.train_indices = torch.as_tensor(indices, dtype=torch.long).sort().values
        return other

    def with_views(self, *kinds: str):
        """A copy whose training batches hold one view per entry of ``kinds`` of the same images, x being a
        tuple ("weak": the training augmentation; a strong kind of ``augment.STRONG_VIEWS``: crop/flip + RandAugment
        (+ Cutout), on device-resident batches only): DivideMix's two views, SOP+'s, ProMix's and DISC's weak and
        strong views."""
        if any(k != "weak" for k in kinds) and not self.strong_views:
            raise UserError(f"data={self.name} reads its images from files, which give only the training "
                            "transform's views; a strong view (method=sop_plus, promix, disc) needs a dataset held in memory "
                            "(digits, mnist, fashion_mnist, cifar10, cifar100, cifar10n, cifar100n)")
        other = copy.copy(self)
        other.views = tuple(kinds)
        return other

    def unsharded(self):
        """A copy bound to no trainer: its ``predict_dataloader`` gives every training sample, on the CPU, in
        one process (a stage that runs on global rank 0 alone)."""
        other = copy.copy(self)
        other.trainer = None
        return other

    def _noise_context(self, *, human_labels: dict, features: Optional[Callable] = None) -> dict:
        """What the injector asks for beyond the labels: the dataset's name (class maps), the normalized
        flattened training images (instance-dependent noise; ``features`` builds them, None where the
        images are not in memory) and the label sets released with the data (human noise)."""
        params = inspect.signature(self.noise).parameters  # a partial's own keywords are already bound
        context = {}
        if "dataset" in params and "dataset" not in getattr(self.noise, "keywords", {}):
            context["dataset"] = self.name
        if "features" in params:
            if features is None:
                raise UserError(f"instance-dependent noise needs all images in memory as features; data={self.name} "
                                "reads them from files: choose another noise")
            context["features"] = features()
        if "human_labels" in params:
            context["human_labels"] = human_labels
        return context
