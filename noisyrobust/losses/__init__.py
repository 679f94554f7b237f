"""Per-sample losses (reduction='none'): pure functions and thin modules around them."""
from noisyrobust.losses.ce import CrossEntropy, cross_entropy
from noisyrobust.losses.jocor import jocor_loss, symmetric_kl
from noisyrobust.losses.sce import SymmetricCrossEntropy, reverse_cross_entropy, symmetric_cross_entropy

__all__ = ["CrossEntropy", "cross_entropy", "SymmetricCrossEntropy", "reverse_cross_entropy",
           "symmetric_cross_entropy", "jocor_loss", "symmetric_kl"]
