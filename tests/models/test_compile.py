"""model.compile=true: the networks run through torch.compile in every method (two networks, SAM's second
pass, evaluation), compile a bounded number of graphs however many steps run, and checkpoint under the
plain networks' parameter names. Compiled here with the aot_eager backend (Dynamo's tracing, guards and
AOT autograd as with Inductor, without the C++ code generation that takes minutes on 2 CPU cores)."""
import functools

import pytest
import torch
from torch._dynamo.testing import CompileCounterWithBackend

from noisyrobust.models import MLP, JoCoRCNN


@pytest.fixture
def compile_counter(monkeypatch):
    counter = CompileCounterWithBackend("aot_eager")
    monkeypatch.setattr(torch, "compile", functools.partial(torch.compile, backend=counter))
    torch._dynamo.reset()
    yield counter
    torch._dynamo.reset()


def test_compile_key_compiles_the_forward_in_place_and_keeps_parameter_names(compile_counter):
    plain = MLP(in_channels=1, num_classes=3, image_size=4, hidden=[8])
    torch.manual_seed(0)
    net = MLP(in_channels=1, num_classes=3, image_size=4, hidden=[8], compile=True)
    net.load_state_dict(plain.state_dict())
    assert net.state_dict().keys() == plain.state_dict().keys()
    x = torch.randn(5, 1, 4, 4)
    torch.testing.assert_close(net(x), plain(x))
    assert compile_counter.frame_count == 1
    net(torch.randn(5, 1, 4, 4))
    assert compile_counter.frame_count == 1  # same shapes and mode: no recompilation


@pytest.mark.parametrize("overrides", [
    ["method=ce", "model.hidden=[32]"],
    ["method=jocor", "noise=sym0.4", "model=cnn_jocor", "optimizer=sam", "+trainer.limit_train_batches=6"],
    # PES: layers renewed in place and a fresh optimizer between the epochs, the confident split's pass
    ["method=pes", "noise=sym0.4", "method.warmup_epochs=0", "method.refine_depths=[0]", "method.refine_epochs=[1]"],
])
def test_a_compiled_run_compiles_a_bounded_number_of_graphs(fit, compile_counter, overrides):
    summary, out = fit("model.compile=true", *overrides)
    frames = compile_counter.frame_count
    plain, _ = fit(*overrides, name="plain")
    steps = 2 * min(6, (1797 - 360 - 144) // 128)  # two epochs; digits: 1,293 training images, batch 128
    nets = 2 if "method=jocor" in overrides else 1
    # per network: the training forward, evaluation (no grad, eval mode) and one dynamic-shape variant
    # for the last evaluation batch; nothing per step, SAM's second pass included
    assert 0 < frames <= 4 * nets < steps
    # the same training: aot_eager runs the same operations (up to float reassociation)
    assert summary["test_acc_last"] == pytest.approx(plain["test_acc_last"], abs=0.02)
    state = torch.load(out / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    assert not any("_orig_mod" in k for k in state)


def test_compiled_jocor_cnn_equals_the_plain_one_in_eval(compile_counter):
    torch.manual_seed(0)
    plain = JoCoRCNN(in_channels=3, num_classes=10, image_size=8).eval()
    net = JoCoRCNN(in_channels=3, num_classes=10, image_size=8, compile=True).eval()
    net.load_state_dict(plain.state_dict())
    x = torch.randn(4, 3, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(net(x), plain(x), rtol=1e-4, atol=1e-5)
