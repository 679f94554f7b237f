"""frozen_running_stats: a forward in train mode inside the block leaves every BatchNorm buffer as it
was, bit for bit, for exponential (momentum) and cumulative (momentum=None) averages alike."""
import pytest
import torch
from torch import nn

from noisyrobust.optim import frozen_running_stats


@pytest.mark.parametrize("momentum", [0.1, None])
def test_running_stats_are_put_back_after_a_forward_in_train_mode(momentum):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, momentum=momentum), nn.ReLU(),
                        nn.Conv1d(1, 2, 1), nn.BatchNorm1d(2, momentum=momentum)).train()
    x = torch.randn(8, 3)
    first = lambda: net[4](net[3](net[2](net[1](net[0](x))).unsqueeze(1)))  # noqa: E731
    first()
    before = {k: v.clone() for k, v in net.state_dict().items() if "running" in k or "num_batches" in k}
    assert int(before["1.num_batches_tracked"]) == 1
    with frozen_running_stats(net):
        out = first()
    after = net.state_dict()
    for key, value in before.items():
        assert torch.equal(after[key], value), key
    # the pass itself normalized with the batch's statistics (train mode), not the running ones
    torch.testing.assert_close(out.mean((0, 2)), torch.zeros(2), atol=1e-6, rtol=0)
    x = torch.randn(8, 3)
    first()  # outside the block the statistics move again
    assert int(net[1].num_batches_tracked) == 2 and not torch.equal(net[1].running_mean, before["1.running_mean"])


def test_stats_are_put_back_when_the_block_raises():
    bn = nn.BatchNorm1d(2).train()
    with pytest.raises(RuntimeError):
        with frozen_running_stats(bn):
            bn(torch.randn(4, 2))
            raise RuntimeError
    assert torch.equal(bn.running_mean, torch.zeros(2)) and int(bn.num_batches_tracked) == 0
