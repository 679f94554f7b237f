"""BatchNorm running statistics that a pass of the network must leave untouched."""
from contextlib import contextmanager

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm


@contextmanager
def frozen_running_stats(module: nn.Module):
    """Inside the block, forward passes in train mode normalize with the batch's statistics as usual,
    but every BatchNorm's ``running_mean``, ``running_var`` and ``num_batches_tracked`` are put back on
    exit, bit for bit (exact for any momentum, ``momentum=None``'s cumulative average included). SAM's
    second pass runs here, so the statistics see each batch once (a pitfall of SAM reimplementations). Keep
    the pass's backward inside the block too: autograd saved the buffers for BatchNorm's backward and
    refuses them once modified in place."""
    saved = [(buf, buf.clone()) for m in module.modules() if isinstance(m, _BatchNorm)
             for buf in m.buffers(recurse=False)]
    try:
        yield
    finally:
        with torch.no_grad():
            for buf, value in saved:
                buf.copy_(value)
