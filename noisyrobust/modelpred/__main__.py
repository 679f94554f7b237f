"""ModelPred (Zeng et al. 2021) on L2-regularized multinomial logistic regression over a dataset's pixels:
    python -m noisyrobust.modelpred [--out DIR] [--pool N] ... [data=digits noise=sym0.4 seed=0]
trains the set-function predictor on random subsets of a pool of training samples and their exact optima,
then writes to DIR: modelpred.json (parameter error on unseen subsets, the group-removal table, memorization
AUROCs, run times), group_removal.csv, memorization.npz and modelpred.png. The trailing arguments are the
training config's overrides: the same data, noise and seed as `python train.py ...` give the same labels."""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from noisyrobust.errors import UserError
from noisyrobust.files import atomic_write
from noisyrobust.modelpred import figure
from noisyrobust.modelpred.logistic import hessian, influence_removal, solve, with_bias
from noisyrobust.modelpred.setnet import SetPredictor, fit_set_predictor
from noisyrobust.modelpred.study import Problem, group_removal, memorization, relative_error, removal_weights


def parse(argv) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m noisyrobust.modelpred", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("logs/modelpred"), help="output directory")
    p.add_argument("--pool", type=int, default=500, help="training samples every subset is drawn from")
    p.add_argument("--l2", type=float, default=1.0, help="λ of (λ/2)‖θ‖² beside the summed loss")
    p.add_argument("--train-subsets", type=int, default=120, help="random subsets solved to train ModelPred")
    p.add_argument("--test-subsets", type=int, default=20, help="unseen subsets for the parameter error")
    p.add_argument("--max-removal", type=float, default=0.4, help="subsets remove up to this share of the pool")
    p.add_argument("--epochs", type=int, default=300, help="ModelPred training epochs")
    p.add_argument("--gamma", type=float, default=1.0, help="weight of the optimality-condition regularizer")
    p.add_argument("--fractions", default="0.01,0.05,0.1,0.3", help="group sizes, shares of the pool")
    p.add_argument("--groups", type=int, default=8, help="removed groups per size and kind")
    p.add_argument("--exact-loo", type=int, default=40, help="samples whose leave-one-out optimum is re-solved")
    p.add_argument("--label-issues", type=Path, default=None,
                   help="a finished train.py run on the same data, noise and seed: its label-issue AUROCs beside")
    p.add_argument("overrides", nargs="*", help="config overrides: data=digits noise=sym0.4 seed=0")
    return p.parse_args(argv)


def check(args) -> list:
    fractions = [float(f) for f in args.fractions.split(",")] if args.fractions else []
    for name, value in (("--pool", args.pool), ("--train-subsets", args.train_subsets), ("--epochs", args.epochs),
                        ("--test-subsets", args.test_subsets), ("--groups", args.groups), ("--exact-loo", args.exact_loo)):
        if value < (3 if name in ("--groups", "--pool") else 1):
            raise UserError(f"{name}={value} is too small: use an integer >= {3 if name in ('--groups', '--pool') else 1}")
    if not fractions or not all(0 < f < 1 for f in fractions):
        raise UserError(f"--fractions={args.fractions} must list shares of the pool in (0, 1), e.g. 0.01,0.05,0.1,0.3")
    if not 0 < args.max_removal < 1 or args.l2 <= 0 or args.gamma < 0:
        raise UserError(f"--max-removal={args.max_removal} must be in (0, 1), --l2={args.l2} > 0, --gamma={args.gamma} >= 0")
    return fractions


def build_problem(args) -> tuple:
    """The pool of training samples (features, given labels, clean labels) and the clean test set."""
    from hydra import compose, initialize_config_dir

    from noisyrobust.run import build_data

    conf = Path(__file__).resolve().parents[2] / "conf"
    with initialize_config_dir(str(conf), version_base="1.3"):
        cfg = compose("config", overrides=list(args.overrides))
    datamodule, noise = build_data(cfg)
    images = getattr(getattr(datamodule, "data", None), "train_images", None)
    if images is None:
        raise UserError(f"modelpred solves logistic regression on pixels: data={cfg.data.name} holds no images in "
                        "memory; use data=digits, mnist, fashion_mnist or cifar10")
    train = datamodule.train_indices.numpy()
    if args.pool > len(train):
        raise UserError(f"--pool={args.pool} exceeds the {len(train)} training samples of data={cfg.data.name}")
    pool = np.sort(np.random.default_rng(cfg.seed).choice(train, size=args.pool, replace=False))
    features = lambda im: with_bias(datamodule.eval_transform(im, None).flatten(1))  # noqa: E731
    problem = Problem(features(images[pool]), datamodule.noisy_labels[pool], datamodule.clean_labels[pool],
                      features(datamodule.data.test_images), datamodule.data.test_labels, datamodule.num_classes,
                      args.l2)
    return problem, pool, datamodule, cfg, noise


def label_issue_aurocs(run: Path, datamodule, pool: np.ndarray) -> dict:
    """The detection AUROCs of a train.py run's label-issue report, once its labels are checked to be ours."""
    labels, summary = run / "noisy_labels.npz", run / "summary.json"
    if not labels.is_file() or not summary.is_file():
        raise UserError(f"--label-issues {run} is not a finished run directory (noisy_labels.npz and summary.json)")
    with np.load(labels) as f:
        if not np.array_equal(f["noisy"], datamodule.noisy_labels.numpy()):
            raise UserError(f"--label-issues {run} was trained on other labels; give modelpred the run's data, noise "
                            "and seed overrides")
    detection = (json.loads(summary.read_text()).get("label_issues") or {}).get("detection") or {}
    return {score: found.get("auroc") for score, found in detection.items()}


def main(argv=None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    try:
        fractions = check(args)
        problem, pool, datamodule, cfg, noise = build_problem(args)
        label_issues = label_issue_aurocs(args.label_issues, datamodule, pool) if args.label_issues else None
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    times, start = {}, time.time()
    theta_pool = solve(problem.x, problem.y, num_classes=problem.num_classes, l2=args.l2)
    hess = hessian(theta_pool, problem.x, l2=args.l2)
    n_subsets = args.train_subsets + args.test_subsets
    shares = rng.uniform(0, args.max_removal, n_subsets)
    kinds = np.where(np.arange(n_subsets) % 2 == 0, "random", "class")
    weights, _ = removal_weights(problem.y.numpy(), shares, kinds, rng)
    solved = problem.solve(weights, theta_pool)
    times["solve_subsets_s"] = time.time() - start

    start = time.time()
    train, test = slice(0, args.train_subsets), slice(args.train_subsets, None)
    scale = float((solved[train] - theta_pool).std())
    net = SetPredictor(problem.x, problem.y, theta_pool, scale)
    history = fit_set_predictor(net, weights[train], solved[train], problem.x, problem.y, l2=args.l2,
                                gamma=args.gamma, epochs=args.epochs, seed=cfg.seed)
    times["train_modelpred_s"] = time.time() - start
    with torch.no_grad():
        pred = net(weights[test])
    inf = theta_pool + influence_removal(theta_pool, problem.x, problem.y, 1 - weights[test], l2=args.l2, hess=hess)
    change = solved[test] - theta_pool
    unseen = {"subsets": args.test_subsets,
              "modelpred_rel_err_theta": float(relative_error(pred, solved[test]).mean()),
              "influence_rel_err_theta": float(relative_error(inf, solved[test]).mean()),
              "modelpred_rel_err_change": float(relative_error(pred - theta_pool, change).mean()),
              "influence_rel_err_change": float(relative_error(inf - theta_pool, change).mean()),
              "no_change_rel_err_theta": float(relative_error(theta_pool.expand_as(change), solved[test]).mean())}

    start = time.time()
    rows, raw = group_removal(problem, net, theta_pool, hess, fractions=fractions, kinds=("random", "class"),
                              groups=args.groups, rng=rng)
    times["group_removal_s"] = time.time() - start
    start = time.time()
    mem = memorization(problem, net, theta_pool, hess, exact=args.exact_loo, rng=rng)
    times["memorization_s"] = time.time() - start
    scores = mem.pop("scores")

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    result = {"data": cfg.data.name, "noise": {"name": cfg.noise._target_.rsplit(".", 1)[-1],
                                               "rate": cfg.noise.get("rate"), "realized_pool_rate":
                                               float((problem.y != problem.clean).float().mean())},
              "seed": cfg.seed, "pool": args.pool, "parameters": theta_pool.numel(), "l2": args.l2,
              "train_subsets": args.train_subsets, "epochs": args.epochs, "gamma": args.gamma,
              "final_fit_optimality": history[-1], "unseen_subsets": unseen, "group_removal": rows,
              "memorization": mem, "label_issue_aurocs": label_issues, "times": times}
    with atomic_write(out / "modelpred.json") as f:
        f.write(json.dumps(result, indent=2).encode())
    with atomic_write(out / "group_removal.csv") as f:
        text = [",".join(rows[0])] + [",".join(f"{v:.6g}" if isinstance(v, float) else str(v) for v in r.values())
                                      for r in rows]
        f.write(("\n".join(text) + "\n").encode())
    with atomic_write(out / "memorization.npz") as f:
        np.savez(f, pool=pool, **scores)
    png = figure.draw(rows, raw, scores, out / "modelpred.png")
    print(figure.text(result))
    print(f"wrote {out / 'modelpred.json'}, {out / 'group_removal.csv'}, {out / 'memorization.npz'}, {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
