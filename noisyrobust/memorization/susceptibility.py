"""Susceptibility to noisy labels (Forouzesh, Sedghi, Thiran, ICLR 2023): how much one optimizer step on
randomly labelled inputs lowers their loss, tracked every epoch without changing the training.

S~ is a fixed set of training inputs with uniform random labels, drawn once from the seed. At the start of
every epoch t, with the model and optimizer snapshotted: Phi(w) = mean CE on a batch B~ of S~ (train mode,
with the training augmentation); one optimizer step on B~; Phi(w~) again; then model, optimizer and RNG
are restored bit for bit. dPhi(t) = Phi(w(t)) - Phi(w~(t+1)); zeta(t) = (1/t) sum_{1<=tau<=t} dPhi(tau)
(epoch 0 skipped, as the authors' notebook). High zeta: the network is prone to memorize.
"""
import copy

import numpy as np
import torch
import torch.nn.functional as F
from lightning.pytorch import Callback

from noisyrobust.errors import UserError


def running_susceptibility(delta_phi: list) -> float:
    """zeta(t) = mean of dPhi over epochs 1..t (epoch 0 left out); with only epoch 0 seen, its dPhi."""
    return float(np.mean(delta_phi[1:])) if len(delta_phi) > 1 else float(delta_phi[0])


def susceptibility_region(train_acc: float, zeta: float, *, acc_threshold: float, zeta_threshold: float) -> int:
    """The paper's four regions of (training accuracy, susceptibility): 1 high accuracy and low zeta (the
    models that generalize best under label noise), 2 high accuracy and high zeta, 3 low accuracy and low
    zeta, 4 low accuracy and high zeta."""
    high_acc, high_zeta = train_acc >= acc_threshold, zeta >= zeta_threshold
    return {(True, False): 1, (True, True): 2, (False, False): 3, (False, True): 4}[(high_acc, high_zeta)]


class Susceptibility(Callback):
    """Logs ``mem/susceptibility`` (zeta) and ``mem/susceptibility_step`` (dPhi) every epoch; costs one
    forward-backward, two forwards on ``batch_size`` samples and one copy of the model and optimizer."""

    def __init__(self, *, size: int = 1000, batch_size: int = 128, seed: int = 0):
        if size < 1 or batch_size < 1:
            raise UserError(f"callbacks.susceptibility.size={size} and batch_size={batch_size} must be >= 1")
        self.size, self.batch_size, self.seed = size, batch_size, seed
        self.delta_phi: list = []

    def setup(self, trainer, pl_module, stage: str) -> None:
        dm = trainer.datamodule
        if getattr(dm, "data", None) is None:
            raise UserError(f"the susceptibility callback needs the training images in memory and data={dm.name} "
                            "reads them from files; leave susceptibility out of callbacks")
        rng = np.random.default_rng([self.seed, 4242])
        pool = dm.train_indices.numpy()
        self.index = torch.from_numpy(rng.choice(pool, min(self.size, len(pool)), replace=False))
        self.labels = torch.from_numpy(rng.integers(0, dm.num_classes, len(self.index)))

    def _batch(self, trainer, device):
        """B~ for this epoch: a fixed-seed draw from S~, its inputs through the training transform."""
        dm = trainer.datamodule
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + trainer.current_epoch)
        pick = torch.randperm(len(self.index), generator=g)[:self.batch_size]
        images = dm.data.train_images[self.index[pick]]
        x = dm.train_transform(images, g if dm.augment else None)
        return x.to(device), self.labels[pick].to(device)

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        optimizer = trainer.optimizers[0]
        optimizer = getattr(optimizer, "base_optimizer", optimizer)  # SAM: its plain step
        model_state = copy.deepcopy(pl_module.state_dict(keep_vars=False))
        opt_state = copy.deepcopy(optimizer.state_dict())
        rng_cpu = torch.get_rng_state()
        rng_cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
        grads = [None if p.grad is None else p.grad.clone() for p in pl_module.parameters()]
        x, y = self._batch(trainer, pl_module.device)
        net, was_training = pl_module.nets[0], pl_module.nets[0].training
        net.train()
        with torch.enable_grad():
            optimizer.zero_grad()
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            after = F.cross_entropy(net(x), y)
        self.delta_phi.append(float(loss.detach() - after))
        # back to exactly where training was: weights and buffers, optimizer moments and step counts, RNG
        pl_module.load_state_dict(model_state)
        optimizer.load_state_dict(opt_state)
        for p, g in zip(pl_module.parameters(), grads):
            p.grad = g
        torch.set_rng_state(rng_cpu)
        if rng_cuda is not None:
            torch.cuda.set_rng_state_all(rng_cuda)
        net.train(was_training)
        pl_module.log_dict({"mem/susceptibility": running_susceptibility(self.delta_phi),
                            "mem/susceptibility_step": self.delta_phi[-1]}, on_epoch=True, on_step=False)

    def state_dict(self) -> dict:
        return {"delta_phi": list(self.delta_phi)}

    def load_state_dict(self, state_dict: dict) -> None:
        self.delta_phi = list(state_dict.get("delta_phi", []))
