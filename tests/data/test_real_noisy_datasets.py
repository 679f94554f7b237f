"""End to end on real noisy-label formats written by the tests: Clothing1M's release layout, CIFAR-N label
files, a user's image folder and CSV; the Clothing1M experiments compose with the protocol's values."""
import json

import numpy as np
import pytest
import torch
from conftest import compose_cfg, run_cli
from formats import write_cifar10, write_cifar_n, write_clothing1m, write_csv, write_image_folder, write_jpeg

from noisyrobust.noise import load_noisy_labels

# tiny images and a tiny network instead of 256 -> 224 and a ResNet-50; no worker processes on 2 test cores
SMALL = ["model=mlp", "data.resize=32", "data.crop=28", "data.num_workers=0"]


def test_clothing1m_trains_jocor_on_its_released_noisy_labels(fit, tmp_path):
    w = write_clothing1m(tmp_path / "clothing1m")
    summary, out = fit("data=clothing1m", "method=jocor", f"data.root={tmp_path / 'clothing1m'}", *SMALL,
                       "data.samples_per_epoch=28", "data.batch_size=14", "data.skip_bad_images=true",
                       "method.num_gradual=1")
    assert summary["epochs"] == 2 and summary["data"] == "clothing1m"
    assert summary["noise"]["_target_"] == "noisyrobust.noise.human_noise"
    saved = load_noisy_labels(out / "noisy_labels.npz")
    np.testing.assert_array_equal(saved["noisy"], w["noisy"][:-1])  # the missing image skipped
    np.testing.assert_array_equal(saved["clean"], w["clean"][:-1])  # -1: clean label unknown
    known = w["clean"] >= 0
    # measured over the 6 training images whose clean label is known, 3 of which differ
    assert summary["noise"]["realized_rate"] == pytest.approx(np.mean(w["clean"][known] != w["noisy"][known])) == 0.5
    assert summary["method"] == "JoCoR" and summary["noise"]["rate"] == pytest.approx(0.3846)
    header = (out / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"val/acc", "test/acc", "select/precision", "mem/noisy_fit"} <= set(header)


def test_clothing1m_fine_tunes_an_imagenet_network_from_a_weights_file(fit, tmp_path):
    from torchvision.models import resnet18

    write_clothing1m(tmp_path / "clothing1m", bad=False)
    torch.manual_seed(123)
    given = resnet18().state_dict()
    torch.save(given, tmp_path / "r18.pth")
    summary, out = fit("data=clothing1m", f"data.root={tmp_path / 'clothing1m'}", *SMALL, "model=resnet18",
                       f"model.weights_path={tmp_path / 'r18.pth'}", "data.samples_per_epoch=28", "data.batch_size=14",
                       "trainer.max_epochs=1")
    assert summary["epochs"] == 1
    state = torch.load(out / "checkpoints" / "last.ckpt", weights_only=False, map_location="cpu")["state_dict"]
    conv1 = next(v for k, v in state.items() if k.endswith("conv1.weight") and v.shape == given["conv1.weight"].shape)
    # fine-tuned from the file's weights: two small steps away from them, not a fresh initialization
    assert (conv1 - given["conv1.weight"]).abs().max() < 0.05
    torch.manual_seed(0)
    assert (resnet18().state_dict()["conv1.weight"] - given["conv1.weight"]).abs().max() > 0.1


def test_rholoss_runs_on_image_files_through_the_same_datamodule_interface(fit, tmp_path):
    write_clothing1m(tmp_path / "c", bad=False)  # its IL stage: with_train_indices, then predict_dataloader
    summary, _ = fit("data=clothing1m", f"data.root={tmp_path / 'c'}", *SMALL, "method=rholoss", "data.batch_size=10",
                     "data.samples_per_epoch=20", "stages.irreducible_loss.epochs=1", "method.keep_ratio=0.5",
                     f"paths.cache_dir={tmp_path / 'cache'}")
    assert summary["epochs"] == 2 and list((tmp_path / "cache" / "irreducible_loss").glob("clothing1m_*.npz"))


@pytest.mark.slow
def test_clothing1m_bad_images_are_one_line_naming_them_and_nothing_is_written(tmp_path):
    write_clothing1m(tmp_path / "c")
    r = run_cli(tmp_path / "run", "data=clothing1m", f"data.root={tmp_path / 'c'}", *SMALL)
    last = r.stderr.strip().splitlines()[-1]
    assert r.returncode != 0 and last.startswith("error: 2 of the 60 images under")
    assert "images/1/1041.jpg (missing)" in last and "images/2/1042.jpg (cannot be decoded" in last
    assert not (tmp_path / "run" / "noisy_labels.npz").exists() and not (tmp_path / "run" / "summary.json").exists()


def test_cifar10n_trains_on_a_released_set_and_logs_its_realized_noise(fit, tmp_path):
    _, train_y, _, _ = write_cifar10(tmp_path / "data", sizes=(40, 40, 40, 40, 40), n_test=30)
    sets = write_cifar_n(tmp_path / "data" / "cifar-n" / "CIFAR-10_human.pt", train_y)
    summary, out = fit("data=cifar10n", "noise.label=worse", f"paths.data_dir={tmp_path / 'data'}",
                       "data.source.download=false", "data.batch_size=32")
    saved = load_noisy_labels(out / "noisy_labels.npz")
    np.testing.assert_array_equal(saved["noisy"], sets["worse"])
    np.testing.assert_array_equal(saved["clean"], train_y)
    assert summary["noise"]["_target_"].endswith("human_noise") and summary["noise"]["label"] == "worse"
    assert summary["noise"]["realized_rate"] == pytest.approx(np.mean(sets["worse"] != train_y))
    matrix = np.array(summary["noise"]["transition_matrix"])
    assert matrix.shape == (10, 10) and np.allclose(matrix[np.bincount(train_y, minlength=10) > 0].sum(1), 1, atol=1e-3)


def test_cifar10n_label_file_that_does_not_match_the_images_stops_the_run(fit, tmp_path):
    _, train_y, _, _ = write_cifar10(tmp_path / "data")
    write_cifar_n(tmp_path / "data" / "cifar-n" / "CIFAR-10_human.pt", (train_y + 1) % 10)
    from noisyrobust.errors import UserError

    with pytest.raises(UserError, match="'clean_label' disagrees with the CIFAR training labels at 23 of 23"):
        fit("data=cifar10n", f"paths.data_dir={tmp_path / 'data'}", "data.source.download=false")


def test_image_folder_with_injected_pairflip_noise(fit, tmp_path):
    write_image_folder(tmp_path / "imgs", {"cat": 12, "dog": 12, "owl": 12}, test_counts={"cat": 3, "dog": 3, "owl": 3})
    summary, out = fit("data=folder", f"data.root={tmp_path / 'imgs'}", "noise=pair0.45", *SMALL,
                       "data.batch_size=8")
    saved = load_noisy_labels(out / "noisy_labels.npz")
    moved = saved["clean"] != saved["noisy"]
    assert len(saved["clean"]) == 36 and moved.any()
    assert np.all(saved["noisy"][moved] == (saved["clean"][moved] + 1) % 3)
    assert summary["data"] == "folder" and summary["epochs"] == 2


@pytest.mark.slow
def test_csv_images_through_the_cli_with_the_labels_as_given(tmp_path):
    rng = np.random.default_rng(0)
    rows = [(str(write_jpeg(tmp_path / "pics" / f"{i}.png", rng).relative_to(tmp_path)), ["a", "b"][i % 2])
            for i in range(20)]
    write_csv(tmp_path / "labels.csv", rows)
    r = run_cli(tmp_path / "run", "data=folder", f"data.root={tmp_path / 'labels.csv'}", *SMALL, "data.batch_size=4")
    assert r.returncode == 0, r.stderr[-2000:]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["noise"]["name"] == "clean" and summary["noise"]["realized_rate"] == 0.0
    assert len(load_noisy_labels(tmp_path / "run" / "noisy_labels.npz")["clean"]) == 16  # 4 held out as test


@pytest.mark.slow
def test_image_folder_under_ddp_splits_the_global_batch_over_two_processes(tmp_path):
    write_image_folder(tmp_path / "imgs", {"a": 10, "b": 10}, test_counts={"a": 2, "b": 3})
    r = run_cli(tmp_path / "run", "data=folder", f"data.root={tmp_path / 'imgs'}", *SMALL, "trainer=ddp_cpu",
                "data.batch_size=4", "data.val_fraction=0.1", "trainer.max_epochs=1")
    assert r.returncode == 0, r.stderr[-3000:]
    ckpt = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=False)
    # 18 training images, global batches of 4 = 2 per process: 4 steps. Lightning kept our sampler (had it
    # wrapped it, each process would have seen half of its 9 draws: 2 steps)
    assert ckpt["global_step"] == 18 // 4


def test_clothing1m_experiments_hold_the_protocol(tmp_path):
    for method, target in [("ce", "Standard"), ("sce", "Standard"), ("coteaching", "CoTeaching"),
                           ("jocor", "JoCoR"), ("rholoss", "RHOLoss")]:
        cfg = compose_cfg(tmp_path, f"experiment=clothing1m/{method}")
        assert cfg.method._target_ == f"noisyrobust.methods.{target}"
        assert cfg.data.name == "clothing1m" and cfg.noise._target_ == "noisyrobust.noise.human_noise"
        assert cfg.data.class_balanced and cfg.data.samples_per_epoch == 64000
        assert (cfg.data.resize, cfg.data.crop) == (256, 224)
        assert list(cfg.data.mean) == [0.6959, 0.6537, 0.6371] and list(cfg.data.std) == [0.3113, 0.3192, 0.3214]
        assert cfg.model._target_ == "noisyrobust.models.ResNet50" and cfg.model.pretrained
        if method == "rholoss":
            assert cfg.stages.irreducible_loss.model._target_ == "noisyrobust.models.ResNet18"
            assert cfg.data.batch_size == 320 and cfg.method.keep_ratio == 0.1 and cfg.stages.irreducible_loss.holdout_fraction == 0.1
        else:
            assert cfg.optimizer._target_ == "torch.optim.Adam" and cfg.data.batch_size == 64
    from hydra.utils import instantiate

    cfg = compose_cfg(tmp_path, "experiment=clothing1m/jocor")
    optimizer = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=cfg.optimizer.lr)
    sched, lrs = instantiate(cfg.scheduler)(optimizer=optimizer), []
    for _ in range(15):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        sched.step()
    assert np.allclose(lrs, [8e-4] * 5 + [5e-4] * 5 + [5e-5] * 5)
