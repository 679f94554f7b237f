"""ModelPred's set-function predictor (Zeng et al. 2021): a DeepSets network (Zaheer et al. 2017) from a
training set S of (x, y) pairs to the optimum θ(S) of the convex problem, trained on random subsets and their
solved optima with the optimality condition as a regularizer:

    min_f  Σ_S ‖f(S) − θ(S)‖² / s²  +  γ ‖∇L(f(S); S) / |S|‖²,     f(S) = θ(P) + s · ρ(Σ_{i∈S} φ(x_i, y_i) / |P|),

P the pool every subset is drawn from, s the scale of the solved offsets θ(S) − θ(P). Sum pooling makes
f(S ∖ {i}) one subtraction away from f(S): every leave-one-out prediction at once."""
import torch
import torch.nn.functional as F
from torch import nn

from noisyrobust.modelpred.logistic import gradient


class SetPredictor(nn.Module):
    """f(S) for S given as 0/1 membership weights (B, N) over the pool's features ``x`` (N, D+1) and labels."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, theta_pool: torch.Tensor, scale: float, *,
                 width: int = 128, hidden: int = 256):
        super().__init__()
        self.register_buffer("elements", torch.cat([x.float(), F.one_hot(y, theta_pool.shape[0]).float()], 1))
        self.register_buffer("theta_pool", theta_pool.double())
        self.scale = float(scale)
        self.phi = nn.Sequential(nn.Linear(self.elements.shape[1], width), nn.ReLU(), nn.Linear(width, width), nn.ReLU())
        self.rho = nn.Sequential(nn.Linear(width, hidden), nn.ReLU(), nn.Linear(hidden, theta_pool.numel()))

    def pooled(self, weights: torch.Tensor) -> torch.Tensor:
        """Σ_{i∈S} φ(x_i, y_i) / |P| for each row of ``weights`` (B, N)."""
        return weights.float() @ self.phi(self.elements) / len(self.elements)

    def predict(self, pooled: torch.Tensor) -> torch.Tensor:
        offset = self.rho(pooled).double().reshape(len(pooled), *self.theta_pool.shape)
        return self.theta_pool + self.scale * offset

    def forward(self, weights: torch.Tensor) -> torch.Tensor:
        return self.predict(self.pooled(weights))

    def leave_one_out(self, weights: torch.Tensor) -> torch.Tensor:
        """f(S ∖ {i}) for every member i of the one set ``weights`` (N,): (N, C, D+1), rows of non-members unused."""
        phi = self.phi(self.elements) / len(self.elements)
        return self.predict(weights.float() @ phi - phi)


def modelpred_loss(net: SetPredictor, weights: torch.Tensor, solved: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
                   *, l2: float, gamma: float) -> tuple:
    """(total, fit, optimality): fit = mean ‖f(S) − θ(S)‖² / s² and optimality = mean ‖∇L(f(S); S) / |S|‖²."""
    pred = net(weights)
    fit = (pred - solved).pow(2).flatten(1).sum(1).mean() / net.scale ** 2
    grads = gradient(pred, x, y, l2=l2, weights=weights.double()) / weights.sum(1).double()[:, None, None]
    optimality = grads.pow(2).flatten(1).sum(1).mean()
    return fit + gamma * optimality, fit, optimality


def fit_set_predictor(net: SetPredictor, weights: torch.Tensor, solved: torch.Tensor, x: torch.Tensor,
                      y: torch.Tensor, *, l2: float, gamma: float, epochs: int, batch: int = 16, lr: float = 1e-3,
                      seed: int = 0) -> list:
    """Adam over the (subset, optimum) pairs; returns each epoch's mean (fit, optimality)."""
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    history = []
    for _ in range(epochs):
        order, totals = torch.randperm(len(weights), generator=g), torch.zeros(2)
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            loss, fit, optimality = modelpred_loss(net, weights[idx], solved[idx], x, y, l2=l2, gamma=gamma)
            opt.zero_grad()
            loss.backward()
            opt.step()
            totals += torch.tensor([fit.item(), optimality.item()]) * len(idx)
        sched.step()
        history.append((totals / len(weights)).tolist())
    return history
