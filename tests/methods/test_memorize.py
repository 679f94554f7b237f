"""method=memorize (Badger 2022): held-out accuracy is driven down while the training set is fitted, the
held-out term follows the rule on the epoch before, and a run without held-out data is refused."""
import csv

from conftest import run_cli

COMMON = ["model=mlp", "data.val_fraction=0.5", "diagnostics=none", "trainer.max_epochs=8"]


def per_epoch(run_dir, key):
    rows = csv.DictReader(open(run_dir / "metrics.csv"))
    return {int(r["epoch"]): float(r[key]) for r in rows if r.get(key)}


def test_memorize_keeps_heldout_accuracy_near_chance_where_ce_generalizes(fit):
    _, ce = fit("method=ce", *COMMON, name="ce")
    _, mem = fit("method=memorize", *COMMON, name="memorize")
    assert per_epoch(ce, "val/acc")[7] > 0.85  # plain CE generalizes on the digits
    held = per_epoch(mem, "val/acc")
    assert max(held[e] for e in range(3, 8)) < 0.4  # chance is 0.1
    term = per_epoch(mem, "train/heldout_term")
    assert term[0] == 1.0
    for epoch in range(1, 8):  # on, unless the epoch before ended at or below chance + 0.01
        assert term[epoch] == (1.0 if held[epoch - 1] > 0.11 else 0.0), (epoch, held, term)
    assert 0.0 in term.values()  # the rule did switch the term off


def test_memorize_without_a_validation_split_is_one_line(tmp_path):
    result = run_cli(tmp_path / "run", "method=memorize", "data.val_fraction=0", "callbacks=last_only")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "data.val_fraction=0 leaves none; use data.val_fraction > 0" in result.stderr
    assert not (tmp_path / "run" / "checkpoints" / "last.ckpt").exists()
