"""DivideMix's division of the training set (Li et al., ICLR 2020): a two-component Gaussian mixture on
the per-sample losses, the clean probability being the posterior of the low-mean component."""
import numpy as np
from sklearn.mixture import GaussianMixture


def min_max_normalize(losses: np.ndarray) -> np.ndarray:
    """(l - min l) / (max l - min l) over the whole vector (all zeros when every loss is equal)."""
    losses = np.asarray(losses, dtype=np.float64)
    span = losses.max() - losses.min()
    return (losses - losses.min()) / span if span > 0 else np.zeros_like(losses)


def gmm_clean_probability(losses: np.ndarray, *, seed: int = 0, max_iter: int = 10, tol: float = 1e-2,
                          reg_covar: float = 5e-4) -> np.ndarray:
    """w_i = p(low-mean component | l̃_i), l̃ the min-max normalized losses, from a 2-component GMM with the
    reference's settings (max_iter 10, tol 1e-2, reg_covar 5e-4). Seeded (the reference is not): the same
    losses give the same split."""
    x = min_max_normalize(losses).reshape(-1, 1)
    gmm = GaussianMixture(n_components=2, max_iter=max_iter, tol=tol, reg_covar=reg_covar, random_state=seed)
    gmm.fit(x)
    return gmm.predict_proba(x)[:, int(np.argmin(gmm.means_[:, 0]))]
