"""Time of one SAM (or ASAM) training step against one step of its base optimizer alone, side by side in
one process on the same model and batch: forward + backward + step, against forward + backward + ascent +
forward + backward (BatchNorm statistics frozen) + step, as NoisyLabelModule.training_step runs them.
Repetitions alternate the two, after a warm-up; prints the median time per step of each and their ratio,
and the median of the per-repetition ratios (robust to a machine whose load drifts); about 2 is the
expected cost of SAM's second pass.

    python benchmarks/sam_step_time.py [--device cuda] [--model cnn_jocor] [--base adam] [--bf16]
"""
import argparse
import copy
import statistics
import time
from contextlib import nullcontext
from functools import partial

import torch
import torch.nn.functional as F

from noisyrobust import models
from noisyrobust.optim import SAM, frozen_running_stats

MODELS = {"mlp": models.MLP, "cnn_jocor": models.JoCoRCNN, "cnn_coteaching": models.CoteachingCNN,
          "cnn_sce": models.SCECNN, "lenet": models.LeNet, "resnet32": models.ResNet32,
          "preact_resnet18": models.PreActResNet18}
BASES = {"adam": partial(torch.optim.Adam, lr=1e-3),
         "sgd": partial(torch.optim.SGD, lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)}


def base_step(net, opt, x, y, autocast):
    opt.zero_grad()
    with autocast():
        loss = F.cross_entropy(net(x), y)
    loss.backward()
    opt.step()


def sam_step(net, opt, x, y, autocast):
    opt.zero_grad()
    with autocast():
        loss = F.cross_entropy(net(x), y)
    loss.backward()
    opt.ascend()
    with frozen_running_stats(net):
        opt.zero_grad()
        with autocast():
            loss_at_ascent = F.cross_entropy(net(x), y)
        loss_at_ascent.backward()
    opt.step()


def seconds_per_step(step, steps, device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--model", choices=sorted(MODELS), default="cnn_jocor")
    parser.add_argument("--base", choices=sorted(BASES), default="adam")
    parser.add_argument("--adaptive", action="store_true", help="ASAM instead of SAM")
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast (CUDA)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=20, help="steps per timed repetition")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    device = torch.device(args.device)

    torch.manual_seed(0)
    net = MODELS[args.model](in_channels=3, num_classes=10, image_size=args.image_size).to(device).train()
    x = torch.randn(args.batch_size, 3, args.image_size, args.image_size, device=device)
    y = torch.randint(0, 10, (args.batch_size,), device=device)
    base_net, sam_net = net, copy.deepcopy(net)
    base_opt = BASES[args.base](base_net.parameters())
    sam_opt = SAM(sam_net.parameters(), base_optimizer=BASES[args.base], rho=2.0 if args.adaptive else 0.05,
                  adaptive=args.adaptive)
    autocast = partial(torch.autocast, device.type, dtype=torch.bfloat16) if args.bf16 else nullcontext
    runs = {"base": partial(base_step, base_net, base_opt, x, y, autocast),
            "sam": partial(sam_step, sam_net, sam_opt, x, y, autocast)}

    for run in runs.values():
        seconds_per_step(run, args.warmup, device)
    times = {name: [] for name in runs}
    for r in range(args.repeats):  # alternate the order, so drift of the machine hits both alike
        for name in (("base", "sam") if r % 2 == 0 else ("sam", "base")):
            times[name].append(seconds_per_step(runs[name], args.steps, device))

    base, sam = statistics.median(times["base"]), statistics.median(times["sam"])
    name = "ASAM" if args.adaptive else "SAM"
    print(f"{args.model}, batch {args.batch_size}x3x{args.image_size}x{args.image_size}, {args.device}"
          f"{', bf16 autocast' if args.bf16 else ''}, base {args.base}; median of {args.repeats} x {args.steps} steps")
    print(f"  {args.base:>5}: {1e3 * base:8.2f} ms/step   (runs: {', '.join(f'{1e3 * t:.2f}' for t in times['base'])})")
    print(f"  {name:>5}: {1e3 * sam:8.2f} ms/step   (runs: {', '.join(f'{1e3 * t:.2f}' for t in times['sam'])})")
    paired = statistics.median(s / b for s, b in zip(times["sam"], times["base"]))
    print(f"  ratio {name} / {args.base}: {sam / base:.2f} (of the medians), {paired:.2f} (median of the "
          f"per-repetition ratios)")


if __name__ == "__main__":
    main()
