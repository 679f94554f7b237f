"""End to end, in-process from the real configs: every method and noise family, run files, resume."""
import csv
import json

import numpy as np
import pytest
import torch

from noisyrobust.noise import labels_checksum, load_noisy_labels


@pytest.mark.parametrize("method", ["ce", "sce"])
@pytest.mark.parametrize("noise", ["clean", "sym0.4", "uniform0.4", "random_labels", "pair0.45", "asym0.4", "inst0.2"])
def test_every_method_trains_under_every_noise_family(fit, method, noise):
    summary, out = fit(f"method={method}", f"noise={noise}")
    assert summary["epochs"] == 2
    logged = [float(r["test/acc"]) for r in csv.DictReader(open(out / "metrics.csv")) if r.get("test/acc")]
    assert len(logged) == 2 and summary["test_acc_last"] == pytest.approx(logged[-1])  # what the loggers wrote
    saved = load_noisy_labels(out / "noisy_labels.npz")
    realized = float(np.mean(saved["clean"] != saved["noisy"]))
    assert summary["noise"]["realized_rate"] == pytest.approx(realized)
    assert summary["noise"]["checksum"] == labels_checksum(saved["noisy"])
    if noise == "clean":
        assert realized == 0.0
    if noise == "asym0.4":  # only the digit classes of the map move (7->1, 2->7, 5<->6, 3->8)
        moved = saved["clean"] != saved["noisy"]
        assert set(np.unique(saved["clean"][moved])) <= {2, 3, 5, 6, 7}


@pytest.mark.parametrize("method", ["coteaching", "coteaching_plus", "jocor"])
@pytest.mark.parametrize("noise", ["sym0.4", "asym0.4"])
def test_two_network_methods_train_and_report_each_network(fit, method, noise):
    summary, out = fit(f"method={method}", f"noise={noise}", "method.num_gradual=1")
    assert summary["epochs"] == 2
    assert {"test_acc_net1_last", "test_acc_net2_last"} <= set(summary)
    assert summary["test_acc_last"] == pytest.approx((summary["test_acc_net1_last"] + summary["test_acc_net2_last"]) / 2)
    header = (out / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"test/acc_net1", "test/acc_net2", "select/precision", "select/recall", "select/forget_rate"} <= set(header)


def test_forget_rate_defaults_to_the_noise_rate_and_half_of_it_for_asymmetric_noise(tmp_path):
    from conftest import compose_cfg

    assert compose_cfg(tmp_path, "method=jocor", "noise=sym0.5").method.forget_rate == 0.5
    assert compose_cfg(tmp_path, "method=coteaching", "noise=asym0.4").method.forget_rate == 0.2
    assert compose_cfg(tmp_path, "method=jocor", "noise=sym0.5", "noise.rate=0.3").method.forget_rate == 0.3


def test_run_directory_holds_config_metrics_labels_checkpoints_and_summary(fit):
    summary, out = fit("noise=sym0.4")
    assert (out / "checkpoints" / "last.ckpt").is_file() and (out / "checkpoints" / "best.ckpt").is_file()
    assert not list(out.rglob("*.tmp"))
    header = (out / "metrics.csv").read_text().splitlines()[0].split(",")
    for name in ["train/loss_epoch", "train/acc", "val/acc", "test/acc", "noise/rate", "select/ratio",
                 "select/precision", "select/recall", "mem/noisy_fit", "mem/noisy_true", "mem/clean_fit"]:
        assert name in header
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk["test_acc_last"] == summary["test_acc_last"]
    assert on_disk["noise"]["realized_rate"] == pytest.approx(0.4, abs=0.05)
    # digits: 1,797 images, 360 in the fixed clean test split; the rest is the noisy training set
    assert len(load_noisy_labels(out / "noisy_labels.npz")["clean"]) == 1797 - 360


def test_noisy_labels_depend_only_on_noise_config_and_seed(fit):
    a, _ = fit("noise=sym0.4", "seed=3", "model.hidden=[32]", name="a")
    b, _ = fit("noise=sym0.4", "seed=3", "optimizer.lr=0.01", name="b")
    c, _ = fit("noise=sym0.4", "seed=3", "noise.seed=4", name="c")
    assert a["noise"]["checksum"] == b["noise"]["checksum"] != c["noise"]["checksum"]


def test_resumed_run_ends_with_the_metrics_of_an_uninterrupted_run(fit):
    common = ["noise=sym0.4", "trainer.max_epochs=4", "model.dropout=0.3", "seed=7", "scheduler=step",
              "scheduler.milestones=[1,3]"]
    full, _ = fit(*common, name="full")
    _, half_dir = fit(*[c for c in common if "max_epochs" not in c], "trainer.max_epochs=2", name="half")
    resumed, _ = fit(*common, f"ckpt_path={half_dir}/checkpoints/last.ckpt", name="resumed")
    for key in ["epochs", "test_acc_last", "test_acc_mean_last10", "test_acc_at_best_val", "best_val_epoch"]:
        assert resumed[key] == full[key], key
    w_full = torch.load(half_dir.parent / "full" / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    w_res = torch.load(half_dir.parent / "resumed" / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    for k in w_full:
        torch.testing.assert_close(w_res[k], w_full[k], rtol=0, atol=0)


def test_cifar10_from_official_pickles_with_sce_cnn_and_pairflip(fit, tmp_path):
    from formats import write_cifar10

    write_cifar10(tmp_path / "data", sizes=(40, 40, 40, 40, 40), n_test=30)
    summary, out = fit("data=cifar10", "model=cnn_sce", "method=sce", "noise=pair0.45",
                       f"paths.data_dir={tmp_path / 'data'}", "data.batch_size=32", "data.source.download=false")
    assert summary["epochs"] == 2 and summary["data"] == "cifar10"
    saved = load_noisy_labels(out / "noisy_labels.npz")
    moved = saved["clean"] != saved["noisy"]
    assert np.all(saved["noisy"][moved] == (saved["clean"][moved] + 1) % 10)


def test_the_summary_counts_epochs_trained_when_evaluation_is_sparser(fit):
    summary, out = fit("trainer.max_epochs=4", "trainer.check_val_every_n_epoch=2", "diagnostics=none")
    assert summary["epochs"] == 4  # the history (what the test accuracies are read from) holds epochs 1 and 3
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert sorted(int(r["epoch"]) for r in rows if r.get("test/acc")) == [1, 3]
