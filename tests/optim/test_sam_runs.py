"""SAM and ASAM end to end, from the real configs: with every method, with a scheduler, across a resume,
under DDP on two CPU processes and (with CUDA) under bf16 autocast; and SAM's label-noise experiments."""
import csv
import json
import subprocess
import sys

import pytest
import torch
from conftest import DDP_FORK, ROOT
from method_configs import METHODS, fast
from hydra import compose, initialize_config_dir

STEPS_PER_EPOCH = 10  # digits: 1,437 training images, 10% validation, batches of 128, last one dropped


def checkpoint(out):
    return torch.load(out / "checkpoints" / "last.ckpt", weights_only=False, map_location="cpu")


@pytest.mark.parametrize("method", METHODS)
def test_sam_trains_every_method(fit, method):
    summary, out = fit(*fast(method), "optimizer=sam", "noise=sym0.4", "diagnostics=none")
    # the summary's accuracy is the last epoch's test/acc as logged: what the SAM-trained network scored
    logged = [r["test/acc"] for r in csv.DictReader((out / "metrics.csv").open()) if r.get("test/acc")]
    assert summary["epochs"] == 2 and summary["test_acc_last"] == pytest.approx(float(logged[-1]))
    assert summary["test_acc_last"] > 0.15  # 10 classes: an update that went wrong stays at chance (0.1)
    ckpt = checkpoint(out)
    # one optimizer step per batch for the two passes (Co-teaching+ may skip a batch without disagreement)
    batches = ckpt["loops"]["fit_loop"]["epoch_loop.state_dict"]["_batches_that_stepped"]  # fused or not
    assert ckpt["global_step"] <= batches
    if method != "coteaching_plus":
        assert ckpt["global_step"] == batches
    # the checkpoint holds the base optimizer's state: Adam's moments
    state = ckpt["optimizer_states"][0]
    assert state["state"] and {"exp_avg", "exp_avg_sq"} <= set(state["state"][0])


def test_asam_trains(fit):
    summary, out = fit("optimizer=asam", "noise=sym0.4")
    assert summary["epochs"] == 2 and summary["test_acc_last"] > 0.3
    assert checkpoint(out)["global_step"] == 2 * STEPS_PER_EPOCH


def test_cosine_schedule_sets_the_lr_of_the_base_optimizer(fit):
    _, out = fit("optimizer=sam", "scheduler=cosine", "noise=sym0.4")
    ckpt = checkpoint(out)
    group = ckpt["optimizer_states"][0]["param_groups"][0]
    # T_max = 2 epochs; during (and after) epoch 1: 1e-3 * (1 + cos(pi / 2)) / 2
    assert group["initial_lr"] == pytest.approx(1e-3) and group["lr"] == pytest.approx(5e-4)
    assert ckpt["lr_schedulers"][0]["last_epoch"] == 1


def test_resumed_sam_run_ends_with_the_metrics_and_weights_of_an_uninterrupted_run(fit):
    common = ["noise=sym0.4", "optimizer=sam", "trainer.max_epochs=4", "model.dropout=0.3", "seed=7",
              "scheduler=step", "scheduler.milestones=[1,3]"]
    full, _ = fit(*common, name="full")
    _, half_dir = fit(*[c for c in common if "max_epochs" not in c], "trainer.max_epochs=2", name="half")
    resumed, _ = fit(*common, f"ckpt_path={half_dir}/checkpoints/last.ckpt", name="resumed")
    for key in ["epochs", "test_acc_last", "test_acc_mean_last10", "test_acc_at_best_val", "best_val_epoch"]:
        assert resumed[key] == full[key], key
    w_full = checkpoint(half_dir.parent / "full")["state_dict"]
    w_res = checkpoint(half_dir.parent / "resumed")["state_dict"]
    for k in w_full:
        torch.testing.assert_close(w_res[k], w_full[k], rtol=0, atol=0)


@pytest.mark.slow
def test_sam_under_ddp_on_two_cpu_processes_finishes(fit):
    # Co-teaching+: its second pass at w + e sums the disagreement over the ranks, a collective
    summary, _ = fit(*DDP_FORK, "optimizer=sam", "method=coteaching_plus", "noise=sym0.4", "method.num_gradual=1")
    assert summary["epochs"] == 2 and summary["method"] == "CoTeachingPlus"  # (in-process: named by its class)


@pytest.mark.slow
def test_under_ddp_only_the_second_pass_is_all_reduced(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "tests" / "sam_ddp_probe.py"), str(tmp_path / "probe.json")],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    probe = json.loads((tmp_path / "probe.json").read_text())
    assert probe["steps"] == 4  # 64 samples, 2 ranks, batches of 8
    rank0, rank1 = probe["first_pass_norms"]
    # first pass in no_sync: each rank ascends along the gradient of its own shard
    assert all(abs(a - b) > 1e-4 for a, b in zip(rank0, rank1))
    # second pass all-reduced: the ranks step identically and stay equal
    assert probe["weight_diff"] == 0.0


def test_sam_under_bf16_autocast_on_the_cpu(fit):
    summary, out = fit("optimizer=sam", "method=jocor", "noise=sym0.4", "trainer.precision=bf16-mixed")
    assert summary["epochs"] == 2 and summary["test_acc_last"] > 0.3
    assert checkpoint(out)["global_step"] == 2 * STEPS_PER_EPOCH


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("method", ["ce", "jocor"])
def test_sam_under_bf16_autocast_on_the_gpu(fit, method):
    summary, out = fit("trainer=gpu", "optimizer=sam", f"method={method}", "noise=sym0.4", "model=cnn_jocor")
    assert summary["epochs"] == 2 and summary["test_acc_last"] > 0.3
    assert checkpoint(out)["global_step"] == 2 * STEPS_PER_EPOCH


# -- SAM's label-noise protocol (Foret et al. 2021), values written out here -----------------------------------
@pytest.mark.parametrize("noise, rate, rho", [("sym20", 0.2, 0.1), ("sym40", 0.4, 0.1), ("sym60", 0.6, 0.1),
                                              ("sym80", 0.8, 0.05)])
def test_sam_experiment_holds_the_papers_protocol(noise, rate, rho):
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=[f"experiment=sam/cifar10_{noise}"])
    assert cfg.data.name == "cifar10" and cfg.data.augment and cfg.data.flip and cfg.data.crop_padding == 4
    assert cfg.model._target_ == "noisyrobust.models.ResNet32"
    assert cfg.method._target_ == "noisyrobust.methods.Standard" and cfg.method.loss._target_.endswith("CrossEntropy")
    assert cfg.noise._target_ == "noisyrobust.noise.symmetric_noise" and cfg.noise.rate == pytest.approx(rate)
    sam = cfg.method.optimizer
    assert sam._target_ == "noisyrobust.optim.SAM" and sam.rho == pytest.approx(rho) and not sam.adaptive
    base = dict(sam.base_optimizer)
    assert base == {"_target_": "torch.optim.SGD", "_partial_": True, "lr": 0.1, "momentum": 0.9,
                    "nesterov": True, "weight_decay": 5e-4}
    assert cfg.scheduler._target_ == "torch.optim.lr_scheduler.CosineAnnealingLR"
    assert cfg.method.scheduler.T_max == 200 and cfg.trainer.max_epochs == 200
