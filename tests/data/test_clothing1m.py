"""The Clothing1M reader and datamodule on a miniature release in its exact layout, written by the test."""
import numpy as np
import pytest
from formats import write_clothing1m

from noisyrobust.data.clothing1m import CLASSES, REQUIRED, load_clothing1m
from noisyrobust.data.files_datamodule import ImageFileDataModule
from noisyrobust.errors import UserError
from noisyrobust.noise import human_noise, noise_rate, symmetric_noise, transition_matrix


def paths(array):
    return [p.decode() for p in array]


def datamodule(root, noise=human_noise, **kw):
    from functools import partial

    args = dict(name="clothing1m", root=root, reader=load_clothing1m, num_classes=14, image_size=28, batch_size=8,
                mean=[0.6959, 0.6537, 0.6371], std=[0.3113, 0.3192, 0.3214], resize=32, crop=28,
                samples_per_epoch=28, class_balanced=True, num_workers=0, eval_batch_size=16)
    return ImageFileDataModule(**{**args, **kw}, noise=partial(noise) if noise else None)


@pytest.mark.parametrize("annotations", [False, True])
def test_reader_finds_noisy_train_clean_val_test_and_the_known_clean_labels(tmp_path, annotations):
    w = write_clothing1m(tmp_path, annotations=annotations, bad=False)
    files = load_clothing1m(tmp_path)
    assert paths(files.train_paths) == w["train"] and paths(files.val_paths) == w["val"]
    assert paths(files.test_paths) == w["test"]
    np.testing.assert_array_equal(files.human_labels["noisy"], w["noisy"])
    np.testing.assert_array_equal(files.train_labels, w["clean"])  # -1 (unknown) beyond the overlap
    np.testing.assert_array_equal(files.val_labels, w["val_labels"])
    np.testing.assert_array_equal(files.test_labels, w["test_labels"])
    assert files.classes == tuple(f"class{i}" for i in range(14))
    # every image labelled both ways, validation images included
    np.testing.assert_array_equal(files.reference_labels[0], w["reference"][0])
    np.testing.assert_array_equal(files.reference_labels[1], w["reference"][1])


def test_class_names_default_to_the_releases_when_its_file_is_absent(tmp_path):
    write_clothing1m(tmp_path, bad=False)
    (tmp_path / "category_names_eng.txt").unlink()
    assert load_clothing1m(tmp_path).classes == CLASSES and len(CLASSES) == 14


def test_missing_files_are_all_named(tmp_path):
    write_clothing1m(tmp_path, bad=False)
    for name in ("clean_label_kv.txt", "clean_test_key_list.txt"):
        (tmp_path / name).unlink()
    with pytest.raises(UserError, match="files missing in .*: clean_label_kv.txt, clean_test_key_list.txt"):
        load_clothing1m(tmp_path)
    with pytest.raises(UserError, match="does not exist"):
        load_clothing1m(tmp_path / "nowhere")
    assert set(REQUIRED) >= {"noisy_label_kv.txt", "noisy_train_key_list.txt", "clean_val_key_list.txt"}


def test_keys_without_a_label_are_named_with_their_count(tmp_path):
    w = write_clothing1m(tmp_path, bad=False)
    extra = [f"images/3/{9000 + i}.jpg" for i in range(7)]
    with open(tmp_path / "noisy_train_key_list.txt", "a") as f:
        f.write("".join(k + "\n" for k in extra))
    with pytest.raises(UserError) as error:
        load_clothing1m(tmp_path)
    message = str(error.value)
    assert f"7 of the {len(w['train']) + 7} keys of" in message and "noisy_train_key_list.txt" in message
    assert "noisy_label_kv.txt" in message and "images/3/9000.jpg, images/3/9001.jpg" in message
    assert "(7 in all)" in message and "images/3/9006.jpg" not in message  # the first few only


def test_labels_outside_0_to_13_and_malformed_lines_are_refused(tmp_path):
    write_clothing1m(tmp_path, bad=False)
    kv = tmp_path / "clean_label_kv.txt"
    kv.write_text(kv.read_text() + "images/0/1.jpg 14\nimages/0/2.jpg -1\n")
    with pytest.raises(UserError, match=r"clean_label_kv.txt: 2 labels are outside 0..13: line \d+: images/0/1.jpg 14"):
        load_clothing1m(tmp_path)
    kv.write_text("images/0/1.jpg\n")
    with pytest.raises(UserError, match="1 lines are not 'images/<dir>/<name>.jpg LABEL': line 1"):
        load_clothing1m(tmp_path)


def test_missing_and_corrupt_images_stop_setup_with_their_names_and_count(tmp_path):
    w = write_clothing1m(tmp_path)
    dm = datamodule(tmp_path)
    with pytest.raises(UserError) as error:
        dm.setup()
    message = str(error.value)
    assert "2 of the 60 images under" in message
    assert f"{w['missing']} (missing)" in message and f"{w['corrupt']} (cannot be decoded" in message
    assert "data.skip_bad_images=true" in message
    assert dm.files is None  # nothing set up


def test_without_verify_images_only_existence_is_checked(tmp_path):
    w = write_clothing1m(tmp_path)
    with pytest.raises(UserError, match=r"1 of the 60 images .*: " + w["missing"] + r" \(missing\);"):
        datamodule(tmp_path, verify_images=False).setup()


def test_skip_bad_images_leaves_them_out_and_counts_them(tmp_path):
    w = write_clothing1m(tmp_path)
    dm = datamodule(tmp_path, skip_bad_images=True)
    dm.setup()
    assert dm.skipped_images == 2
    assert paths(dm.files.train_paths) == w["train"][:-1] and paths(dm.files.val_paths) == w["val"][1:]
    np.testing.assert_array_equal(dm.noisy_labels.numpy(), w["noisy"][:-1])  # labels stay with their images
    np.testing.assert_array_equal(dm.files.val_labels, w["val_labels"][1:])


def test_trains_on_the_released_noisy_labels_and_measures_noise_where_clean_labels_are_known(tmp_path):
    w = write_clothing1m(tmp_path, bad=False)
    dm = datamodule(tmp_path)
    dm.setup()
    clean, noisy = dm.clean_labels.numpy(), dm.noisy_labels.numpy()
    np.testing.assert_array_equal(noisy, w["noisy"])
    known = w["clean"] >= 0
    assert noise_rate(clean, noisy) == pytest.approx(np.mean(w["clean"][known] != w["noisy"][known]))  # 3 of 6
    assert transition_matrix(clean, noisy, num_classes=14).sum() == len(np.unique(w["clean"][known]))
    ref_clean, ref_noisy = w["reference"]
    assert dm.reference_noise_rate == pytest.approx(np.mean(ref_clean != ref_noisy))
    assert dm.eval_names == ["val", "test"] and len(dm.val_indices) == 0 and len(dm.train_indices) == 42


def test_injected_noise_is_refused_where_clean_labels_are_unknown(tmp_path):
    write_clothing1m(tmp_path, bad=False)
    from functools import partial

    dm = ImageFileDataModule(name="clothing1m", root=tmp_path, reader=load_clothing1m, num_classes=14,
                             image_size=28, resize=32, crop=28, batch_size=8, mean=[0.5] * 3, std=[0.2] * 3,
                             num_workers=0, noise=partial(symmetric_noise, rate=0.4))
    with pytest.raises(UserError, match="clean labels of 36 of its 42 training images are unknown.*noise=human"):
        dm.setup()


def test_batches_hold_cropped_normalized_images_noisy_labels_and_global_indices(tmp_path):
    w = write_clothing1m(tmp_path, bad=False)
    dm = datamodule(tmp_path)
    dm.setup()
    batches = list(dm.train_dataloader())
    assert len(batches) == 28 // 8  # samples_per_epoch, drop_last
    x, y, index = batches[0]
    assert x.shape == (8, 3, 28, 28) and x.dtype.is_floating_point
    np.testing.assert_array_equal(y.numpy(), w["noisy"][index.numpy()])
    drawn = np.concatenate([b[1].numpy() for b in batches])
    assert np.bincount(drawn, minlength=14).max() <= 2  # class-balanced: 28 draws over 14 classes, 24 used
    val, test = dm.val_dataloader()
    xv, yv, iv = next(iter(val))
    np.testing.assert_array_equal(yv.numpy(), w["val_labels"][iv.numpy()])  # clean validation labels
    assert sum(len(b[0]) for b in test) == len(w["test"])  # every test image, no drop_last
