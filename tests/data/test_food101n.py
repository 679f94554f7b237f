"""Food-101N with Food-101's test set on miniature releases in their exact layouts, written by the test: the
reader's lists and verification labels, its one-line errors, and a 2-epoch run whose top-5 test accuracy is
recomputed here from the saved network."""
import numpy as np
import pytest
import torch
from formats import FOOD_CLASSES, write_food101n

from noisyrobust.data.food101n import load_food101n
from noisyrobust.errors import UserError

SMALL = ["model=mlp", "data.resize=32", "data.crop=28", "data.num_workers=0"]


def paths(array):
    return [p.decode() for p in array]


def test_reader_trains_on_folder_labels_with_the_verified_ones_as_clean(tmp_path):
    w = write_food101n(tmp_path / "n", tmp_path / "food-101")
    files = load_food101n(tmp_path / "n", food101_root=tmp_path / "food-101")
    assert files.classes == tuple(FOOD_CLASSES)  # the header line of classes.txt is not a class
    assert paths(files.train_paths) == w["train"]
    np.testing.assert_array_equal(files.human_labels["noisy"], w["noisy"])
    # verified right: the folder's label; verified wrong or not verified: unknown
    np.testing.assert_array_equal(files.train_labels, w["clean"])
    assert (files.train_labels >= 0).sum() == 12 and files.val_paths is None
    assert paths(files.test_paths) == w["test"]
    np.testing.assert_array_equal(files.test_labels, w["test_labels"])
    # 13 of the 25 verified images (the one outside imagelist.tsv included) were judged wrong
    assert files.reference_rate == pytest.approx(w["verified_wrong"]) == pytest.approx(13 / 25)


def test_missing_files_name_the_file_and_where_to_download(tmp_path):
    write_food101n(tmp_path / "n", tmp_path / "food-101")
    with pytest.raises(UserError, match=r"Food-101 folder .*elsewhere does not exist .* data.reader.food101_root .*food-101.tar.gz"):
        load_food101n(tmp_path / "n", food101_root=tmp_path / "elsewhere")
    (tmp_path / "food-101" / "meta" / "test.txt").unlink()
    with pytest.raises(UserError, match=r"Food-101 file .*meta/test.txt is missing; download https://data.vision"):
        load_food101n(tmp_path / "n", food101_root=tmp_path / "food-101")
    (tmp_path / "n" / "meta" / "verified_val.tsv").unlink()
    with pytest.raises(UserError, match=r"Food-101N file .*verified_val.tsv is missing; download .*Food-101N.* data.root"):
        load_food101n(tmp_path / "n", food101_root=tmp_path / "food-101")


def test_bad_entries_and_other_class_lists_are_refused(tmp_path):
    write_food101n(tmp_path / "n", tmp_path / "food-101")
    classes = tmp_path / "food-101" / "meta" / "classes.txt"
    classes.write_text("".join(f"{n}\n" for n in reversed(FOOD_CLASSES)))
    with pytest.raises(UserError, match="not those of .* in the same order"):
        load_food101n(tmp_path / "n", food101_root=tmp_path / "food-101")
    classes.write_text("".join(f"{n}\n" for n in FOOD_CLASSES))
    listed = tmp_path / "n" / "meta" / "imagelist.tsv"
    listed.write_text(listed.read_text() + "pizza_typo/1.jpg\n")
    with pytest.raises(UserError, match=r"1 entries are not '<class>/<image>' of a class .*'pizza_typo/1.jpg'"):
        load_food101n(tmp_path / "n", food101_root=tmp_path / "food-101")


def test_two_epochs_on_food101n_log_top5_computed_from_the_saved_network(fit, tmp_path):
    from noisyrobust.data.files import ImageTransform, load_rgb
    from noisyrobust.models import MLP

    w = write_food101n(tmp_path / "n", tmp_path / "food-101")
    summary, out = fit("data=food101n", f"data.root={tmp_path / 'n'}", f"data.reader.food101_root={tmp_path / 'food-101'}",
                       *SMALL, "data.batch_size=8")
    assert summary["data"] == "food101n" and summary["epochs"] == 2
    assert summary["noise"]["reference_rate"] == pytest.approx(13 / 25)
    state = torch.load(out / "checkpoints" / "last.ckpt", weights_only=False, map_location="cpu")["state_dict"]
    net = MLP(in_channels=3, num_classes=101, image_size=28, hidden=[256])
    net.load_state_dict({k[len("nets.0."):]: v for k, v in state.items() if k.startswith("nets.0.")})
    transform = ImageTransform(resize=32, crop=28, mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
    x = torch.stack([transform(load_rgb(p)) for p in w["test"]])
    with torch.no_grad():
        logits = net.eval()(x)
    y = torch.as_tensor(w["test_labels"])
    top5 = (logits.topk(5, dim=1).indices == y[:, None]).any(1).float().mean()
    assert summary["test_acc_top5_last"] == pytest.approx(float(top5), abs=1e-6)
    assert summary["test_acc_last"] == pytest.approx(float((logits.argmax(1) == y).float().mean()), abs=1e-6)
