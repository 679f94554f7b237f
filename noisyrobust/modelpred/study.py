"""What ModelPred is measured on (Zeng et al. 2021): the predicted optimum of unseen subsets, the effect of
removing groups of growing size (random or one class after another) on the test loss and the parameters,
against first-order influence and the truth from re-solving, and Feldman's memorization scores."""
from dataclasses import dataclass

import numpy as np
import torch
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import roc_auc_score

from noisyrobust.modelpred.logistic import influence_removal, per_sample_loss, solve
from noisyrobust.modelpred.setnet import SetPredictor


@dataclass
class Problem:
    """The pool P (features with the bias column, given labels, clean labels), the clean test set, λ."""

    x: torch.Tensor
    y: torch.Tensor
    clean: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int
    l2: float

    def solve(self, weights: torch.Tensor, init: torch.Tensor) -> torch.Tensor:
        """θ(S) for each 0/1 row of ``weights``, warm-started at ``init``: (K, C, D+1)."""
        return torch.stack([solve(self.x[w > 0], self.y[w > 0], num_classes=self.num_classes, l2=self.l2, init=init)
                            for w in weights])

    def test_loss(self, theta: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy on the clean test set for each θ of ``theta`` (K, C, D+1): (K,)."""
        return torch.stack([per_sample_loss(t, self.x_test, self.y_test).mean() for t in theta])


def removal_group(labels: np.ndarray, *, size: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    """``size`` pool indices to remove: ``random`` uniformly; ``class`` one class after another (classes in a
    random order, each class's samples in a random order), the group the paper calls class-targeted."""
    if kind == "random":
        return rng.choice(len(labels), size=size, replace=False)
    assert kind == "class", kind
    order = [i for c in rng.permutation(labels.max() + 1) for i in rng.permutation(np.flatnonzero(labels == c))]
    return np.asarray(order[:size])


def removal_weights(labels: np.ndarray, fractions, kinds, rng: np.random.Generator) -> tuple:
    """One removal per (fraction, kind) pair: (weights (K, N) with 0 at the removed samples, sizes (K,))."""
    weights = torch.ones(len(fractions), len(labels), dtype=torch.float64)
    for row, (fraction, kind) in enumerate(zip(fractions, kinds)):
        size = max(1, int(round(fraction * len(labels))))
        weights[row, removal_group(labels, size=size, kind=kind, rng=rng)] = 0
    return weights, (1 - weights).sum(1)


def relative_error(pred: torch.Tensor, true: torch.Tensor) -> np.ndarray:
    """‖pred − true‖ / ‖true‖ per row."""
    return ((pred - true).flatten(1).norm(dim=1) / true.flatten(1).norm(dim=1).clamp(min=1e-300)).numpy()


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(pearsonr(a, b)[0]) if len(a) > 2 and np.std(a) > 0 and np.std(b) > 0 else float("nan")


def group_removal(problem: Problem, net: SetPredictor, theta_pool: torch.Tensor, hess: torch.Tensor, *,
                  fractions, kinds, groups: int, rng: np.random.Generator) -> tuple:
    """For each (kind, fraction): ``groups`` removals; the change of test loss and of θ from ModelPred
    (f(P ∖ G) − f(P)), influence (H⁻¹ Σ_G ∇ℓ_i) and re-solving. Returns (table rows, raw changes per setting)."""
    rows, raw = [], {}
    full = torch.ones(1, len(problem.y), dtype=torch.float64)
    base_loss = problem.test_loss(theta_pool[None])[0]
    with torch.no_grad():
        pred_full = net(full)[0]
    for kind in kinds:
        for fraction in fractions:
            weights, _ = removal_weights(problem.y.numpy(), [fraction] * groups, [kind] * groups, rng)
            true = problem.solve(weights, theta_pool) - theta_pool
            with torch.no_grad():
                mp = net(weights) - pred_full
            inf = influence_removal(theta_pool, problem.x, problem.y, 1 - weights, l2=problem.l2, hess=hess)
            d_true = (problem.test_loss(theta_pool + true) - base_loss).numpy()
            changes = {"truth": d_true}
            row = {"kind": kind, "fraction": fraction, "groups": groups, "true_dloss_mean": float(d_true.mean())}
            for name, delta in (("modelpred", mp), ("influence", inf)):
                d = (problem.test_loss(theta_pool + delta) - base_loss).numpy()
                changes[name] = d
                row[f"{name}_dloss_r"] = correlation(d, d_true)
                row[f"{name}_dloss_abs_err"] = float(np.abs(d - d_true).mean())
                row[f"{name}_param_rel_err"] = float(relative_error(delta, true).mean())
            rows.append(row)
            raw[kind, fraction] = changes
    return rows, raw


def own_probability(theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """p_θ_i(y_i | x_i) for per-sample parameters ``theta`` (N, C, D+1)."""
    logits = torch.einsum("ncd,nd->nc", theta, x)
    return torch.softmax(logits, 1)[torch.arange(len(y)), y]


def memorization(problem: Problem, net: SetPredictor, theta_pool: torch.Tensor, hess: torch.Tensor, *,
                 exact: int, rng: np.random.Generator) -> dict:
    """Feldman's memorization of each pool sample, mem_i = p(y_i | x_i; θ(P)) − p(y_i | x_i; θ(P ∖ {i})), from
    ModelPred (every i at once), first-order influence, and exact leave-one-out re-solving on ``exact`` samples;
    AUROC of each for the wrong labels, and the agreement with exact LOO on its samples."""
    n = len(problem.y)
    full = torch.ones(n, dtype=torch.float64)
    own = own_probability(theta_pool.expand(n, *theta_pool.shape), problem.x, problem.y)
    with torch.no_grad():
        f_full = net(full[None])[0]
        mp = (own_probability(f_full.expand(n, *f_full.shape), problem.x, problem.y)
              - own_probability(net.leave_one_out(full), problem.x, problem.y)).numpy()
    inf_theta = theta_pool + influence_removal(theta_pool, problem.x, problem.y, torch.eye(n, dtype=torch.float64),
                                               l2=problem.l2, hess=hess)
    inf = (own - own_probability(inf_theta, problem.x, problem.y)).numpy()
    pick = np.sort(rng.choice(n, size=min(exact, n), replace=False))
    loo = problem.solve(1 - torch.eye(n, dtype=torch.float64)[pick], theta_pool)
    exact_mem = (own[pick] - own_probability(loo, problem.x[pick], problem.y[pick])).numpy()
    wrong = (problem.y != problem.clean).numpy()
    loss = per_sample_loss(theta_pool, problem.x, problem.y).numpy()
    out = {"wrong_labels": int(wrong.sum()), "exact_samples": len(pick)}
    for name, score in (("modelpred", mp), ("influence", inf), ("loss", loss)):
        out[f"{name}_auroc"] = float(roc_auc_score(wrong, score)) if 0 < wrong.sum() < n else float("nan")
        out[f"{name}_auroc_on_exact_samples"] = float(roc_auc_score(wrong[pick], score[pick])) \
            if 0 < wrong[pick].sum() < len(pick) else float("nan")
    out["exact_auroc_on_exact_samples"] = float(roc_auc_score(wrong[pick], exact_mem)) \
        if 0 < wrong[pick].sum() < len(pick) else float("nan")
    for name, score in (("modelpred", mp), ("influence", inf)):
        out[f"{name}_vs_exact_spearman"] = float(spearmanr(score[pick], exact_mem)[0])
        out[f"{name}_vs_exact_abs_err"] = float(np.abs(score[pick] - exact_mem).mean())
    out["scores"] = {"modelpred": mp, "influence": inf, "exact_index": pick, "exact": exact_mem, "wrong": wrong}
    return out
