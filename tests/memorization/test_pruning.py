"""Iterative global magnitude pruning with rewinding (prune=magnitude): the rule, and levels as run dirs."""
import csv
import json
import math

import pytest
import torch
from torch import nn

from conftest import run_cli
from noisyrobust.memorization.pruning import global_magnitude_masks, prunable_weights, sparsity


def test_global_rule_prunes_the_smallest_remaining_magnitudes_over_all_layers():
    w = {"a": torch.tensor([[0.5, -0.1], [3.0, 0.2]]), "b": torch.tensor([-0.05, 1.0, 0.3, -2.0, 0.15])}
    m = {"a": torch.ones(2, 2, dtype=torch.bool), "b": torch.tensor([False, True, True, True, True])}
    # 8 remaining (b[0] already pruned); k = ceil(0.4 * 8) = 4 smallest |w| among them: 0.1, 0.15, 0.2, 0.3
    new = global_magnitude_masks(w, m, fraction=0.4)
    assert new["a"].tolist() == [[True, False], [True, False]]
    assert new["b"].tolist() == [False, True, False, True, False]
    assert sparsity(new) == pytest.approx(5 / 9)


def test_prunable_weights_skip_biases_norms_and_the_output_layer():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 4), nn.Linear(4, 3))
    assert list(prunable_weights(net)) == ["0.weight", "3.weight"]
    assert list(prunable_weights(net, output_layer=True)) == ["0.weight", "3.weight", "4.weight"]


def test_each_level_is_a_run_directory_at_the_scheduled_sparsity(tmp_path):
    out = tmp_path / "run"
    result = run_cli(out, "prune=magnitude", "prune.levels=2", "prune.fraction=0.5", "prune.rewind=5",
                     "diagnostics=none", "trainer.max_epochs=1", "model.hidden=[16]")
    assert result.returncode == 0, result.stderr[-2000:]
    # MLP 64-16-10 on the digits: 1,024 prunable weights in the hidden layer, the output layer kept
    for level in range(3):
        summary = json.loads((out / f"level_{level:02d}" / "summary.json").read_text())
        assert summary["prune"]["level"] == level
        assert summary["prune"]["sparsity"] == pytest.approx(1 - 0.5 ** level, abs=1e-3)
        test_acc = [r["test/acc"] for r in csv.DictReader((out / f"level_{level:02d}" / "metrics.csv").open())
                    if r.get("test/acc")]
        assert summary["test_acc_last"] == pytest.approx(float(test_acc[-1]))  # each level a normal run
    w = torch.load(out / "level_02" / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    hidden = w["nets.0.net.1.weight"]
    assert int((hidden == 0).sum()) == math.ceil(0.5 * 1024) + math.ceil(0.5 * 512)  # pruned stay 0
    assert int((w["nets.0.net.3.weight"] == 0).sum()) == 0  # the output layer is not pruned


@pytest.mark.parametrize("override,message", [("prune.levels=0", "prune.levels=0 must be >= 1"),
                                              ("prune.fraction=1.0", "prune.fraction=1.0 is outside (0, 1)")])
def test_bad_pruning_settings_are_one_line_errors(tmp_path, override, message):
    result = run_cli(tmp_path / "run", "prune=magnitude", override)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert message in result.stderr.strip().splitlines()[-1]
