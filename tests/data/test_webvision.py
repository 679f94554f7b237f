"""WebVision 1.0 and the ILSVRC 2012 validation images on a miniature release in its exact layout, written by the
test: the reader's lists and both ImageNet layouts, its one-line errors, and a 2-epoch DivideMix run of the
mini-WebVision experiment reporting top-1 and top-5 on both test sets."""
import csv

import numpy as np
import pytest
from conftest import compose_cfg
from formats import write_webvision

from noisyrobust.data.webvision import load_webvision
from noisyrobust.errors import UserError

SMALL = ["model=mlp", "data.resize=32", "data.crop=28", "data.num_workers=0", "data.num_classes=12"]


def paths(array):
    return [p.decode() for p in array]


@pytest.mark.parametrize("imagenet", ["folders", "list"])
def test_reader_keeps_the_first_classes_of_the_google_list_and_both_test_sets(tmp_path, imagenet):
    w = write_webvision(tmp_path, imagenet=imagenet)
    files = load_webvision(tmp_path, num_classes=12)
    assert paths(files.train_paths) == w["train"]  # the lines of classes 12 and 999 left out
    np.testing.assert_array_equal(files.human_labels["noisy"], w["noisy"])
    assert (files.train_labels == -1).all()  # no clean label of a web image is known
    assert paths(files.test_paths) == w["val"]
    np.testing.assert_array_equal(files.test_labels, w["val_labels"])
    net_paths, net_labels = files.more_tests["test_imagenet"]
    sub = "" if imagenet == "list" else None
    assert paths(net_paths) == [str(tmp_path / "imagenet" / "val" / (sub if sub is not None else str(c)) / name)
                                for name, c in w["imagenet"]]
    np.testing.assert_array_equal(net_labels, [c for _, c in w["imagenet"]])
    assert files.classes[:2] == ("n00000000 class 0", "n00000001 class 1") and len(files.classes) == 12
    assert files.splits() == ["train", "test", "test_imagenet"]


def test_fewer_classes_keep_only_their_lines(tmp_path):
    w = write_webvision(tmp_path)
    files = load_webvision(tmp_path, num_classes=5)
    assert paths(files.train_paths) == [p for p, c in zip(w["train"], w["noisy"]) if c < 5]
    assert set(files.more_tests["test_imagenet"][1].tolist()) == set(range(5))


def test_missing_files_name_the_file_and_where_to_download(tmp_path):
    write_webvision(tmp_path)
    with pytest.raises(UserError, match="data.num_classes=1001 is outside 1..1000"):
        load_webvision(tmp_path, num_classes=1001)
    (tmp_path / "info" / "val_filelist.txt").unlink()
    with pytest.raises(UserError, match=r"info/val_filelist.txt is missing; .*data.vision.ee.ethz.ch/cvl/webvision"):
        load_webvision(tmp_path)
    with pytest.raises(UserError, match="WebVision folder .*nowhere does not exist; set data.root"):
        load_webvision(tmp_path / "nowhere")


def test_missing_imagenet_images_and_bad_lines_are_one_line(tmp_path):
    write_webvision(tmp_path)
    import shutil

    shutil.rmtree(tmp_path / "imagenet" / "val" / "3")
    with pytest.raises(UserError) as error:
        load_webvision(tmp_path, num_classes=12)
    message = str(error.value)
    assert "imagenet_val.txt" in message and "val/3" in message and "ILSVRC2012_img_val.tar" in message
    assert "data.reader.imagenet_root" in message and "\n" not in message
    listed = tmp_path / "info" / "train_filelist_google.txt"
    listed.write_text(listed.read_text() + "google/q0001/x.jpg 1000\ngoogle/q0001/y.jpg\n")
    with pytest.raises(UserError, match=r"2 lines are not 'PATH LABEL' with LABEL in 0..999: line \d+"):
        load_webvision(tmp_path, num_classes=3)


def test_mini_webvision_dividemix_reports_top1_and_top5_on_both_test_sets(fit, tmp_path):
    write_webvision(tmp_path / "wv")
    summary, out = fit("experiment=webvision/dividemix", f"data.root={tmp_path / 'wv'}", *SMALL, "data.batch_size=12",
                       "trainer.max_epochs=2")
    assert summary["data"] == "webvision" and summary["method"] == "DivideMix" and summary["epochs"] == 2
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    evaluated = [r for r in rows if r.get("test_imagenet/acc")]
    assert len(evaluated) == 2
    for key in ("test/acc", "test/acc_top5", "test_imagenet/acc", "test_imagenet/acc_top5"):
        values = [float(r[key]) for r in evaluated]
        n = 24  # two images of each of the 12 classes in either test set; the mean of the two networks' accuracies
        assert all(abs(v * 2 * n - round(v * 2 * n)) < 1e-4 for v in values), (key, values)
        assert summary[f"{key.replace('/', '_')}_last"] == pytest.approx(values[-1])
    for split in ("test", "test_imagenet"):
        assert summary[f"{split}_acc_top5_last"] >= summary[f"{split}_acc_last"]
    assert summary["test_imagenet_acc_mean_last10"] == pytest.approx(
        np.mean([float(r["test_imagenet/acc"]) for r in evaluated]))


def test_a_missing_webvision_release_is_one_line_naming_where_to_get_it(tmp_path):
    from noisyrobust.run import train

    with pytest.raises(UserError) as error:
        train(compose_cfg(tmp_path / "run", "data=webvision", f"data.root={tmp_path / 'absent'}"))
    message = str(error.value)
    assert "\n" not in message and "absent does not exist" in message and "data.vision.ee.ethz.ch/cvl/webvision" in message
    assert not (tmp_path / "run" / "metrics.csv").exists() and not (tmp_path / "run" / "summary.json").exists()
