"""Arnoldi self-influence (Schioppa et al. 2022) against exact linear algebra, and as a label-issue score."""
import csv

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from conftest import run_cli
from noisyrobust.label_issues.influence import (FlatModel, arnoldi, distill, hessian_vector_product, projections,
                                               self_influence)


def test_arnoldi_recovers_the_top_eigenvalues_of_a_symmetric_operator():
    g = torch.Generator().manual_seed(0)
    basis, _ = torch.linalg.qr(torch.randn(300, 300, generator=g, dtype=torch.float64))
    spectrum = torch.cat([torch.tensor([50.0, 40.0, -30.0, 20.0, 10.0], dtype=torch.float64),
                          torch.rand(295, generator=g, dtype=torch.float64) * 0.1])
    m = basis @ torch.diag(spectrum) @ basis.T
    a, q = arnoldi(lambda v: m @ v, torch.randn(300, generator=g, dtype=torch.float64), 60)
    values, u = distill(a, q, top_k=5)
    # top 5 by |lambda| are 50, 40, -30, 20, 10; the negative one is dropped
    assert values.tolist() == pytest.approx([50.0, 40.0, 20.0, 10.0], rel=1e-8)
    for lam, vec in zip(values, u):
        assert torch.allclose(m @ vec, lam * vec, atol=1e-6)


def test_self_influence_matches_the_exact_top_eigenpairs_of_the_hessian():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3)).double()
    x, y = torch.randn(40, 3, dtype=torch.float64), torch.randint(0, 3, (40,))
    model = FlatModel(net)
    p = model.theta.numel()  # 31 parameters: the Krylov space of 30 steps is nearly all of it
    h = torch.autograd.functional.hessian(lambda t: model.losses(t, x, y).mean(), model.theta)
    a, q = arnoldi(hessian_vector_product(model, x, y), torch.randn(p, dtype=torch.float64), 30)
    values, u = distill(a, q, top_k=4)
    exact_values, exact_vectors = torch.linalg.eigh(h)
    top = exact_values.abs().argsort(descending=True)[:4]
    top = top[exact_values[top] > 0]
    assert values.tolist() == pytest.approx(exact_values[top].tolist(), rel=1e-6)
    got = self_influence(projections(model, x, y, u), values)
    # s(x) = sum_k (g(x) . e_k)^2 / lambda_k over the exact eigenpairs, g(x) the per-example loss gradient
    def gradient(i):
        loss = F.cross_entropy(net(x[i:i + 1]), y[i:i + 1])
        return torch.cat([g.flatten() for g in torch.autograd.grad(loss, list(net.parameters()))])
    grads = torch.stack([gradient(i) for i in range(40)])
    expected = ((grads @ exact_vectors[:, top]) ** 2 / exact_values[top]).sum(1)
    assert torch.allclose(got, expected, rtol=1e-5, atol=1e-10)


def test_influence_is_a_label_issue_score_with_its_detection_quality(fit):
    summary, out = fit("noise=sym0.4", "diagnostics.scores=[influence]", "diagnostics.influence_iterations=20",
                       "diagnostics.influence_top_k=5", "diagnostics.influence_hessian_samples=300")
    detection = summary["label_issues"]["detection"]
    assert set(detection) >= {"aum", "loss", "influence"}
    rows = list(csv.DictReader((out / "label_issues.csv").open()))
    assert all(r["influence"] not in ("", "nan") for r in rows)
    # the reported AUROC is the table's: the influence column against is_noisy, counted here by sklearn
    from sklearn.metrics import roc_auc_score

    expected = roc_auc_score([int(r["is_noisy"]) for r in rows], [float(r["influence"]) for r in rows])
    assert detection["influence"]["auroc"] == pytest.approx(expected, abs=1e-4)


def test_more_eigenvectors_than_arnoldi_steps_is_one_line_error(tmp_path):
    result = run_cli(tmp_path / "run", "diagnostics.scores=[influence]", "diagnostics.influence_iterations=10",
                     "diagnostics.influence_top_k=20")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "influence_top_k=20 is larger than the 9 eigenvectors" in result.stderr.strip().splitlines()[-1]
