"""What the framework costs per epoch over a hand-written PyTorch loop, side by side in one process.

Both train the same MLP 784-256-10 (Adam, batch 128) with the same method on the same noisy labels and
images held on the same device, without a validation split, and score the same clean test set after every
epoch. The framework runs through the real pipeline (`noisyrobust.run.train` on the composed config) with
the callbacks of a run without validation split (last.ckpt written every epoch), the CSV logger and the
progress bar; the hand loop is what a paper's reference code does: shuffle, forward, the method's loss
and selection, backward, step, then a test pass. Start-up is subtracted: each run times epochs 2..N+1
(from an epoch's start to the next one's, or to the end of training, so evaluation, logging and the
checkpoint count) and skips the first. Runs alternate framework and hand loop; the ratio of each pair is
framework epoch / hand-loop epoch (medians over its epochs).

    python benchmarks/overhead.py        # real MNIST test set (../shared/data/mnist-t10k): 8,000 train / 2,000 test
    python benchmarks/overhead.py --t10k DIR   # the MNIST t10k idx files elsewhere (without any: the 8x8 digits)
    python benchmarks/overhead.py --methods ce jocor --runs 3 --epochs 5 --device cuda
    python benchmarks/overhead.py diagnostics=none     # without the per-sample label-issue scores
"""
import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import hydra
import torch
from hydra import compose, initialize_config_dir
from omegaconf import open_dict

from epoch_clock import EpochClock  # beside this script
from real_mnist import T10K, write_mnist_split
from noisyrobust.losses import cross_entropy, jocor_loss
from noisyrobust.run import build_noise, train
from noisyrobust.selection import ForgetRateSchedule, masked_mean, num_to_keep, small_loss_mask

ROOT = Path(__file__).resolve().parents[1]


def config(method: str, data: list, out: Path, epochs: int, device: str, extra=()):
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=[*data, f"method={method}", "noise=sym0.5", "data.val_fraction=0",
                                           "callbacks=last_only", f"trainer.max_epochs={epochs}",
                                           f"trainer.accelerator={device}", "+callbacks.epoch_clock._target_="
                                           "epoch_clock.EpochClock", *extra])
    with open_dict(cfg):
        cfg.paths.output_dir = str(out)
    return cfg


def framework_epochs(cfg) -> list:
    EpochClock.marks.clear()
    train(cfg)
    return [fit + evaluation for fit, evaluation in EpochClock.epochs()[1:]]


def hand_loop_epochs(cfg, method: str, device: torch.device) -> list:
    """The reference-code loop over the datamodule's own tensors (the same noisy labels and test set)."""
    injector, noise_seed = build_noise(cfg.noise)
    dm = hydra.utils.instantiate(cfg.data, noise=injector, noise_seed=noise_seed)
    dm.setup("fit")
    x = dm.eval_transform(dm.data.train_images[dm.train_indices], None).to(device)
    y = dm.noisy_labels[dm.train_indices].to(device)
    test_x, test_y = dm.eval_transform(dm.data.test_images, None).to(device), dm.data.test_labels.to(device)
    torch.manual_seed(cfg.seed)
    nets = [hydra.utils.instantiate(cfg.model).to(device) for _ in range(1 if method == "ce" else 2)]
    opt = torch.optim.Adam([p for n in nets for p in n.parameters()], lr=cfg.optimizer.lr)
    schedule = ForgetRateSchedule(cfg.method.get("forget_rate", 0.0), cfg.method.get("num_gradual", 10), 1.0)
    bs, times = cfg.data.batch_size, []
    for epoch in range(cfg.trainer.max_epochs):
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter())
        for n in nets:
            n.train()
        order = torch.randperm(len(y), device=device)
        keep = num_to_keep(bs, schedule(epoch))
        for i in range(len(y) // bs):
            idx = order[i * bs:(i + 1) * bs]
            xb, yb = x[idx], y[idx]
            logits = [n(xb) for n in nets]
            if method == "ce":
                loss = cross_entropy(logits[0], yb).mean()
            elif method == "jocor":
                joint = jocor_loss(*logits, yb, co_lambda=cfg.method.co_lambda)
                loss = masked_mean(joint, small_loss_mask(joint, keep))
            else:  # coteaching
                l1, l2 = cross_entropy(logits[0], yb), cross_entropy(logits[1], yb)
                loss = masked_mean(l1, small_loss_mask(l2, keep)) + masked_mean(l2, small_loss_mask(l1, keep))
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            for n in nets:
                n.eval()
                correct = sum((n(test_x[j:j + dm.eval_batch_size]).argmax(1) == test_y[j:j + dm.eval_batch_size]).sum()
                              for j in range(0, len(test_y), dm.eval_batch_size))
                float(correct)  # the reference code prints the test accuracy each epoch
    if device.type == "cuda":
        torch.cuda.synchronize()
    times.append(time.perf_counter())
    return [b - a for a, b in zip(times[1:], times[2:])]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--t10k", type=Path, default=T10K if T10K.is_dir() else None,
                        help=f"folder with the MNIST t10k idx files (default: {T10K} if there, else the 8x8 digits)")
    parser.add_argument("--train-size", type=int, default=8000, help="of the 10,000 t10k digits; the rest is the test set")
    parser.add_argument("--methods", nargs="+", default=["ce", "jocor", "coteaching"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5, help="timed epochs per run (after one warm-up epoch)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("overrides", nargs="*", help="more config overrides for the framework, e.g. diagnostics=none")
    args = parser.parse_args()
    device = torch.device(args.device)
    tmp = Path(tempfile.mkdtemp(prefix="noisyrobust-overhead-"))
    try:
        if args.t10k:
            write_mnist_split(args.t10k, tmp / "data", args.train_size)
            data = ["data=mnist", f"paths.data_dir={tmp / 'data'}", "data.source.download=false"]
        else:
            data = ["data=digits"]
        print(f"device {device}, {data[0]}, MLP, batch 128, {args.epochs} timed epochs per run, "
              f"{args.runs} alternating runs", flush=True)
        results = []
        for method in args.methods:
            ratios, fw_all, hand_all = [], [], []
            for run in range(args.runs):
                cfg = config(method, data, tmp / f"{method}-{run}", args.epochs + 1,
                             "gpu" if device.type == "cuda" else "cpu", args.overrides)
                fw = statistics.median(framework_epochs(cfg))
                hand = statistics.median(hand_loop_epochs(cfg, method, device))
                fw_all.append(fw), hand_all.append(hand), ratios.append(fw / hand)
            results.append(f"{method:11s} framework {statistics.median(fw_all) * 1e3:7.1f} ms/epoch, hand loop "
                  f"{statistics.median(hand_all) * 1e3:7.1f} ms/epoch; ratio min {min(ratios):.2f} "
                  f"median {statistics.median(ratios):.2f}  ({', '.join(f'{r:.2f}' for r in ratios)})")
        print("\n" + "\n".join(results))  # after the runs' progress bars
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
