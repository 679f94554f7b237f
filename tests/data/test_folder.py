"""A user's own images: class folders (with or without a test folder) and path,label CSVs."""
from functools import partial

import numpy as np
import pytest
import torch
from formats import write_csv, write_image_folder, write_jpeg

from noisyrobust.config import image_folder_num_classes
from noisyrobust.data.files_datamodule import ImageFileDataModule
from noisyrobust.data.folder import find_classes, load_image_folder
from noisyrobust.errors import UserError
from noisyrobust.noise import pairflip_noise


def paths(array):
    return [p.decode() for p in array]


def datamodule(root, **kw):
    args = dict(name="folder", root=root, reader=load_image_folder, num_classes=3, image_size=28, resize=32,
                crop=28, batch_size=4, mean=[0.5] * 3, std=[0.25] * 3, num_workers=0, val_fraction=0.25)
    return ImageFileDataModule(**{**args, **kw})


def test_class_folders_sorted_with_their_test_folder(tmp_path):
    write_image_folder(tmp_path, {"zebra": 2, "ant": 3, "cat": 1}, test_counts={"cat": 2, "zebra": 1})
    (tmp_path / "train" / "ant" / "notes.txt").write_text("not an image")
    write_jpeg(tmp_path / "train" / "cat" / "deeper" / "x.PNG", np.random.default_rng(0))  # any depth, any case
    files = load_image_folder(tmp_path)
    assert files.classes == ("ant", "cat", "zebra") and find_classes(tmp_path) == ["ant", "cat", "zebra"]
    assert paths(files.train_paths) == ["train/ant/0.jpg", "train/ant/1.jpg", "train/ant/2.jpg", "train/cat/0.jpg",
                                        "train/cat/deeper/x.PNG", "train/zebra/0.jpg", "train/zebra/1.jpg"]
    assert files.train_labels.tolist() == [0, 0, 0, 1, 1, 2, 2]
    assert paths(files.test_paths) == ["test/cat/0.jpg", "test/cat/1.jpg", "test/zebra/0.jpg"]
    assert files.test_labels.tolist() == [1, 1, 2]  # by the training classes
    assert image_folder_num_classes(str(tmp_path)) == 3


def test_csv_rows_with_class_names_or_integer_labels(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(6):
        write_jpeg(tmp_path / "img" / f"{i}.jpg", rng)
    write_csv(tmp_path / "train.csv", [(f"img/{i}.jpg", ["dog", "cat"][i % 2]) for i in range(4)])
    write_csv(tmp_path / "test.csv", [("img/4.jpg", "cat"), ("img/5.jpg", "dog")], header=False)
    files = load_image_folder(tmp_path)
    assert files.classes == ("cat", "dog") and files.train_labels.tolist() == [1, 0, 1, 0]
    assert paths(files.test_paths) == ["img/4.jpg", "img/5.jpg"] and files.test_labels.tolist() == [0, 1]
    single = write_csv(tmp_path / "numbers.csv", [(f"img/{i}.jpg", y) for i, y in enumerate([2, 0, 2, 1, 0])])
    files = load_image_folder(single)  # a CSV file as data.root: no test set
    assert files.classes == ("0", "1", "2") and files.train_labels.tolist() == [2, 0, 2, 1, 0]
    assert files.test_paths is None and files.root == tmp_path


def test_bad_layouts_and_rows_are_refused_by_name(tmp_path):
    with pytest.raises(UserError, match="needs data.root"):
        find_classes(None)
    with pytest.raises(UserError, match="does not exist"):
        find_classes(tmp_path / "nowhere")
    with pytest.raises(UserError, match="neither train/<class>/ image folders nor train.csv"):
        find_classes(tmp_path)
    write_csv(tmp_path / "train.csv", [("a.jpg", "cat"), ("b.jpg", "")])
    with pytest.raises(UserError, match=r"1 rows are not 'path,label': line 3"):
        load_image_folder(tmp_path)
    write_image_folder(tmp_path / "f", {"cat": 1}, test_counts={"cow": 1})
    with pytest.raises(UserError, match="class folders not in .*: cow"):
        load_image_folder(tmp_path / "f")
    (tmp_path / "g" / "train" / "empty").mkdir(parents=True)
    with pytest.raises(UserError, match="holds no image"):
        load_image_folder(tmp_path / "g")


def test_without_a_test_set_a_share_is_held_out_before_the_noise(tmp_path):
    write_image_folder(tmp_path, {"a": 8, "b": 8, "c": 4})
    dm = datamodule(tmp_path, noise=partial(pairflip_noise, rate=1.0), test_fraction=0.25)
    dm.setup()
    assert len(dm.files.test_paths) == 5 and len(dm.clean_labels) == 15
    assert not set(paths(dm.files.test_paths)) & set(paths(dm.files.train_paths))
    # the test set keeps the labels given; the noise moved every training label
    assert torch.equal(dm.noisy_labels, (dm.clean_labels + 1) % 3)
    assert dm.eval_names == ["val", "test"] and len(dm.val_indices) == 4  # a noisy validation share
    x, y, index = next(iter(dm.val_dataloader()[0]))
    assert torch.equal(y, dm.noisy_labels[index]) and x.shape[1:] == (3, 28, 28)


def test_num_classes_must_match_the_classes_found(tmp_path):
    write_image_folder(tmp_path, {"a": 2, "b": 2}, test_counts={"a": 1})
    with pytest.raises(UserError, match="data.num_classes=3 but .* holds 2 classes: a, b"):
        datamodule(tmp_path).setup()


def test_a_label_only_in_the_test_csv_is_refused_like_a_test_only_class_folder(tmp_path):
    write_csv(tmp_path / "train.csv", [(f"img/{i}.jpg", ["dog", "cat"][i % 2]) for i in range(4)])
    write_csv(tmp_path / "test.csv", [("img/4.jpg", "cat"), ("img/5.jpg", "bird")])
    with pytest.raises(UserError, match=r"test.csv has labels not in .*train.csv: bird"):
        find_classes(tmp_path)
    write_csv(tmp_path / "train.csv", [(f"img/{i}.jpg", i % 2) for i in range(4)])
    write_csv(tmp_path / "test.csv", [("img/4.jpg", 1), ("img/5.jpg", 2)])  # integer labels: class 2 unseen
    with pytest.raises(UserError, match="labels not in"):
        find_classes(tmp_path)


def test_the_class_list_is_logged_and_a_class_with_few_images_is_named(tmp_path, caplog):
    rng = np.random.default_rng(0)
    for i in range(12):
        write_jpeg(tmp_path / "img" / f"{i}.jpg", rng)
    # integer labels 0..2: class 2 only two images
    write_csv(tmp_path / "train.csv", [(f"img/{i}.jpg", y) for i, y in enumerate([0] * 5 + [1] * 5 + [2] * 2)])
    with caplog.at_level("INFO", logger="noisyrobust.data.folder"):
        files = load_image_folder(tmp_path)
    assert files.classes == ("0", "1", "2")
    assert "3 classes: 0 (5), 1 (5), 2 (2)" in caplog.text
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == ["classes with fewer than 5 training images: 2 (2) (a typo in a label? data.classes=[...] "
                        "refuses any label not listed)"]


def write_labelled_csv(root, labels):
    rng = np.random.default_rng(0)
    for i in range(len(labels)):
        write_jpeg(root / "img" / f"{i}.jpg", rng, size=8)
    return write_csv(root / "train.csv", [(f"img/{i}.jpg", y) for i, y in enumerate(labels)])


def test_integer_labels_with_gaps_are_refused_naming_the_empty_classes(tmp_path):
    write_labelled_csv(tmp_path, [0, 1, 5, 0, 1, 5])  # six classes 0..5, three of them empty
    with pytest.raises(UserError) as caught:
        load_image_folder(tmp_path)
    assert str(caught.value) == (f"{tmp_path / 'train.csv'}: 3 of its 6 classes have no training image: 2, 3, 4; "
                                 "relabel them 0..C-1 without gaps, or list the classes there are with "
                                 "data.classes=[...]")


def test_a_class_list_fixes_the_classes_and_their_order(tmp_path):
    write_labelled_csv(tmp_path, [0, 1, 5, 0, 1, 5])
    files = load_image_folder(tmp_path, classes=[5, 0, 1])  # YAML gives integers
    assert files.classes == ("5", "0", "1") and files.train_labels.tolist() == [1, 2, 0, 1, 2, 0]
    assert image_folder_num_classes(str(tmp_path), [5, 0, 1]) == 3
    write_image_folder(tmp_path / "f", {"cat": 2, "dog": 2}, test_counts={"dog": 1})
    files = load_image_folder(tmp_path / "f", classes=["dog", "cat"])
    assert files.classes == ("dog", "cat")
    assert {p.split("/")[1]: y for p, y in zip(paths(files.train_paths), files.train_labels.tolist())} == {
        "dog": 0, "cat": 1}
    assert files.test_labels.tolist() == [0]


def test_a_label_or_folder_outside_the_class_list_is_refused_as_a_typo(tmp_path):
    write_labelled_csv(tmp_path, ["cat", "dog", "cat", "cta", "dog"])
    assert find_classes(tmp_path) == ["cat", "cta", "dog"]  # without a list: a class of one image, warned about
    with pytest.raises(UserError, match=r"train.csv has labels not in data.classes: cta \(data.classes: cat, dog\); "
                                        "fix the typo or add the class to data.classes"):
        find_classes(tmp_path, ["cat", "dog"])
    write_image_folder(tmp_path / "f", {"cat": 1, "dgo": 1})
    with pytest.raises(UserError, match="train has class folders not in data.classes: dgo"):
        load_image_folder(tmp_path / "f", classes=["cat", "dog"])
    with pytest.raises(UserError, match="must list distinct, non-empty class names"):
        find_classes(tmp_path, ["cat", "cat"])


def test_data_classes_reaches_the_reader_from_the_config(tmp_path):
    from conftest import compose_cfg
    import hydra

    write_labelled_csv(tmp_path / "d", [0, 1, 5, 0, 1, 5] * 2)
    cfg = compose_cfg(tmp_path / "run", "data=folder", f"data.root={tmp_path / 'd'}", "data.classes=[0,1,5]",
                      "data.num_workers=0", "data.resize=8", "data.crop=8")
    assert cfg.data.num_classes == 3
    dm = hydra.utils.instantiate(cfg.data, noise=None, noise_seed=0)
    dm.setup()
    assert dm.files.classes == ("0", "1", "5") and sorted(set(dm.files.train_labels.tolist())) <= [0, 1, 2]
