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


@pytest.mark.parametrize("mine, theirs", [("backward", "forward"), ("sop_plus", "sop"), ("gce_truncated", "gce"),
                                          ("rholoss[uniform]", "rholoss")])
def test_a_checkpoint_of_another_method_config_is_refused_as_a_different_method(tmp_path, mine, theirs):
    m = model()  # the same networks: the weights alone cannot tell the methods apart
    path = write(tmp_path / "m.ckpt", {"state_dict": m.state_dict(), "noisy_labels_checksum": "abc", "method": theirs})
    with pytest.raises(UserError, match=rf"trained by a different method \({theirs.replace('[', '.')}; this run is"):
        check_resume(str(path), m, labels_checksum="abc", method=mine)


def test_a_method_mismatch_is_named_before_the_networks_differ(tmp_path):
    other = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    path = write(tmp_path / "m.ckpt", {"state_dict": other.state_dict(), "noisy_labels_checksum": "abc",
                                       "method": "coteaching"})
    with pytest.raises(UserError, match="different method"):
        check_resume(str(path), model(), labels_checksum="abc", method="ce")


@pytest.mark.parametrize("a, b", [("forward", "backward"), ("sop", "sop_plus"), ("gce", "gce_truncated")])
def test_the_identity_is_the_method_config_name_under_hydra(a, b):
    from hydra import compose, initialize_config_dir
    from hydra.core.hydra_config import HydraConfig

    from conftest import ROOT

    identities = []
    for name in (a, b):
        with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
            cfg = compose("config", overrides=[f"method={name}"], return_hydra_config=True)
        HydraConfig.instance().set_config(cfg)
        try:
            identities += [checkpointing.method_identity(cfg.method), checkpointing.method_identity(cfg.method, "x")]
        finally:
            HydraConfig.instance().cfg = None
    assert identities == [a, f"{a}[x]", b, f"{b}[x]"]
