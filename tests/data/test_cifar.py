"""CIFAR-10 / CIFAR-100 readers on tiny batches pickled exactly like the official ones."""
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from noisyrobust.data.cifar import load_cifar10, load_cifar100
from formats import CIFAR10_FILES, CIFAR10_NAMES, batch, dump, rewrite, rows, write_cifar10, write_cifar100  # noqa: F401
from noisyrobust.errors import UserError



def test_cifar10_exact_pixels_in_channel_order(tmp_path):
    train_x, train_y, test_x, test_y = write_cifar10(tmp_path)
    data = load_cifar10(tmp_path)
    assert data.train_images.shape == (23, 3, 32, 32) and data.test_images.shape == (7, 3, 32, 32)
    assert data.train_images.dtype == torch.uint8 and data.train_labels.dtype == torch.int64
    # one pixel, read by hand from the raw row: R at r*32+c, G at 1024+r*32+c, B at 2048+r*32+c
    row = rows(train_x)[11]
    r, c = 5, 29
    assert [int(data.train_images[11, ch, r, c]) for ch in range(3)] == \
        [row[r * 32 + c], row[1024 + r * 32 + c], row[2048 + r * 32 + c]]
    assert [int(v) for v in data.train_images[11, :, r, c]] == train_x[11, r, c].tolist()  # (R, G, B)
    assert np.array_equal(data.train_images.numpy(), train_x.transpose(0, 3, 1, 2))
    assert np.array_equal(data.test_images.numpy(), test_x.transpose(0, 3, 1, 2))
    assert data.train_labels.tolist() == train_y.tolist()  # batches 1..5 in order
    assert data.test_labels.tolist() == test_y.tolist()
    assert data.classes == tuple(CIFAR10_NAMES)
    assert (data.num_classes, data.in_channels, data.image_size) == (10, 3, 32)


def test_cifar10_with_str_keys_as_written_by_python3(tmp_path):
    train_x, _, _, test_y = write_cifar10(tmp_path, bytes_keys=False, seed=3)
    data = load_cifar10(tmp_path)
    assert np.array_equal(data.train_images.numpy(), train_x.transpose(0, 3, 1, 2))
    assert data.test_labels.tolist() == test_y.tolist()
    assert data.classes == tuple(CIFAR10_NAMES)


def test_cifar10_missing_file_lists_directory_and_expected_files(tmp_path):
    write_cifar10(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "test_batch").unlink()
    with pytest.raises(UserError) as info:
        load_cifar10(tmp_path)
    message = str(info.value)
    assert f"CIFAR-10 files missing in {tmp_path / 'cifar-10-batches-py'}" in message
    assert all(name in message for name in CIFAR10_FILES)


def test_cifar10_label_out_of_range(tmp_path):
    write_cifar10(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "data_batch_3"
    rewrite(path, labels=[0, 1, 2, 3, 4, 10])
    with pytest.raises(UserError, match=r"'labels' holds 0\.\.10, expected 0\.\.9") as info:
        load_cifar10(tmp_path)
    assert str(path) in str(info.value)


def test_cifar10_negative_label(tmp_path):
    write_cifar10(tmp_path)
    rewrite(tmp_path / "cifar-10-batches-py" / "test_batch", labels=[0, 1, -1, 3, 4, 5, 6])
    with pytest.raises(UserError, match=r"test_batch: 'labels' holds -1\.\.6"):
        load_cifar10(tmp_path)


def test_cifar10_label_count_mismatch(tmp_path):
    write_cifar10(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "data_batch_1"
    rewrite(path, labels=[1, 2, 3])
    with pytest.raises(UserError, match="holds 5 images but 3 'labels'") as info:
        load_cifar10(tmp_path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("data, shown", [(np.zeros((5, 3071), np.uint8), r"uint8 of shape \(5, 3071\)"),
                                         (np.zeros((5, 3072), np.int64), r"int64 of shape \(5, 3072\)"),
                                         (np.zeros((5, 3, 32, 32), np.uint8), r"shape \(5, 3, 32, 32\)")])
def test_cifar10_bad_data_array(tmp_path, data, shown):
    write_cifar10(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "data_batch_5"
    rewrite(path, data=data)
    with pytest.raises(UserError, match=shown) as info:
        load_cifar10(tmp_path)
    assert str(path) in str(info.value) and "expected uint8 (n, 3072)" in str(info.value)


def test_cifar10_not_a_pickle(tmp_path):
    write_cifar10(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "data_batch_2"
    path.write_bytes(b"<html>404 not found</html>")
    with pytest.raises(UserError, match="cannot read CIFAR file") as info:
        load_cifar10(tmp_path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_cifar10_missing_entry(tmp_path):
    write_cifar10(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "test_batch"
    with open(path, "rb") as f:
        obj = pickle.load(f)
    del obj[b"labels"]
    dump(path, obj)
    with pytest.raises(UserError, match="has no 'labels' entry"):
        load_cifar10(tmp_path)


def test_cifar10_meta_with_wrong_number_of_names(tmp_path):
    write_cifar10(tmp_path)
    dump(tmp_path / "cifar-10-batches-py" / "batches.meta", {b"label_names": [b"a"] * 9})
    with pytest.raises(UserError, match="batches.meta: 'label_names' has 9 names, expected 10"):
        load_cifar10(tmp_path)


def test_cifar10_empty_test_set(tmp_path):
    write_cifar10(tmp_path, n_test=0)
    with pytest.raises(UserError, match="test_batch hold no images"):
        load_cifar10(tmp_path)


def test_cifar10_download_failure_is_one_line(tmp_path, monkeypatch):
    utils = pytest.importorskip("torchvision.datasets.utils")
    calls = []

    def offline(url, *, download_root, md5):
        calls.append((url, download_root, md5))
        raise OSError("<urlopen error [Errno -3]\nTemporary failure in name resolution>")

    monkeypatch.setattr(utils, "download_and_extract_archive", offline)
    with pytest.raises(UserError) as info:
        load_cifar10(tmp_path, download=True)
    assert calls == [("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz", str(tmp_path),
                      "c58f30108f718f92721af3b95e74349a")]
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"CIFAR-10 files missing in {tmp_path / 'cifar-10-batches-py'} "
                              "(expected: data_batch_1, data_batch_2, data_batch_3, data_batch_4, data_batch_5, "
                              "test_batch, batches.meta) and download failed: OSError: <urlopen error")


def test_cifar10_download_that_writes_the_files(tmp_path, monkeypatch):
    utils = pytest.importorskip("torchvision.datasets.utils")
    written = {}
    monkeypatch.setattr(utils, "download_and_extract_archive",
                        lambda url, *, download_root, md5: written.update(x=write_cifar10(download_root)))
    data = load_cifar10(tmp_path, download=True)
    assert data.test_labels.tolist() == written["x"][3].tolist()


def test_cifar100_fine_and_coarse_labels(tmp_path):
    written = write_cifar100(tmp_path)
    data = load_cifar100(tmp_path)
    for split in ("train", "test"):
        x, fine, coarse = written[split]
        assert np.array_equal(getattr(data, f"{split}_images").numpy(), x.transpose(0, 3, 1, 2))
        assert getattr(data, f"{split}_labels").tolist() == fine.tolist()
        assert data.extra[f"{split}_coarse_labels"].dtype == torch.int64
        assert data.extra[f"{split}_coarse_labels"].tolist() == coarse.tolist()
    assert data.test_images[2, 1, 31, 0] == written["test"][0][2, 31, 0, 1]  # G channel
    assert data.num_classes == 100 and data.classes[57] == "fine57"
    assert data.extra["coarse_classes"] == tuple(f"coarse{i}" for i in range(20))


@pytest.mark.parametrize("key, values, shown", [("fine_labels", [0, 1, 2, 3, 100], r"0\.\.100, expected 0\.\.99"),
                                                ("coarse_labels", [0, 20, 2, 3, 4], r"0\.\.20, expected 0\.\.19")])
def test_cifar100_label_out_of_range(tmp_path, key, values, shown):
    write_cifar100(tmp_path)
    path = tmp_path / "cifar-100-python" / "test"
    rewrite(path, **{key: values})
    with pytest.raises(UserError, match=f"'{key}' holds {shown}") as info:
        load_cifar100(tmp_path)
    assert str(path) in str(info.value)


def test_cifar100_missing_meta(tmp_path):
    write_cifar100(tmp_path)
    (tmp_path / "cifar-100-python" / "meta").unlink()
    with pytest.raises(UserError, match=r"CIFAR-100 files missing in .*cifar-100-python \(expected: train, test, meta\)"):
        load_cifar100(tmp_path)
