"""ModelPred: the convex problem's gradient, Hessian, solver and influence against independent computations,
the set predictor's leave-one-out identity, the groups, and `python -m noisyrobust.modelpred` end to end."""
import json

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from noisyrobust.modelpred.__main__ import main
from noisyrobust.modelpred.logistic import gradient, hessian, influence_removal, objective, solve, with_bias
from noisyrobust.modelpred.setnet import SetPredictor, modelpred_loss
from noisyrobust.modelpred.study import removal_group


def problem(n=60, d=4, c=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = with_bias(torch.randn(n, d, generator=g))
    y = torch.randint(0, c, (n,), generator=g)
    return x, y, c


def test_gradient_and_hessian_are_autograds_of_the_objective():
    x, y, c = problem()
    theta = torch.randn(c, x.shape[1], dtype=torch.float64, requires_grad=True)
    auto = torch.autograd.grad(objective(theta, x, y, l2=0.7), theta)[0]
    torch.testing.assert_close(gradient(theta.detach(), x, y, l2=0.7), auto)
    auto_h = torch.autograd.functional.hessian(lambda t: objective(t.reshape(theta.shape), x, y, l2=0.7),
                                               theta.detach().reshape(-1))
    torch.testing.assert_close(hessian(theta.detach(), x, l2=0.7), auto_h)


def test_the_solver_reaches_sklearns_optimum_of_the_same_objective():
    x, y, c = problem()
    theta = solve(x, y, num_classes=c, l2=0.5)
    assert gradient(theta, x, y, l2=0.5).abs().max() <= 1e-9
    # sklearn: C Σ ℓ_i + ½ ‖w‖², the bias column among the features (penalized like ours): C = 1 / λ
    ref = LogisticRegression(C=2.0, fit_intercept=False, tol=1e-12, max_iter=10_000).fit(x.numpy(), y.numpy())
    np.testing.assert_allclose(theta.numpy(), ref.coef_, atol=1e-4)


def test_influence_is_the_newton_step_of_the_removal_and_close_to_re_solving_a_small_group():
    x, y, c = problem(n=200)
    theta = solve(x, y, num_classes=c, l2=1.0)
    group = torch.zeros(1, len(y), dtype=torch.float64)
    group[0, :3] = 1
    step = influence_removal(theta, x, y, group, l2=1.0)[0]
    g = sum(gradient(theta, x[i:i + 1], y[i:i + 1], l2=0.0) for i in range(3))  # Σ_G ∇ℓ_i (checked vs autograd)
    expected = torch.linalg.solve(hessian(theta, x, l2=1.0), g.reshape(-1)).reshape(theta.shape)
    torch.testing.assert_close(step, expected)
    true = solve(x[3:], y[3:], num_classes=c, l2=1.0, init=theta) - theta
    assert (step - true).norm() / true.norm() < 0.05


def test_class_groups_take_whole_classes_one_after_another_and_random_groups_distinct_samples():
    labels = np.repeat(np.arange(4), 5)
    group = removal_group(labels, size=12, kind="class", rng=np.random.default_rng(0))
    counts = np.bincount(labels[group], minlength=4)
    assert sorted(counts.tolist()) == [0, 2, 5, 5] and len(set(group)) == 12
    random = removal_group(labels, size=12, kind="random", rng=np.random.default_rng(0))
    assert len(set(random.tolist())) == 12


def test_leave_one_out_predictions_are_the_set_predictor_on_each_set_without_its_sample():
    x, y, c = problem(n=10)
    torch.manual_seed(0)
    net = SetPredictor(x, y, torch.zeros(c, x.shape[1], dtype=torch.float64), 0.5, width=8, hidden=8)
    weights = torch.ones(10, dtype=torch.float64)
    weights[7] = 0
    with torch.no_grad():
        loo = net.leave_one_out(weights)
        for i in (0, 3):
            w = weights.clone()
            w[i] = 0
            torch.testing.assert_close(loo[i], net(w[None])[0])


def test_the_optimality_term_vanishes_at_the_solved_optimum_of_a_subset():
    x, y, c = problem(n=30)
    weights = torch.ones(1, 30, dtype=torch.float64)
    weights[0, :10] = 0
    theta = solve(x[10:], y[10:], num_classes=c, l2=1.0)
    net = SetPredictor(x, y, theta, 1.0, width=4, hidden=4)
    for p in net.rho[-1].parameters():
        torch.nn.init.zeros_(p)  # f(S) = θ(P) + 0: here the subset's own optimum
    _, fit, optimality = modelpred_loss(net, weights, theta[None], x, y, l2=1.0, gamma=1.0)
    assert fit.item() == 0 and optimality.item() < 1e-18


TINY = ["--pool", "60", "--train-subsets", "8", "--test-subsets", "3", "--epochs", "3", "--groups", "3",
        "--fractions", "0.05,0.3", "--exact-loo", "4"]


def test_the_command_writes_the_table_the_scores_and_the_figure(tmp_path, capsys):
    assert main(["--out", str(tmp_path / "mp"), *TINY, "noise=sym0.4"]) == 0
    result = json.loads((tmp_path / "mp" / "modelpred.json").read_text())
    rows = result["group_removal"]
    assert [(r["kind"], r["fraction"]) for r in rows] == [("random", 0.05), ("random", 0.3), ("class", 0.05),
                                                          ("class", 0.3)]
    assert result["parameters"] == 10 * 65 and 0.2 < result["noise"]["realized_pool_rate"] < 0.6
    for key in ("modelpred_auroc", "influence_auroc", "exact_auroc_on_exact_samples"):
        assert 0 <= result["memorization"][key] <= 1 or np.isnan(result["memorization"][key])
    with np.load(tmp_path / "mp" / "memorization.npz") as f:
        assert f["modelpred"].shape == (60,) and f["exact"].shape == (4,)
        assert f["wrong"].sum() == result["memorization"]["wrong_labels"]
    assert (tmp_path / "mp" / "modelpred.png").read_bytes()[:4] == b"\x89PNG"
    assert len((tmp_path / "mp" / "group_removal.csv").read_text().splitlines()) == 5
    assert "group removal: kind, share" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--fractions", "0.1,2"], "error: --fractions=0.1,2 must list shares of the pool in (0, 1), e.g. 0.01,0.05,0.1,0.3"),
    (["--pool", "100000"], "error: --pool=100000 exceeds the 1293 training samples of data=digits"),
    (["data=python_names"], "error: modelpred solves logistic regression on pixels: data=python_names holds no images "
                            "in memory; use data=digits, mnist, fashion_mnist or cifar10"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, args, message):
    if args == ["data=python_names"]:
        args = [*args, f"data.data_dir={tmp_path}", f"data.root={tmp_path}/lib"]
        from python_source import write_python_source
        write_python_source(tmp_path / "lib")
        args += ["data.top_k=3", "data.max_length=8", "data.vocab_size=100", "data.test_fraction=0.25"]
    assert main(["--out", str(tmp_path / "mp"), *args]) == 2
    assert capsys.readouterr().err.strip() == message
    assert not (tmp_path / "mp").exists()
