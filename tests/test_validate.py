"""Bad input through the real CLI: one line naming the value, a non-zero exit, and nothing written — the
checks (noisyrobust/validate.py, the run directory's, the CLI's) run before Hydra writes its config."""
import pytest
import torch
from conftest import refused, run_cli

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
    # values a stage or the data would read only after the run has written its files (or trained a stage)
    (["noise=sym0.4", "noise.rate=nan"], "noise.rate=nan is not a finite number"),
    (["noise=sym0.4", "noise.rate=1.5"], "noise.rate=1.5 is not a number in [0, 1]"),
    (["data.val_fraction=nan"], "data.val_fraction=nan is not a finite number"),
    (["method=rholoss", "stages.irreducible_loss.il_path={tmp}/missing.npz"],
     "stages.irreducible_loss.il_path={tmp}/missing.npz does not exist"),
    (["method=forward", "stages.transition.percentile=150"],
     "stages.transition.percentile=150 is not a percentile in (0, 100]"),
    (["method=forward", "method.transition={tmp}/nan_matrix.txt"], "nan_matrix.txt is not row-stochastic"),
    # a method's own check of its values, in its constructor, after Hydra wrote .hydra/ and train.log
    (["method=disc", "method.warmup_epochs=1", "method.momentum=1.5"], "method.momentum=1.5 must be in [0, 1)"),
    (["method=pes", "method.warmup_epochs=0", "method.refine_depths=[1,0]", "method.refine_epochs=[1,1]"],
     "renews every layer of model MLP"),
]
if not torch.cuda.is_available():
    BAD.append((["trainer=gpu"], "trainer.accelerator=gpu but no GPU is visible to PyTorch"))


@pytest.mark.parametrize("args, message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_gets_one_line_and_nothing_is_written(tmp_path, args, message):
    (tmp_path / "a_file").write_text("not a directory")
    (tmp_path / "nan_matrix.txt").write_text("\n".join(["nan " * 10] * 10))  # digits: 10 classes
    line = refused(tmp_path / "run", *[a.format(tmp=tmp_path) for a in args])
    assert message.format(tmp=tmp_path) in line
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("args, message", [
    (["trainer.max_epoch=3"], "unknown config key 'trainer.max_epoch'"),  # checked before Hydra starts
    (["noise=sym0.4", "noise.rate=nan"], "noise.rate=nan is not a finite number"),  # by the run, before it writes
    (["method=disc", "method.warmup_epochs=1", "method.momentum=1.5"], "method.momentum=1.5 must be in [0, 1)"),
], ids=["before Hydra", "in the run", "by the method"])
def test_the_cli_prints_the_line_alone_and_exits_nonzero(tmp_path, args, message):
    r = run_cli(tmp_path / "run", *args)
    lines = [line for line in r.stderr.strip().splitlines() if line.strip()]
    assert r.returncode == 1
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], r.stderr[-2000:]
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("value", [0, 7, 2**32 - 1])
def test_32_bit_non_negative_integers_are_seeds(value):
    check_seed("seed", value)


@pytest.mark.parametrize("value", [-1, 2**32, 1.0, True, "3", None])
def test_anything_else_is_not_a_seed(value):
    with pytest.raises(UserError, match="is not a seed"):
        check_seed("seed", value)


def test_a_training_split_smaller_than_the_batch_is_refused_before_anything_is_written(tmp_path):
    """digits: 1,293 training samples; batches of 2,048 with the last partial batch dropped make no batch."""
    assert refused(tmp_path / "run", "data.batch_size=2048") == (
        "the training split has 1293 samples, fewer than data.batch_size=2048: no training batch (the last partial "
        "batch is dropped); use a data.batch_size of at most 1293")
    assert not (tmp_path / "run").exists()  # Hydra's .hydra/ and train.log are removed with the refusal


class _Split:
    def __init__(self, n, batch_size, drop_last=True):
        self.train_indices, self.batch_size, self.drop_last = range(n), batch_size, drop_last


@pytest.mark.parametrize("n, batch, drop_last, world, ok", [
    (54, 128, True, 1, False), (54, 54, True, 1, True), (54, 128, False, 1, True), (100, 64, True, 2, True),
    (100, 128, True, 2, False), (1, 2, False, 2, False)])
def test_every_process_needs_one_training_batch(n, batch, drop_last, world, ok):
    from noisyrobust.validate import check_training_batches

    if ok:
        check_training_batches(_Split(n, batch, drop_last), world)
    else:
        with pytest.raises(UserError, match=f"the training split has {n} samples"):
            check_training_batches(_Split(n, batch, drop_last), world)
