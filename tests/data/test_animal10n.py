"""Animal-10N on a miniature release in its exact layout (training/, testing/, 64x64 JPEGs named
<label>_<number>.jpg), written by the test: labels from the names, the images in memory as decoded, the
one-line errors, and a 2-epoch run on device-resident batches with the labels of the names."""
import numpy as np
import pytest
from formats import write_animal10n, write_jpeg

from noisyrobust.data.animal10n import load_animal10n
from noisyrobust.errors import UserError
from noisyrobust.noise import load_noisy_labels


def test_reader_takes_labels_from_file_names_and_holds_the_images(tmp_path):
    w = write_animal10n(tmp_path)
    data = load_animal10n(tmp_path)
    np.testing.assert_array_equal(data.extra["human_labels"]["noisy"], w["training"])
    assert (data.train_labels == -1).all()  # the training labels are the noisy ones; the clean are unknown
    np.testing.assert_array_equal(data.test_labels.numpy(), w["testing"])
    np.testing.assert_array_equal(data.train_images.permute(0, 2, 3, 1).numpy(), w["training_images"])
    np.testing.assert_array_equal(data.test_images.permute(0, 2, 3, 1).numpy(), w["testing_images"])
    assert (data.num_classes, data.in_channels, data.image_size) == (10, 3, 64)


def test_bad_names_sizes_and_missing_folders_are_one_line(tmp_path):
    write_animal10n(tmp_path)
    rng = np.random.default_rng(1)
    write_jpeg(tmp_path / "testing" / "cat_1.jpg", rng, size=64)
    write_jpeg(tmp_path / "testing" / "12_1.jpg", rng, size=64)
    with pytest.raises(UserError, match=r"testing: 2 files are not named <label>_<number>.jpg with label 0..9: 12_1.jpg, cat_1.jpg"):
        load_animal10n(tmp_path)
    for name in ("cat_1.jpg", "12_1.jpg"):
        (tmp_path / "testing" / name).unlink()
    write_jpeg(tmp_path / "training" / "3_big.jpg", rng, size=80)
    with pytest.raises(UserError, match=r"training: 1 images are not 64x64: 3_big.jpg \(80x80\)"):
        load_animal10n(tmp_path)
    with pytest.raises(UserError, match=r"Animal-10N folder .*nowhere does not exist; .*dm.kaist.ac.kr/datasets/animal-10n"):
        load_animal10n(tmp_path / "nowhere")
    (tmp_path / "training" / "3_big.jpg").unlink()
    import shutil

    shutil.rmtree(tmp_path / "testing")
    with pytest.raises(UserError, match=r"Animal-10N folder .*testing is missing"):
        load_animal10n(tmp_path)


def test_two_epochs_on_device_resident_batches_train_on_the_names_labels(fit, tmp_path):
    w = write_animal10n(tmp_path / "a")
    summary, out = fit("data=animal10n", f"data.source.root={tmp_path / 'a'}", "model=mlp", "data.batch_size=9")
    assert summary["data"] == "animal10n" and summary["epochs"] == 2
    saved = load_noisy_labels(out / "noisy_labels.npz")
    np.testing.assert_array_equal(saved["noisy"], w["training"])
    assert (saved["clean"] == -1).all()
    assert "test_acc_top5_last" not in summary  # 10 classes: top-1 only
    assert summary["test_acc_last"] * 20 == pytest.approx(round(summary["test_acc_last"] * 20))  # 20 test images


def test_an_injected_noise_is_refused_where_no_clean_label_is_known(fit, tmp_path):
    write_animal10n(tmp_path / "a", per_class=1, test_per_class=1)
    with pytest.raises(UserError, match="the clean labels of 10 of its 10 training images are unknown.*noise=human"):
        fit("data=animal10n", f"data.source.root={tmp_path / 'a'}", "model=mlp", "noise=sym0.2")
