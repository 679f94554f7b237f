"""Token sequences held on the training device: a sample is a row of token ids, padded with ``PAD`` (0) to
the set's fixed length, so batches are cut from one (N, L) tensor exactly like images (``TensorBatches``,
fused steps, every rank's shard) and a model finds each sequence's length as its non-padding ids."""
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import torch

from noisyrobust.data.base import NoisyLabelsDataModule
from noisyrobust.data.datamodule import NoisyDataModule
from noisyrobust.errors import UserError

PAD = 0  # the padding id of every token set: masked out by the token models
UNK = 1  # after PAD (0): the ids every vocabulary starts with


@dataclass(frozen=True)
class TokenSet:
    """A token dataset in memory: int64 ids (N, L), right-padded with ``PAD``; int64 labels (N,).

    ``vocab[i]`` is token i's text; ``train_text[i]`` a line shown for training sample i in reports
    (for code: the file and the definition's first line); ``summary``: facts of the corpus for ``summary.json``.
    """

    train_tokens: torch.Tensor
    train_labels: torch.Tensor
    test_tokens: torch.Tensor
    test_labels: torch.Tensor
    classes: tuple
    vocab: tuple
    train_text: tuple = ()
    summary: dict = field(default_factory=dict)

    def __post_init__(self):
        for tokens, labels in ((self.train_tokens, self.train_labels), (self.test_tokens, self.test_labels)):
            assert tokens.dtype == torch.int64 and tokens.dim() == 2, (tokens.dtype, tokens.shape)
            assert labels.dtype == torch.int64 and len(labels) == len(tokens) > 0, (labels.shape, tokens.shape)
            assert int(tokens.max()) < len(self.vocab) and int(labels.max()) < len(self.classes)
        assert self.train_tokens.shape[1] == self.test_tokens.shape[1]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def max_length(self) -> int:
        return self.train_tokens.shape[1]


@dataclass
class TokenTransform:
    """Token batches go to the model as they are; the strong view (SOP+, ``with_views("strong")``) replaces
    each non-padding token by ``UNK`` with probability ``drop`` (token dropout, the text counterpart of
    Cutout), drawn from the batch's generator."""

    drop: float = 0.0
    crops = False  # no crop source to build (TensorBatches asks)

    def __call__(self, tokens: torch.Tensor, generator: Optional[torch.Generator]) -> torch.Tensor:
        if self.drop == 0 or generator is None:
            return tokens
        dropped = (torch.rand(tokens.shape, device=tokens.device, generator=generator) < self.drop) & (tokens != PAD)
        return tokens.masked_fill(dropped, UNK)


def bag_of_tokens(tokens: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """Each row's token frequencies (padding left out), L1-normalized: (N, vocab_size) float32. The features
    of instance-dependent noise on token data."""
    counts = torch.zeros(len(tokens), vocab_size)
    counts.scatter_add_(1, tokens, torch.ones_like(tokens, dtype=torch.float32))
    counts[:, PAD] = 0
    return counts / counts.sum(1, keepdim=True).clamp(min=1)


class TokenDataModule(NoisyDataModule):
    """A token dataset held in memory with noisy training labels drawn once: ``NoisyDataModule``'s splits and
    device-resident batches, with token rows in place of images. Batches are ``(tokens (B, L), label, index)``."""

    strong_views = True  # token dropout

    def __init__(self, *, name: str, source: Callable[[], TokenSet], num_classes: int, vocab_size: int,
                 max_length: int, batch_size: int, noise: Optional[Callable] = None, noise_seed: int = 0,
                 eval_batch_size: int = 1024, val_fraction: float = 0.1, split_seed: int = 0,
                 drop_last: bool = True, strong_drop: float = 0.15, shuffle_seed: Optional[int] = None):
        NoisyLabelsDataModule.__init__(self)  # not NoisyDataModule's: no channels, image size or normalization
        if batch_size < 1 or eval_batch_size < 1:
            raise UserError(f"data.batch_size={batch_size} and data.eval_batch_size={eval_batch_size} must be >= 1")
        if not 0.0 <= val_fraction < 1.0:
            raise UserError(f"data.val_fraction={val_fraction} is outside [0, 1)")
        if not 0.0 <= strong_drop < 1.0:
            raise UserError(f"data.strong_drop={strong_drop} is not a token dropout rate in [0, 1)")
        self.name, self.source, self.noise, self.noise_seed = name, source, noise, noise_seed
        self.num_classes, self.vocab_size, self.max_length = num_classes, vocab_size, max_length
        self.batch_size, self.eval_batch_size = batch_size, eval_batch_size
        self.val_fraction, self.split_seed, self.drop_last = val_fraction, split_seed, drop_last
        self.shuffle_seed = noise_seed if shuffle_seed is None else shuffle_seed
        self.augment, self.inputs = False, "none"
        self.eval_transform = self.train_transform = TokenTransform()
        self.strong_transform = TokenTransform(strong_drop)
        self.data: Optional[TokenSet] = None
        self._on_device: dict = {}

    def setup(self, stage: Optional[str] = None) -> None:
        if self.data is not None:
            return
        data = self.source()
        declared, found = (self.num_classes, self.max_length), (data.num_classes, data.max_length)
        if declared != found or len(data.vocab) > self.vocab_size:
            raise UserError(f"data.{self.name} declares (num_classes, max_length)={declared} and vocab_size="
                            f"{self.vocab_size} but the corpus holds {found} and {len(data.vocab)} tokens")
        context = {} if self.noise is None else self._noise_context(
            human_labels={}, features=lambda: bag_of_tokens(data.train_tokens, len(data.vocab)).numpy())
        self._draw_labels(data.train_labels.numpy(), context)
        self.data = data

    @property
    def corpus_facts(self) -> dict:
        return self.data.summary if self.data is not None else {}

    def preview(self, indices) -> list:
        """What the label-issue report shows of training samples ``indices``: a line of text each."""
        self.setup()
        return [self.data.train_text[int(i)] for i in np.asarray(indices)]

    def _tensors(self, device: torch.device):
        if device not in self._on_device:
            d = self.data
            self._on_device.clear()
            self._on_device[device] = (d.train_tokens.to(device), self.noisy_labels.to(device),
                                       d.test_tokens.to(device), d.test_labels.to(device))
        return self._on_device[device]

    def _view(self, kind: str) -> TokenTransform:
        return self.train_transform if kind == "weak" else self.strong_transform
