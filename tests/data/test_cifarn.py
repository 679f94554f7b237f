"""CIFAR-10N / CIFAR-100N label files in the released format, checked against the CIFAR images."""
import numpy as np
import pytest
import torch
from formats import write_cifar10, write_cifar100, write_cifar_n

from noisyrobust.data.cifarn import load_cifar10n, load_cifar100n
from noisyrobust.errors import UserError


def test_cifar10n_label_sets_come_with_the_images(tmp_path):
    _, train_y, _, _ = write_cifar10(tmp_path)
    sets = write_cifar_n(tmp_path / "cifar-n" / "CIFAR-10_human.pt", train_y)
    data = load_cifar10n(tmp_path, label_file=tmp_path / "cifar-n" / "CIFAR-10_human.pt")
    human = data.extra["human_labels"]
    assert list(human) == ["aggre", "random1", "random2", "random3", "worse"]  # aggre, the default, first
    for name, labels in sets.items():
        np.testing.assert_array_equal(human[name], labels)
    np.testing.assert_array_equal(data.train_labels.numpy(), train_y)


def test_cifar100n_noisy_fine_labels_and_the_coarse_check(tmp_path):
    written = write_cifar100(tmp_path)
    _, fine, coarse = written["train"]
    sets = write_cifar_n(tmp_path / "CIFAR-100_human.pt", fine, hundred=True, coarse=coarse)
    data = load_cifar100n(tmp_path, label_file=tmp_path / "CIFAR-100_human.pt")
    assert list(data.extra["human_labels"]) == ["noisy"]
    np.testing.assert_array_equal(data.extra["human_labels"]["noisy"], sets["noisy"])
    write_cifar_n(tmp_path / "CIFAR-100_human.pt", fine, hundred=True, coarse=(coarse + 1) % 20)
    with pytest.raises(UserError, match="'clean_coarse_label' disagrees"):
        load_cifar100n(tmp_path, label_file=tmp_path / "CIFAR-100_human.pt")


def test_a_file_of_another_size_is_refused(tmp_path):
    _, train_y, _, _ = write_cifar10(tmp_path)
    write_cifar_n(tmp_path / "h.pt", np.concatenate([train_y, train_y[:3]]))
    with pytest.raises(UserError, match=r"holds 26 'clean_label' but the CIFAR training set has 23 images"):
        load_cifar10n(tmp_path, label_file=tmp_path / "h.pt")


def test_clean_labels_in_another_order_are_refused(tmp_path):
    _, train_y, _, _ = write_cifar10(tmp_path)
    shuffled = train_y.copy()
    shuffled[[0, 1]] = (train_y[[0, 1]] + 1) % 10
    write_cifar_n(tmp_path / "h.pt", shuffled)
    with pytest.raises(UserError, match=r"disagrees with the CIFAR training labels at 2 of 23 images \(first: 0, 1\)"
                                        r".*official order"):
        load_cifar10n(tmp_path, label_file=tmp_path / "h.pt")


def test_missing_keys_bad_values_and_unreadable_files_are_named(tmp_path):
    _, train_y, _, _ = write_cifar10(tmp_path)
    torch.save({"clean_label": train_y}, tmp_path / "h.pt")
    with pytest.raises(UserError, match="has no 'aggre_label' entry"):
        load_cifar10n(tmp_path, label_file=tmp_path / "h.pt")
    torch.save({"clean_label": train_y, "aggre_label": train_y + 10}, tmp_path / "h.pt")
    with pytest.raises(UserError, match=r"'aggre_label' holds 10..19, expected 0..9"):
        load_cifar10n(tmp_path, label_file=tmp_path / "h.pt")
    (tmp_path / "h.pt").write_bytes(b"garbage")
    with pytest.raises(UserError, match="cannot read CIFAR-10N label file"):
        load_cifar10n(tmp_path, label_file=tmp_path / "h.pt")


def test_a_missing_label_file_is_named_and_a_failed_download_leaves_nothing(tmp_path, monkeypatch):
    write_cifar10(tmp_path)
    target = tmp_path / "cifar-n" / "CIFAR-10_human.pt"
    with pytest.raises(UserError, match=r"CIFAR-10N files missing in .*cifar-n \(expected: CIFAR-10_human.pt\)"):
        load_cifar10n(tmp_path, label_file=target)

    def offline(url, root, filename=None, **kw):  # what torchvision does here without a network, minus the wait
        (tmp_path / "cifar-n").mkdir(exist_ok=True)
        partial = next((tmp_path / "cifar-n").glob(".download-*")) / filename
        partial.write_bytes(b"half a fi")
        raise OSError("network is unreachable")

    monkeypatch.setattr("torchvision.datasets.utils.download_url", offline)
    with pytest.raises(UserError, match="download failed: OSError: network is unreachable"):
        load_cifar10n(tmp_path, label_file=target, download=True)
    assert list((tmp_path / "cifar-n").iterdir()) == []  # no partial file
