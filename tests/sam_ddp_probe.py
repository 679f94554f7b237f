"""Run by tests/optim/test_sam_runs.py as `python tests/sam_ddp_probe.py <out.json>`: JoCoR with SAM under DDP on
two CPU processes (gloo), 4 steps on disjoint shards. Writes, from rank 0, each rank's first-pass gradient
norm per step (seen by SAM.ascend) and the largest difference between the ranks' final weights."""
import json
import sys
from functools import partial

import torch
import torch.distributed as dist
from lightning.pytorch import LightningDataModule, Trainer
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from noisyrobust.methods import JoCoR
from noisyrobust.optim import SAM

FIRST_PASS_NORMS = []


class RecordingSAM(SAM):
    def ascend(self):
        grads = [p.grad for g in self.param_groups for p in g["params"] if p.grad is not None]
        FIRST_PASS_NORMS.append(torch.sqrt(sum((g ** 2).sum() for g in grads)))
        super().ascend()


class Shards(LightningDataModule):
    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.x, self.y = torch.randn(64, 4, generator=g), torch.randint(0, 3, (64,), generator=g)
        self.clean_labels = self.y.clone()

    def train_dataloader(self):  # Lightning shards it with a DistributedSampler
        return DataLoader(TensorDataset(self.x, self.y, torch.arange(64)), batch_size=8)


def net(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 3))


if __name__ == "__main__":
    module = JoCoR(net1=net(1), net2=net(2), num_classes=3, forget_rate=0.25, num_gradual=1,
                   optimizer=partial(RecordingSAM, base_optimizer=partial(torch.optim.SGD, lr=0.5), rho=0.5))
    trainer = Trainer(accelerator="cpu", devices=2, strategy="ddp", max_epochs=1, logger=False,
                      enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                      limit_val_batches=0, num_sanity_val_steps=0)
    trainer.fit(module, datamodule=Shards())
    weights = torch.cat([p.detach().flatten() for p in module.parameters()])
    norms = torch.stack(FIRST_PASS_NORMS)
    all_weights, all_norms = [torch.zeros_like(weights) for _ in range(2)], [torch.zeros_like(norms) for _ in range(2)]
    dist.all_gather(all_weights, weights)
    dist.all_gather(all_norms, norms)
    if trainer.global_rank == 0:
        with open(sys.argv[1], "w") as f:
            json.dump({"steps": trainer.global_step, "first_pass_norms": [n.tolist() for n in all_norms],
                       "weight_diff": (all_weights[0] - all_weights[1]).abs().max().item()}, f)
