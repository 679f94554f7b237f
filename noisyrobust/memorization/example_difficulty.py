"""Arpit et al. 2017, Fig. 1: are some training examples consistently easy? Train the same network from S
seeds for one epoch on fixed data; per example, the share of seeds that misclassify it. If every example
were equally hard (each seed misclassifies it with the same probability p), the shares would be drawn from
Binomial(S, p) / S: real data is far from that reference, random labels and random inputs close to it."""
import numpy as np
from scipy.stats import binom


def misclassification_rates(correct: np.ndarray) -> np.ndarray:
    """r_i = (1/S) sum_s [seed s misclassifies example i], from ``correct`` of shape (S, N) (bool)."""
    return 1.0 - np.asarray(correct, dtype=np.float64).mean(0)


def binomial_reference(num_examples: int, seeds: int, p: float) -> np.ndarray:
    """The sorted per-example rates that equally hard examples would give: the quantiles
    F^-1((i - 1/2) / N) / S, i = 1..N, of Binomial(S, p) (F its CDF), i.e. N draws of Binomial(S, p) / S
    without the draw's own noise."""
    q = (np.arange(num_examples) + 0.5) / num_examples
    return binom.ppf(q, seeds, p) / seeds


def binomial_ks_distance(rates: np.ndarray, seeds: int, p: float) -> float:
    """Kolmogorov-Smirnov distance between the rates' empirical CDF and Binomial(S, p) / S:
    max over k = 0..S of |#{i: r_i <= k/S} / N - F(k)|, both CDFs being steps at the same points k/S."""
    counts = np.rint(np.asarray(rates) * seeds).astype(int)
    empirical = np.cumsum(np.bincount(counts, minlength=seeds + 1)) / len(counts)
    return float(np.abs(empirical - binom.cdf(np.arange(seeds + 1), seeds, p)).max())


def dispersion(rates: np.ndarray, seeds: int) -> float:
    """Var(r) / (p (1 - p) / S), p the mean rate: 1 for equally hard examples (binomial), far above 1 when
    some examples are consistently easy and others consistently hard; NaN where p is 0 or 1."""
    p = float(np.mean(rates))
    expected = p * (1 - p) / seeds
    return float(np.var(rates) / expected) if expected > 0 else float("nan")
