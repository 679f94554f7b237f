"""Arnoldi self-influence on MNIST's MLP (784-256-10): time of the Arnoldi iteration (Hessian-vector
products on 2,000 training digits) and of the projections of all 10,000 digits on the top-k eigenvectors,
for a few (iterations, k); target: under a minute on 2 CPU cores. Data: the real MNIST test set (official
idx files) with 20% symmetric label noise, the MLP trained 5 epochs with Adam; also prints the detection
AUROC of the self-influence for the flipped labels.

    PYTHONPATH=. python benchmarks/arnoldi_mnist.py [--settings 100:20 200:50]
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mnist_sized import SHARED  # noqa: E402

from noisyrobust.data.idx import read_idx  # noqa: E402
from noisyrobust.label_issues.influence import (FlatModel, arnoldi, distill, hessian_vector_product,  # noqa: E402
                                               projections, self_influence)
from noisyrobust.models import MLP  # noqa: E402
from noisyrobust.noise import symmetric_noise  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", nargs="+", default=["100:20", "200:50"], help="iterations:k pairs")
    args = parser.parse_args()
    torch.manual_seed(0)
    x = torch.from_numpy(read_idx(SHARED / "t10k-images-idx3-ubyte.gz").copy()).float().div(255)[:, None]
    x = (x - 0.1307) / 0.3081
    clean = read_idx(SHARED / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    noisy = symmetric_noise(clean, rate=0.2, num_classes=10, rng=np.random.default_rng(0))
    y = torch.from_numpy(noisy)
    net = MLP(in_channels=1, num_classes=10, image_size=28, hidden=(256,))
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    start = time.perf_counter()
    for _ in range(5):
        for idx in torch.randperm(len(y)).split(128):
            opt.zero_grad()
            F.cross_entropy(net(x[idx]), y[idx]).backward()
            opt.step()
    print(f"trained MLP 784-256-10 ({sum(p.numel() for p in net.parameters())} parameters) on 10,000 MNIST "
          f"digits, 20% symmetric noise, 5 epochs: {time.perf_counter() - start:.1f} s")
    net.eval()
    model = FlatModel(net)
    for setting in args.settings:
        iterations, k = map(int, setting.split(":"))
        start = time.perf_counter()
        a, q = arnoldi(hessian_vector_product(model, x[:2000], y[:2000]), torch.randn(model.theta.shape), iterations)
        values, u = distill(a, q, k)
        t_arnoldi = time.perf_counter() - start
        start = time.perf_counter()
        scores = torch.cat([self_influence(projections(model, x[i:i + 1000], y[i:i + 1000], u), values)
                            for i in range(0, len(y), 1000)])
        t_proj = time.perf_counter() - start
        auroc = roc_auc_score(noisy != clean, scores.numpy())
        print(f"iterations {iterations}, k {k} ({len(values)} positive eigenvalues kept): Arnoldi {t_arnoldi:.1f} s, "
              f"projections {t_proj:.1f} s, total {t_arnoldi + t_proj:.1f} s; self-influence AUROC {auroc:.3f}")


if __name__ == "__main__":
    main()
