"""GCE, forward/backward correction, ELR, ELR+, DivideMix and SOP/SOP+ end to end through the CLI on the
digits (2 epochs), their bad inputs (one line, non-zero exit), and what each adds to the summary and the
label-issue table."""
import json

import numpy as np
import pytest
from conftest import refused, run_cli

# one CLI sweep shares trainer.max_epochs=2: DivideMix's warm-up cannot fit it (its own runs: the every-method
# battery, in-process); the cross-method coverage is tests/methods/test_every_method.py's
NEW_METHODS = ["gce", "gce_truncated", "forward", "backward", "elr", "elr_plus", "sop", "sop_plus"]


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def test_every_new_method_trains_through_the_cli(tmp_path):
    r = run_cli(tmp_path, f"method={','.join(NEW_METHODS)}", "noise=sym0.4", f"hydra.sweep.dir={tmp_path / 'sweep'}",
                flags=["-m"])
    assert r.returncode == 0, r.stderr[-3000:]
    summaries = {s["method"]: s for s in (json.loads(p.read_text()) for p in (tmp_path / "sweep").glob("*/summary.json"))}
    assert sorted(summaries) == sorted(NEW_METHODS)
    for method, s in summaries.items():
        assert s["epochs"] == 2 and s["test_acc_last"] > 0.3, (method, s["test_acc_last"])  # 10 classes: chance 0.1
    # the correction estimated T from a CE stage; each row a distribution
    t = np.array(summaries["forward"]["transition"]["matrix"])
    assert t.shape == (10, 10) and np.allclose(t.sum(1), 1, atol=1e-3)
    # the methods' own scores are columns of the label-issue table, with their detection quality
    for method, score in [("elr", "elr_target"), ("sop", "sop_u"), ("sop", "sop_v"), ("elr_plus", "elr_target"),
                          ("gce_truncated", "gce_pruned")]:
        assert score in summaries[method]["label_issues"]["scores"], (method, score)
        assert score in summaries[method]["label_issues"]["detection"]
    assert summaries["elr"]["label_issues"]["detection"]["elr_target"]["auroc"] > 0.6  # it finds wrong labels


@pytest.mark.parametrize("args, message", [
    (["method=forward", "method.transition=nofile.npy"],
     "method.transition=nofile.npy is neither estimate, oracle nor an existing file"),
    (["method=dividemix", "method.warmup_epochs=1", "method.lambda_u=-1"], "method.lambda_u=-1 must be >= 0"),
    (["method=dividemix", "method.warmup_epochs=1", "method.p_threshold=1.5"], "method.p_threshold=1.5 is outside (0, 1)"),
    (["method=dividemix", "method.warmup_epochs=1", "method.net2=null"], "method=dividemix needs two networks"),
    (["method=sop", "method.lr_u=0"], "method.lr_u=0 and method.lr_v=10.0 must both be > 0"),
    (["method=sop_plus", "data=folder", "data.root=IMAGES", "model=mlp", "data.resize=32", "data.crop=28",
      "data.num_workers=0", "data.batch_size=4"], "a strong view (method=sop_plus, promix, disc) needs a dataset held in memory"),
    (["method=coteaching_plus", "method.no_disagreement=always"], "method.no_disagreement=always is unknown"),
])
def test_bad_input_gets_one_line_and_nonzero_exit(tmp_path, args, message):
    if "data.root=IMAGES" in args:
        from formats import write_image_folder
        root = write_image_folder(tmp_path / "images", {"cat": 6, "dog": 6}, test_counts={"cat": 2, "dog": 2})
        args = [a.replace("IMAGES", str(root)) for a in args]
    assert message in refused(tmp_path / "run", *args)  # the command's line (tests/test_validate.py: its exit)


@pytest.mark.parametrize("matrix, message", [
    (np.eye(3), "has shape (3, 3); this dataset needs (10, 10)"),
    (np.full((10, 10), 0.2), "is not row-stochastic"),
    (np.full((10, 10), 0.1), "is singular, so method=backward cannot invert it"),
])
def test_a_bad_transition_file_is_refused_by_name(tmp_path, matrix, message):
    path = tmp_path / "T.npy"
    np.save(path, matrix)
    assert message in refused(tmp_path / "run", "method=backward", f"method.transition={path}")
    assert not (tmp_path / "run" / "noisy_labels.npz").exists()  # refused before anything is written
