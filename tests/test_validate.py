"""Bad input through the real CLI: one line naming the value, a non-zero exit, and nothing written — the
checks (noisyrobust/validate.py, the run directory's, the CLI's) run before Hydra writes its config."""
import pytest
import torch
from conftest import run_cli

from noisyrobust.errors import UserError
from noisyrobust.validate import check_seed

BAD = [
    (["seed=-1"], "seed=-1 is not a seed: use an integer in [0, 4294967295]"),
    (["seed=4294967296"], "seed=4294967296 is not a seed: use an integer in [0, 4294967295]"),
    (["seed=abc"], "seed='abc' is not a seed"),
    (["seed=1.5"], "seed=1.5 is not a seed"),
    (["optimizer.lr=0"], "optimizer.lr=0 is not a learning rate: use a number > 0"),
    (["optimizer.lr=fast"], "optimizer.lr='fast' is not a learning rate"),
    (["optimizer=sam", "optimizer.base_optimizer.lr=-0.1"], "optimizer.base_optimizer.lr=-0.1 is not a learning rate"),
    (["noise=sym0.4", "noise.rate=1"], "noise.rate=1 with symmetric noise leaves no sample its true label"),
    (["method=coteaching", "noise=sym0.4", "method.forget_rate=1"], "method.forget_rate=1 is outside [0, 1)"),
    (["trainer.max_epochs=0"], "trainer.max_epochs=0 must be an integer >= 1"),
    (["trainer.num_nodes=0"], "trainer.num_nodes=0 must be an integer >= 1"),
    (["data.val_fraction=0"], "data.val_fraction=0 leaves no validation split, but callbacks.model_checkpoint monitors val/acc"),
    (["trainer.max_epoch=3"], "unknown config key 'trainer.max_epoch'"),
    (["method=jocor", "method.selection_scope=everywhere"], "method.selection_scope='everywhere' is unknown"),
    (["method=rholoss", "selection=uniform", "method.selection_scope=global"],
     "method.selection_scope=global needs a loss-based rule"),
    (["ckpt_path={tmp}"], "is a directory; give a checkpoint file such as"),
    (["hydra.run.dir={tmp}/a_file/run"], "cannot create the run directory"),
]
if not torch.cuda.is_available():
    BAD.append((["trainer=gpu"], "trainer.accelerator=gpu but no GPU is visible to PyTorch"))


@pytest.mark.parametrize("args, message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_gets_one_line_and_nothing_is_written(tmp_path, args, message):
    (tmp_path / "a_file").write_text("not a directory")
    r = run_cli(tmp_path / "run", *[a.format(tmp=tmp_path) for a in args])
    lines = [line for line in r.stderr.strip().splitlines() if line.strip()]
    assert r.returncode != 0
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], r.stderr[-2000:]
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("value", [0, 7, 2**32 - 1])
def test_32_bit_non_negative_integers_are_seeds(value):
    check_seed("seed", value)


@pytest.mark.parametrize("value", [-1, 2**32, 1.0, True, "3", None])
def test_anything_else_is_not_a_seed(value):
    with pytest.raises(UserError, match="is not a seed"):
        check_seed("seed", value)
