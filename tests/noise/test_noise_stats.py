"""Realized transition matrix, noise rate, checksum and the atomic noisy_labels.npz."""

import hashlib
import os
import struct

import numpy as np
import pytest

from noisyrobust.errors import UserError
from noisyrobust.noise import (
    labels_checksum,
    load_noisy_labels,
    noise_rate,
    save_noisy_labels,
    transition_matrix,
)

CLEAN = np.array([0, 0, 0, 1, 1, 2])
NOISY = np.array([0, 1, 1, 1, 0, 2])


def test_transition_matrix_by_hand():
    expected = np.array([
        [1 / 3, 2 / 3, 0, 0],
        [1 / 2, 1 / 2, 0, 0],
        [0, 0, 1, 0],
        [0, 0, 0, 0],  # class 3 has no samples
    ])
    m = transition_matrix(CLEAN, NOISY, num_classes=4)
    assert m.dtype == np.float64 and m.shape == (4, 4)
    np.testing.assert_allclose(m, expected)


def test_transition_matrix_rejects_mismatched_or_out_of_range_labels():
    with pytest.raises(UserError, match=r"\(5,\).*\(6,\)"):
        transition_matrix(CLEAN, NOISY[:5], num_classes=4)
    with pytest.raises(UserError, match="label 2 "):
        transition_matrix(CLEAN, NOISY, num_classes=2)


def test_noise_rate_by_hand():
    assert noise_rate(CLEAN, NOISY) == pytest.approx(3 / 6)
    assert noise_rate(CLEAN, CLEAN) == 0.0


def test_checksum_is_sha256_of_int64_little_endian_bytes():
    expected = hashlib.sha256(struct.pack("<3q", 3, 0, 7)).hexdigest()[:16]
    assert labels_checksum(np.array([3, 0, 7], dtype=np.int64)) == expected
    assert labels_checksum(np.array([3, 0, 7], dtype=np.int32)) == expected  # dtype does not matter
    assert labels_checksum([3, 0, 7]) == expected
    assert len(expected) == 16


def test_checksum_changes_with_one_label():
    y = np.random.default_rng(0).integers(0, 10, 10_000)
    z = y.copy()
    z[4_321] = (z[4_321] + 1) % 10
    assert labels_checksum(y) == labels_checksum(y.copy())
    assert labels_checksum(y) != labels_checksum(z)


def test_save_load_roundtrip(tmp_path):
    path = tmp_path / "noisy_labels.npz"
    save_noisy_labels(path, clean=CLEAN, noisy=NOISY, num_classes=4)
    assert os.listdir(tmp_path) == ["noisy_labels.npz"]  # no temp file left
    data = load_noisy_labels(path)
    assert set(data) == {"clean", "noisy", "transition_matrix"}
    np.testing.assert_array_equal(data["clean"], CLEAN)
    np.testing.assert_array_equal(data["noisy"], NOISY)
    assert data["noisy"].dtype == np.int64
    np.testing.assert_allclose(data["transition_matrix"][0], [1 / 3, 2 / 3, 0, 0])


def test_failing_save_leaves_no_file_and_keeps_an_old_one(tmp_path, monkeypatch):
    path = tmp_path / "noisy_labels.npz"

    def broken_savez(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(RuntimeError, match="disk full"):
        save_noisy_labels(path, clean=CLEAN, noisy=NOISY, num_classes=4)
    assert os.listdir(tmp_path) == []

    monkeypatch.undo()
    save_noisy_labels(path, clean=CLEAN, noisy=NOISY, num_classes=4)
    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(RuntimeError):
        save_noisy_labels(path, clean=CLEAN, noisy=CLEAN, num_classes=4)
    assert os.listdir(tmp_path) == ["noisy_labels.npz"]
    monkeypatch.undo()
    np.testing.assert_array_equal(load_noisy_labels(path)["noisy"], NOISY)


def test_loading_a_missing_or_foreign_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="nope.npz"):
        load_noisy_labels(tmp_path / "nope.npz")
    np.savez(tmp_path / "other.npz", clean=CLEAN)
    with pytest.raises(UserError, match="noisy"):
        load_noisy_labels(tmp_path / "other.npz")
