"""read_idx and the MNIST / Fashion-MNIST loaders on tiny IDX files written in the official format."""
import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from noisyrobust.data.idx import load_fashion_mnist, load_mnist, read_idx
from formats import NAMES, idx_bytes, write_idx, write_set  # noqa: F401
from noisyrobust.errors import UserError

REAL_MNIST = Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist-t10k"  # ../shared beside the checkout


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_round_trip(tmp_path, gz):
    images = np.random.default_rng(1).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = np.array([3, 0, 9, 9, 1], dtype=np.uint8)
    got_images = read_idx(write_idx(tmp_path / "img", images, gz=gz))
    got_labels = read_idx(write_idx(tmp_path / "lab", labels, gz=gz))
    assert got_images.dtype == np.uint8 and got_images.shape == (5, 28, 28)
    assert np.array_equal(got_images, images)
    assert got_labels.tolist() == [3, 0, 9, 9, 1]
    got_images[0, 0, 0] = 7  # an ordinary writable array, not a view of the file bytes


def test_read_idx_header_is_big_endian(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3]) + bytes(range(6)))
    assert read_idx(path).tolist() == [[0, 1, 2], [3, 4, 5]]


@pytest.mark.parametrize("magic, message", [(0x12340803, "not an IDX file"),
                                            (0x00000D03, "data type code 0x0d"),
                                            (0x00000903, "data type code 0x09")])
def test_read_idx_wrong_magic(tmp_path, magic, message):
    path = write_idx(tmp_path / "bad", np.zeros((2, 28, 28)), magic=magic)
    with pytest.raises(UserError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_truncated_data(tmp_path, gz):
    path = write_idx(tmp_path / "cut", np.zeros((3, 28, 28)), gz=gz, cut=5)
    with pytest.raises(UserError, match="2347 data bytes but its header") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_read_idx_trailing_bytes(tmp_path):
    path = tmp_path / "long"
    path.write_bytes(idx_bytes(np.zeros(4)) + b"\x00")
    with pytest.raises(UserError, match="5 data bytes"):
        read_idx(path)


def test_read_idx_truncated_header(tmp_path):
    path = tmp_path / "head"
    path.write_bytes(idx_bytes(np.zeros((2, 28, 28)))[:9])
    with pytest.raises(UserError, match="truncated or empty header"):
        read_idx(path)


def test_read_idx_broken_gzip(tmp_path):
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(100)))[:-12])
    with pytest.raises(UserError, match="cannot read IDX file") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_load_mnist_exact_pixels_labels_classes(tmp_path):
    (train_x, train_y, test_x, test_y), _ = write_set(tmp_path, "MNIST")
    data = load_mnist(tmp_path)
    assert data.train_images.shape == (12, 1, 28, 28) and data.test_images.shape == (7, 1, 28, 28)
    assert data.train_images.dtype == torch.uint8 and data.train_labels.dtype == torch.int64
    assert data.train_images[4, 0, 3, 17] == train_x[4, 3, 17]
    assert data.test_images[6, 0, 27, 0] == test_x[6, 27, 0]
    assert np.array_equal(data.train_images[:, 0].numpy(), train_x)
    assert np.array_equal(data.test_images[:, 0].numpy(), test_x)
    assert data.train_labels.tolist() == train_y.tolist()
    assert data.test_labels.tolist() == test_y.tolist()
    assert data.classes == tuple("0123456789")
    assert (data.num_classes, data.in_channels, data.image_size) == (10, 1, 28)


def test_load_fashion_mnist_reads_its_own_folder(tmp_path):
    write_set(tmp_path, "MNIST", seed=1)
    (train_x, _, _, test_y), _ = write_set(tmp_path, "FashionMNIST", gz=(True,) * 4, seed=2)
    data = load_fashion_mnist(tmp_path)
    assert np.array_equal(data.train_images[:, 0].numpy(), train_x)
    assert data.test_labels.tolist() == test_y.tolist()
    assert data.classes == ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


def test_missing_file_lists_directory_and_expected_files(tmp_path):
    _, paths = write_set(tmp_path, "MNIST")
    paths[2].unlink()
    with pytest.raises(UserError) as info:
        load_mnist(tmp_path)
    message = str(info.value)
    assert str(tmp_path / "MNIST" / "raw") in message
    assert all(name in message for name in NAMES)
    assert "data.source.download=true" in message


def test_fashion_mnist_is_not_read_from_the_mnist_folder(tmp_path):
    write_set(tmp_path, "MNIST")
    with pytest.raises(UserError, match="Fashion-MNIST files missing"):
        load_fashion_mnist(tmp_path)


def test_label_out_of_range(tmp_path):
    labels = np.array([0, 1, 2, 10, 4, 5, 6, 7, 8, 9, 0, 1])
    _, paths = write_set(tmp_path, "MNIST", train_labels=labels)
    with pytest.raises(UserError, match="label 10, expected 0..9") as info:
        load_mnist(tmp_path)
    assert str(paths[1]) in str(info.value)


def test_mismatched_counts(tmp_path):
    _, paths = write_set(tmp_path, "MNIST")
    write_idx(paths[3], np.zeros(6))  # test labels: 6 instead of 7 (plain file)
    with pytest.raises(UserError, match="holds 6 labels but .* holds 7 images") as info:
        load_mnist(tmp_path)
    assert str(paths[3]) in str(info.value) and str(paths[2]) in str(info.value)


def test_wrong_image_size(tmp_path):
    _, paths = write_set(tmp_path, "MNIST")
    paths[0].unlink()
    path = write_idx(paths[0], np.zeros((12, 27, 28)))
    with pytest.raises(UserError, match=r"shape \(12, 27, 28\), expected \(n, 28, 28\)") as info:
        load_mnist(tmp_path)
    assert str(path) in str(info.value)


def test_empty_test_set(tmp_path):
    write_set(tmp_path, "MNIST", n_test=0)
    with pytest.raises(UserError, match="t10k-images-idx3-ubyte.* holds no images"):
        load_mnist(tmp_path)


def test_download_failure_is_one_line(tmp_path, monkeypatch):
    datasets = pytest.importorskip("torchvision.datasets")
    calls = []

    class Offline:
        def __init__(self, root, *, train, download):
            calls.append((root, train, download))
            raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried https://x, got:\n<urlopen>")

    monkeypatch.setattr(datasets, "FashionMNIST", Offline)
    with pytest.raises(UserError) as info:
        load_fashion_mnist(tmp_path, download=True)
    message = str(info.value)
    assert calls == [(str(tmp_path), True, True)]
    assert "\n" not in message
    assert message.startswith(f"Fashion-MNIST files missing in {tmp_path / 'FashionMNIST' / 'raw'} (expected: ")
    assert "download failed: RuntimeError: Error downloading train-images-idx3-ubyte.gz: Tried" in message


def test_download_that_writes_files_is_then_loaded(tmp_path, monkeypatch):
    datasets = pytest.importorskip("torchvision.datasets")
    written = {}

    class FakeMNIST:
        def __init__(self, root, *, train, download):
            written["arrays"], _ = write_set(root, "MNIST", seed=5)

    monkeypatch.setattr(datasets, "MNIST", FakeMNIST)
    data = load_mnist(tmp_path, download=True)
    assert np.array_equal(data.test_images[:, 0].numpy(), written["arrays"][2])


@pytest.mark.skipif(not (REAL_MNIST / "t10k-images-idx3-ubyte.gz").is_file(), reason="real MNIST absent")
def test_real_mnist_test_set():
    images = read_idx(REAL_MNIST / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(REAL_MNIST / "t10k-labels-idx1-ubyte.gz")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and set(labels.tolist()) == set(range(10))
    counts = np.bincount(labels, minlength=10)
    assert counts.sum() == 10000 and counts.min() >= 850 and counts.max() <= 1150, counts
    assert labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]  # the official file's first labels
    assert images[:, 0].max() == 0  # digits are centred in the 28x28 box: the top row is blank
    assert images[:, 10:18, 10:18].mean() > 20 * images[:, :4].mean()  # ink at the centre, not the edge
