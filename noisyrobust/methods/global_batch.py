"""Selection over the global batch (``method.selection_scope=global``): under DDP each process holds 1/N of
every global batch; these helpers let a selection rule see all of it, so that N processes keep exactly the
samples one process would keep from the same global batch (the references select per process: ``local``)."""
import torch


def gather_global_batch(module, *tensors: torch.Tensor):
    """Every process's per-sample ``tensors`` concatenated in rank order — the global batch in the order one
    process would hold it (the loaders give rank r the r-th slice) — and this process's slice of it."""
    n = len(tensors[0])
    gathered = [module.all_gather(t.detach().float()).reshape(-1) for t in tensors]
    start = module.global_rank * n if module.trainer.world_size > 1 else 0
    return gathered, slice(start, start + n)


def global_kept_mean(module, values: torch.Tensor, kept: torch.Tensor, kept_total) -> torch.Tensor:
    """This process's share of the mean of ``values`` over all ``kept_total`` samples kept in the global batch:
    world_size * sum(values[kept]) / kept_total, since DDP averages the processes' gradients — the sum of the
    shares' gradients over N is the gradient of the one-process mean."""
    return (values * kept).sum() * module.trainer.world_size / torch.as_tensor(kept_total).clamp(min=1)
