"""Checkpoints: AtomicCheckpointIO writes through a temp file (a failed write keeps the previous file and
leaves no temp file); check_resume refuses missing, unreadable, non-Lightning, other-model and
other-noisy-labels checkpoints with a UserError naming the path."""
from pathlib import Path

import numpy as np
import pytest
import torch

import noisyrobust.checkpointing as checkpointing
from noisyrobust.checkpointing import AtomicCheckpointIO, check_resume
from noisyrobust.errors import UserError


def test_save_checkpoint_writes_a_loadable_file_and_no_temp_file(tmp_path):
    path = tmp_path / "nested" / "dir" / "last.ckpt"
    AtomicCheckpointIO().save_checkpoint({"epoch": 3, "w": torch.arange(4)}, path)
    loaded = torch.load(path, weights_only=False)
    assert loaded["epoch"] == 3 and torch.equal(loaded["w"], torch.arange(4))
    assert [p.name for p in path.parent.iterdir()] == ["last.ckpt"]


def test_save_checkpoint_failing_mid_write_keeps_previous_file_and_removes_temp(tmp_path, monkeypatch):
    path = tmp_path / "last.ckpt"
    io = AtomicCheckpointIO()
    io.save_checkpoint({"epoch": 1}, path)
    before = path.read_bytes()

    def broken_save(obj, f, *args, **kwargs):
        Path(f).write_bytes(b"PK\x03\x04 truncated")  # partial bytes, then the crash
        raise OSError("disk full")

    monkeypatch.setattr(checkpointing.torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        io.save_checkpoint({"epoch": 2}, path)
    monkeypatch.undo()

    assert path.read_bytes() == before
    assert torch.load(path, weights_only=False) == {"epoch": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]


def test_save_checkpoint_replaces_the_previous_file(tmp_path):
    path = tmp_path / "last.ckpt"
    io = AtomicCheckpointIO()
    io.save_checkpoint({"epoch": 1}, path)
    io.save_checkpoint({"epoch": 2}, path)
    assert torch.load(path, weights_only=False) == {"epoch": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]


def model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))


def write(path, obj):
    torch.save(obj, path)
    return path


def refused(path, module, checksum="abc"):
    with pytest.raises(UserError) as err:
        check_resume(str(path), module, labels_checksum=checksum)
    message = str(err.value)
    assert str(Path(path).resolve()) in message
    return message


def test_matching_checkpoint_passes_and_returns_resolved_path(tmp_path):
    m = model()
    path = write(tmp_path / "ok.ckpt", {"state_dict": m.state_dict(), "noisy_labels_checksum": "abc"})
    assert check_resume(str(path), m, labels_checksum="abc") == path.resolve()


def test_missing_file_is_refused(tmp_path):
    assert "does not exist" in refused(tmp_path / "nope.ckpt", model())


def test_random_bytes_file_is_refused(tmp_path):
    path = tmp_path / "junk.ckpt"
    path.write_bytes(np.random.default_rng(0).bytes(512))
    assert "not a readable checkpoint" in refused(path, model())


def test_dict_without_state_dict_is_refused(tmp_path):
    path = write(tmp_path / "nostate.ckpt", {"epoch": 3, "noisy_labels_checksum": "abc"})
    assert "state_dict" in refused(path, model())


def test_other_models_weights_are_refused(tmp_path):
    other = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    path = write(tmp_path / "other.ckpt", {"state_dict": other.state_dict(), "noisy_labels_checksum": "abc"})
    message = refused(path, model())
    assert "different model" in message and "0.weight" in message


def test_checkpoint_trained_on_other_noisy_labels_is_refused(tmp_path):
    m = model()
    path = write(tmp_path / "labels.ckpt", {"state_dict": m.state_dict(), "noisy_labels_checksum": "xyz"})
    message = refused(path, m, checksum="abc")
    assert "xyz" in message and "abc" in message
