"""ProMix's pseudo head reads the features the network's output layer receives."""
import pytest
import torch
from torch import nn

from noisyrobust.errors import UserError
from noisyrobust.methods.promix import tap_output_layer


def test_the_tap_keeps_the_output_layers_input_and_changes_no_output():
    net = nn.Sequential(nn.Flatten(), nn.Linear(12, 5), nn.ReLU(), nn.Linear(5, 3))
    x = torch.randn(4, 3, 2, 2)
    before = net(x)
    tap = tap_output_layer(net, 3)
    assert torch.equal(net(x), before)
    assert torch.equal(tap.features, net[2](net[1](net[0](x))))


def test_a_network_without_a_linear_output_layer_is_refused_naming_it():
    with pytest.raises(UserError, match="Sequential does not end in an nn.Linear with 3 outputs"):
        tap_output_layer(nn.Sequential(nn.Conv2d(3, 3, 1), nn.Flatten()), 3)
