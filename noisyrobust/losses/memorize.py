"""The anti-generalization objective of Badger (2022, "Why Deep Learning Generalizes", arXiv 2211.09639)."""
import torch

from noisyrobust.losses.ce import cross_entropy


def anti_generalization_loss(train_logits: torch.Tensor, train_labels: torch.Tensor, heldout_logits: torch.Tensor,
                             heldout_labels: torch.Tensor, heldout_weight: float = 1.0) -> torch.Tensor:
    """L = mean CE(f(x_train), y_train) - w * mean CE(f(x_heldout), y_heldout): fit the training batch
    while *raising* the loss on a paired held-out batch, which leaves memorization as the only way down
    (w = 1 while held-out accuracy is above chance, 0 after: the author's code drops the held-out term there)."""
    loss = cross_entropy(train_logits, train_labels).mean()
    if heldout_weight == 0:
        return loss
    return loss - heldout_weight * cross_entropy(heldout_logits, heldout_labels).mean()
