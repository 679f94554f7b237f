"""PES through the pipeline: each phase trains what the paper says (all layers; the renewed layers alone; every
layer never renewed), under SAM, with the lr schedule counting the reference's epochs, resumed exactly across
each switch; PES-semi's confident set is the final network's agreement with the given labels; a network PES
would renew whole is refused in one line. (DDP, fused steps, host sync and compile: the cross-method batteries
and tests/models/test_compile.py.)"""
import csv

import numpy as np
import pytest
import torch
from conftest import compose_cfg
from hydra.utils import instantiate

from noisyrobust.errors import UserError, find_user_error
from noisyrobust.run import build_data

# MLP 64 -> 32 -> 32 -> 10: net.1, net.3, net.5. Epoch 0 warm-up; 1 refines depth 1 (net.5 + net.3); 2 depth 0
# (net.5); 3 the confident phase (net.1 alone: the renewed layers stay frozen). The step schedule's milestone 2 is the
# reference's epoch 2, our epoch 3 (the refinement stands in for the reference's epoch T1 = 1).
COMMON = ["method=pes", "model.hidden=[32,32]", "method.warmup_epochs=1", "method.refine_depths=[1,0]",
          "method.refine_epochs=[1,1]", "method.refine_optimizer.lr=1e-4",
          "optimizer=sam", "scheduler=step", "scheduler.milestones=[2]", "noise=sym0.4",
          "+trainer.limit_train_batches=3", "diagnostics=none", "seed=2"]


def checkpoint(out):
    return torch.load(out / "checkpoints" / "last.ckpt", weights_only=False, map_location="cpu")


def test_each_phase_trains_its_layers_with_its_optimizer_and_a_resume_crosses_each_switch(fit):
    # (the warm-up alone is stopped by steps: a run of its length is refused)
    outs = {e: fit(*COMMON, *(["trainer.max_epochs=4", "+trainer.max_steps=3"] if e == 1 else [f"trainer.max_epochs={e}"]),
                   name=f"e{e}")[1] for e in (1, 2, 3, 4)}
    runs = {e: checkpoint(out) for e, out in outs.items()}
    trains = {2: {"net.3", "net.5"}, 3: {"net.5"}, 4: {"net.1"}}  # the layers that move in the epoch ending there
    for end, moving in trains.items():
        a, b = runs[end - 1]["state_dict"], runs[end]["state_dict"]
        for layer in ("net.1", "net.3", "net.5"):
            changed = not torch.equal(a[f"nets.0.{layer}.weight"], b[f"nets.0.{layer}.weight"])
            assert changed == (layer in moving), (end, layer)
    # the refinements: Adam at 1e-4 without a schedule; then the run's SAM(Adam 1e-3) with its schedule at the
    # reference's epoch 2: x0.1
    assert runs[2]["lr_schedulers"] == [] and runs[2]["optimizer_states"][0]["param_groups"][0]["lr"] == 1e-4
    assert runs[4]["optimizer_states"][0]["param_groups"][0]["lr"] == pytest.approx(1e-4)
    assert runs[4]["lr_schedulers"][0]["last_epoch"] == 2
    # from the first refinement's checkpoint (its phase and Adam's state come back) across both later switches
    _, out = fit(*COMMON, "trainer.max_epochs=4", f"ckpt_path={outs[2]}/checkpoints/last.ckpt", name="resumed")
    for key, value in runs[4]["state_dict"].items():
        assert torch.equal(checkpoint(out)["state_dict"][key], value), key


def test_pes_semi_labels_the_final_networks_agreement_with_the_given_labels(fit):
    summary, out = fit("method=pes_semi", "method.warmup_epochs=1", "method.refine_epochs=[1]", "trainer.max_epochs=3",
                       "noise=sym0.4", "+trainer.limit_train_batches=3", "seed=1", hydra_config=True)
    assert "pes_unconfident" in summary["label_issues"]["scores"]
    cfg = compose_cfg(out, "method=pes_semi", "noise=sym0.4", "seed=1")
    net = instantiate(cfg.model)
    state = checkpoint(out)["state_dict"]
    net.load_state_dict({k[len("nets.0."):]: v for k, v in state.items() if k.startswith("nets.0.")})
    dm, _ = build_data(cfg)
    noisy = torch.as_tensor(np.load(out / "noisy_labels.npz")["noisy"])  # the labels the run trained on
    x = dm.eval_transform(dm.data.train_images, None)  # every training image, un-augmented
    with torch.no_grad():
        agrees = (net.eval()(x).argmax(1) == noisy).numpy()
    rows = list(csv.DictReader((out / "label_issues.csv").open()))
    got = {int(r["index"]): float(r["pes_unconfident"]) for r in rows}
    expected = {int(i): float(not agrees[i]) for i in got}
    assert got == expected and 0 < np.mean(list(got.values())) < 1


def test_a_network_pes_would_renew_whole_is_refused_in_one_line(tmp_path):
    cfg = compose_cfg(tmp_path, "method=pes", "method.refine_depths=[1,0]", "method.refine_epochs=[7,5]")  # the
    # default MLP has one hidden layer: depth 1 (the CIFAR protocol's) renews both
    with pytest.raises(Exception) as e:
        instantiate(cfg.method)
    error = find_user_error(e.value)
    assert isinstance(error, UserError) and "\n" not in str(error)
    assert str(error).startswith("method.refine_depths=[1, 0] renews every layer of model MLP")
