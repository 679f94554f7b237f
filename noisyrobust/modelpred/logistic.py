"""L2-regularized multinomial logistic regression on fixed features, the convex problem of ModelPred (Zeng,
Wang, Chen, Just, Jin & Jia 2021, "ModelPred: A Framework for Predicting Trained Model from Training Data"):

    L(θ; S) = Σ_{i∈S} ℓ(x_i, y_i; θ) + (λ/2) ‖θ‖²,   ℓ = −log softmax(W x_i + b)_{y_i},   θ = (W, b) ∈ R^{C×(D+1)},

solved exactly (Newton's method in float64 to a gradient tolerance), and the first-order influence of removing a group
G ⊂ S (Koh & Liang 2017; Koh et al. 2019, "On the accuracy of influence functions for measuring group
effects"): θ(S∖G) ≈ θ(S) + H⁻¹ Σ_{i∈G} ∇ℓ_i(θ(S)), H = ∇²L(θ; S), exact for this problem. Features carry a
constant 1 as their last column (the bias); θ is (C, D + 1)."""
import torch
import torch.nn.functional as F


def with_bias(x: torch.Tensor) -> torch.Tensor:
    """Features (N, D) -> (N, D + 1) with a last column of ones, float64."""
    x = x.double()
    return torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype, device=x.device)], 1)


def per_sample_loss(theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """ℓ_i = −log softmax(θ x_i)_{y_i}; ``theta`` (..., C, D + 1) broadcasts over leading dims."""
    return F.cross_entropy(x @ theta.transpose(-1, -2), y, reduction="none")


def objective(theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor, *, l2: float) -> torch.Tensor:
    """L(θ; S) = Σ_i ℓ_i + (λ/2) ‖θ‖²."""
    return per_sample_loss(theta, x, y).sum() + 0.5 * l2 * theta.pow(2).sum()


def gradient(theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor, *, l2: float,
             weights: torch.Tensor = None) -> torch.Tensor:
    """∇L(θ; S) = Σ_i w_i (softmax(θ x_i) − e_{y_i}) x_iᵀ + λ θ in closed form (differentiable in θ: the
    optimality condition ModelPred regularizes with); ``weights`` w_i (default 1) select a subset."""
    residual = torch.softmax(x @ theta.transpose(-1, -2), -1) - F.one_hot(y, theta.shape[-2]).to(theta.dtype)
    if weights is not None:
        residual = residual * weights[..., None]
    return residual.transpose(-1, -2) @ x + l2 * theta


def hessian(theta: torch.Tensor, x: torch.Tensor, *, l2: float) -> torch.Tensor:
    """∇²L(θ; S) over vec(θ) (row-major, class by class): Σ_i (diag(p_i) − p_i p_iᵀ) ⊗ x_i x_iᵀ + λ I, computed
    as the block diagonal Σ_i p_ic x_i x_iᵀ minus VᵀV with V_i = p_i ⊗ x_i."""
    c, d = theta.shape
    p = torch.softmax(x @ theta.T, 1)  # (N, C)
    h = -(lambda v: v.T @ v)((p[:, :, None] * x[:, None, :]).reshape(len(x), c * d))
    for a in range(c):
        h[a * d:(a + 1) * d, a * d:(a + 1) * d] += (x * p[:, a:a + 1]).T @ x
    return h + l2 * torch.eye(c * d, dtype=h.dtype, device=h.device)


def solve(x: torch.Tensor, y: torch.Tensor, *, num_classes: int, l2: float, init: torch.Tensor = None,
          tolerance: float = 1e-9, max_iter: int = 100) -> torch.Tensor:
    """argmin_θ L(θ; S) by Newton's method in float64 (Cholesky solves, step halved until L decreases), until
    ‖∇L‖_∞ <= ``tolerance``; ``init`` warm-starts (a nearby problem's optimum). L is strongly convex (λ > 0)."""
    theta = torch.zeros(num_classes, x.shape[1], dtype=torch.float64) if init is None else init.clone()
    value = objective(theta, x, y, l2=l2)
    for _ in range(max_iter):
        grad = gradient(theta, x, y, l2=l2)
        if grad.abs().max() <= tolerance:
            return theta
        step = torch.cholesky_solve(grad.reshape(-1, 1), torch.linalg.cholesky(hessian(theta, x, l2=l2)))
        step, t = step.reshape(theta.shape), 1.0
        while t > 1e-10:
            candidate = theta - t * step
            new_value = objective(candidate, x, y, l2=l2)
            if new_value <= value:
                break
            t /= 2
        if new_value > value:  # no decrease left in float64: at the optimum to machine precision
            return theta
        theta, value = candidate, new_value
    return theta


def influence_removal(theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor, groups: torch.Tensor, *,
                      l2: float, hess: torch.Tensor = None) -> torch.Tensor:
    """First-order influence of removing each group: Δθ_G = H⁻¹ Σ_{i∈G} ∇ℓ_i(θ), for ``groups`` a (K, N) 0/1
    matrix of members; returns (K, C, D + 1). ``hess``: H, if already at hand."""
    hess = hessian(theta, x, l2=l2) if hess is None else hess
    grads = gradient(theta, x, y, l2=0.0, weights=groups.double())  # Σ_{i∈G} ∇ℓ_i for each group: (K, C, D+1)
    step = torch.cholesky_solve(grads.reshape(len(groups), -1).T, torch.linalg.cholesky(hess)).T
    return step.reshape(grads.shape)
