"""A method whose schedule changes what the optimizer trains mid-run (PES re-initializes layers and trains them
with a fresh optimizer) fits the base: ``trainable_parameters`` + ``reset_optimizer``, under SAM, resumed
exactly before and after its switch. The method below is such a schedule in a few lines; the run is the
real pipeline's."""
import torch
from torch import nn

from noisyrobust.methods import Standard

TARGET = "method._target_=test_optimizer_phases.RetrainLastLayer"  # this file, importable by its name in pytest
COMMON = [TARGET, "optimizer=sam", "noise=sym0.4", "model.dropout=0.2", "seed=4", "diagnostics=none"]


def last_linear(net: nn.Module) -> nn.Linear:
    return [m for m in net.modules() if isinstance(m, nn.Linear)][-1]


class RetrainLastLayer(Standard):
    """From epoch 1 on, the last layer is re-initialized and trained alone by a fresh optimizer."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.phase = 0

    def trainable_parameters(self):
        return last_linear(self.nets[0]).parameters() if self.phase else self.parameters()

    def on_train_epoch_start(self) -> None:
        super().on_train_epoch_start()
        if self.phase == 0 and self.current_epoch >= 1:
            self.phase = 1
            last_linear(self.nets[0]).reset_parameters()
            self.reset_optimizer()

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        super().on_save_checkpoint(checkpoint)
        checkpoint["phase"] = self.phase

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        super().on_load_checkpoint(checkpoint)
        self.phase = checkpoint.get("phase", 0)


def weights(out):
    return torch.load(out / "checkpoints" / "last.ckpt", weights_only=False, map_location="cpu")["state_dict"]


def test_after_the_switch_only_the_renewed_layer_trains_with_sam(fit):
    _, before = fit(*COMMON, "trainer.max_epochs=1", name="before")
    _, after = fit(*COMMON, "trainer.max_epochs=2", name="after")
    a, b = weights(before), weights(after)
    last = sorted(k for k in a if k.startswith("nets.0.") and k.endswith("weight"))[-1]
    for key in a:
        if key.startswith("nets.0.") and key.rsplit(".", 1)[0] != last.rsplit(".", 1)[0]:
            assert torch.equal(a[key], b[key]), key  # the other layers no longer train
    assert not torch.equal(a[last], b[last])


def test_a_run_resumed_before_or_after_the_switch_ends_as_the_uninterrupted_one(fit):
    _, full = fit(*COMMON, "trainer.max_epochs=3", name="full")
    for epochs in (1, 2):  # a checkpoint of the first phase, and one of the second (its optimizer's state)
        _, half = fit(*COMMON, f"trainer.max_epochs={epochs}", name=f"half{epochs}")
        _, resumed = fit(*COMMON, "trainer.max_epochs=3", f"ckpt_path={half}/checkpoints/last.ckpt",
                         name=f"resumed{epochs}")
        a, b = weights(full), weights(resumed)
        for key in a:
            assert torch.equal(a[key], b[key]), (epochs, key)
