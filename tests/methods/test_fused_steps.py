"""Fused steps: one call of the training step runs several optimizer steps over consecutive batches. For every
method of conf/method/ a fused run is bit-identical to an unfused one (metrics.csv, label_issues.csv, the final
weights and per-sample state), with a last chunk shorter than the others (10 batches an epoch, 4 a call);
a run resumed from a fused one's checkpoint equals the uninterrupted one (every method: tests/methods/
test_every_method.py, on the same runs); DDP fuses alike; where fusing cannot be exact (image files,
a callback that reads every step, Lightning's batch limits) auto keeps one step per call and an explicit
number is refused in one line."""
import json

import pytest
import torch
from conftest import DDP_FORK, compose_cfg, run_cli
from formats import write_image_folder
from method_configs import METHODS

from noisyrobust.data.loader import BatchTransform, FusedBatches, TensorBatches
from noisyrobust.errors import UserError
from noisyrobust.run import AUTO_FUSED_STEPS, fused_steps

COMMON = ["noise=sym0.4", "model.dropout=0.2", "seed=2"]  # dropout: the steps' random draws must line up too


def checkpoint(out):
    return torch.load(out / "checkpoints" / "last.ckpt", weights_only=False, map_location="cpu")


def assert_same_run(a, b):
    assert (a / "metrics.csv").read_text() == (b / "metrics.csv").read_text()
    if (a / "label_issues.csv").exists():
        assert (a / "label_issues.csv").read_bytes() == (b / "label_issues.csv").read_bytes()
    ca, cb = checkpoint(a), checkpoint(b)
    assert ca["global_step"] == cb["global_step"]
    for part in ("state_dict", "per_sample"):
        for key in ca.get(part, {}):
            assert torch.equal(ca[part][key], cb[part][key]), f"{part}: {key}"


@pytest.mark.parametrize("method", [pytest.param(m, marks=pytest.mark.xdist_group(m)) for m in METHODS])
def test_a_fused_run_is_bit_identical_to_an_unfused_one(method_runs, method):
    runs = method_runs(method)  # (tests/method_configs.py: train_battery) 10 batches an epoch, 4 a call
    assert_same_run(runs["unfused"][1], runs["full"][1])


def test_the_loader_fuses_consecutive_batches_with_a_shorter_last_chunk():
    images = torch.arange(10 * 4, dtype=torch.uint8).view(10, 1, 2, 2)
    args = dict(batch_size=2, transform=BatchTransform(), shuffle=True, drop_last=True, seed=3)
    single = list(TensorBatches(images, torch.arange(10), torch.arange(10), **args))
    fused = TensorBatches(images, torch.arange(10), torch.arange(10), fuse=2, **args)
    chunks = list(fused)
    assert len(fused) == len(chunks) == 3 and fused.batches_per_epoch == 5
    assert all(isinstance(c, FusedBatches) for c in chunks) and [len(c) for c in chunks] == [2, 2, 1]
    flat = [b for c in chunks for b in c]
    for (x1, y1, i1), (x2, y2, i2) in zip(single, flat):
        assert torch.equal(x1, x2) and torch.equal(y1, y2) and torch.equal(i1, i2)


def test_auto_fuses_the_default_run_and_keeps_one_step_where_that_is_not_exact(tmp_path):
    import hydra

    def resolved(*overrides, callbacks=()):
        cfg = compose_cfg(tmp_path, *overrides)
        dm = hydra.utils.instantiate(cfg.data, noise=None, noise_seed=0)
        trainer = hydra.utils.instantiate(cfg.trainer, callbacks=list(callbacks), logger=False)
        return fused_steps(cfg.fused_steps, dm, trainer)

    from noisyrobust.memorization.slingshot import SlingshotMonitor
    assert resolved() == AUTO_FUSED_STEPS
    assert resolved("fused_steps=3") == 3 and resolved("fused_steps=1") == 1
    assert resolved("+trainer.limit_train_batches=3") == 1 and resolved("+trainer.max_steps=5") == 1
    assert resolved(callbacks=[SlingshotMonitor()]) == 1
    with pytest.raises(UserError, match="fused_steps=4 needs batches held on the device"):
        resolved("fused_steps=4", callbacks=[SlingshotMonitor()])


def test_image_files_keep_one_step_per_call_and_an_explicit_number_is_one_line(tmp_path):
    root = write_image_folder(tmp_path / "images", {"cat": 6, "dog": 6}, test_counts={"cat": 2, "dog": 2})
    data = ["data=folder", f"data.root={root}", "model=mlp", "data.resize=32", "data.crop=28", "data.num_workers=0",
            "data.batch_size=4", "trainer.max_epochs=1"]
    r = run_cli(tmp_path / "bad", *data, "fused_steps=4")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("error: fused_steps=4 needs batches held on the device")
    r = run_cli(tmp_path / "auto", *data)
    assert r.returncode == 0, r.stderr[-2000:]
    assert checkpoint(tmp_path / "auto")["loops"]["fit_loop"]["epoch_loop.batch_progress"]["total"]["completed"] == \
        checkpoint(tmp_path / "auto")["global_step"]  # one call per optimizer step


@pytest.mark.parametrize("value", ["0", "abc", "1.5"])
def test_a_bad_fused_steps_is_refused_before_anything_is_written(tmp_path, value):
    from noisyrobust.validate import check_config

    with pytest.raises(UserError, match=f"fused_steps=.*is neither auto nor an integer >= 1"):
        check_config(compose_cfg(tmp_path, f"fused_steps={value}"), gpu_available=False)


@pytest.mark.slow
def test_ddp_fuses_alike(fit):
    runs = {k: fit(*DDP_FORK, *COMMON, f"fused_steps={k}", "diagnostics=none", name=f"k{k}")[1] for k in (1, 4)}
    assert_same_run(runs[1], runs[4])
    assert json.loads((runs[4] / "summary.json").read_text())["epochs"] == 2
