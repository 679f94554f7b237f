"""Detection quality against formulas written out here; the label-issue table sorted, oriented and
written as promised (plain, and compressed beside its top for a large set)."""
import gzip
import itertools

import numpy as np
import pytest

from noisyrobust.label_issues import table as it
from noisyrobust.label_issues.detection import detection_quality, suspicion_order


def test_auroc_is_the_share_of_noisy_clean_pairs_ordered_right_ties_counting_half():
    score = np.array([0.9, 0.4, 0.4, 0.1, 0.8, 0.4])
    noisy = np.array([1, 1, 0, 0, 0, 1], dtype=bool)
    pairs = [(1.0 if a > b else 0.5 if a == b else 0.0)
             for a, b in itertools.product(score[noisy], score[~noisy])]
    assert detection_quality(score, noisy)["auroc"] == pytest.approx(np.mean(pairs))


def test_average_precision_and_precision_at_k_by_hand():
    score = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    noisy = np.array([1, 0, 1, 0, 1], dtype=bool)
    q = detection_quality(score, noisy)
    assert q["ap"] == pytest.approx((1 / 1 + 2 / 3 + 3 / 5) / 3)  # precision at each wrong label's rank
    assert q["precision_at_k"] == pytest.approx(2 / 3)  # k = 3 wrong labels: ranks 1-3 hold two of them


def test_auroc_and_ap_are_scikit_learns_on_random_scores_with_and_without_ties():
    from sklearn.metrics import average_precision_score, roc_auc_score

    rng = np.random.default_rng(0)
    for trial in range(40):
        n = int(rng.integers(5, 200))
        noisy = np.r_[True, False, rng.random(n - 2) < rng.random()]
        score = rng.integers(0, 4, n).astype(float) if trial % 2 else rng.normal(size=n)  # ties on odd trials
        q = detection_quality(score, noisy)
        assert q["auroc"] == pytest.approx(roc_auc_score(noisy, score), abs=1e-12)
        assert q["ap"] == pytest.approx(average_precision_score(noisy, score), abs=1e-12)


def test_rows_without_a_score_are_left_out_and_one_class_gives_nan():
    q = detection_quality(np.array([0.9, np.nan, 0.1]), np.array([1, 1, 0], dtype=bool))
    assert q == {"auroc": 1.0, "ap": 1.0, "precision_at_k": 1.0}
    assert np.isnan(detection_quality(np.array([0.5, 0.6]), np.array([1, 1], dtype=bool))["auroc"])


def test_suspicion_order_is_descending_ties_by_position_nan_last():
    assert suspicion_order(np.array([1.0, np.nan, 3.0, 1.0, 2.0])).tolist() == [2, 4, 0, 3, 1]


def table_of():
    rows = np.array([4, 0, 2, 5, 1])
    given = np.array([0, 1, 2, 0, 1, 2])
    clean = np.array([0, 2, 2, -1, 0, 2])
    aum = np.array([0.1, 0.5, 0.5, np.nan, 0.9, 0.2])
    loss = -aum
    return it.issue_table(rows, given=given, suggested=np.array([0, 2, 2, 0, 0, 2]), clean=clean,
                          scores={"loss": loss, "aum": aum}, order_by="aum")


def test_table_is_sorted_by_the_default_score_with_is_noisy_from_the_known_clean_labels():
    t = table_of()
    assert t["index"].tolist() == [4, 2, 1, 5, 0]  # aum 0.9, then the 0.5 tie in row order, 0.2, 0.1
    assert t["aum"].tolist() == [0.9, 0.5, 0.5, 0.2, 0.1] and t["loss"].tolist() == [-0.9, -0.5, -0.5, -0.2, -0.1]
    assert t["is_noisy"].tolist() == [1, 0, 1, 0, 0]
    assert t["given_label"].tolist() == [1, 2, 1, 2, 0] and t["suggested_label"].tolist() == [0, 2, 2, 2, 0]


def test_unknown_clean_label_is_an_empty_cell_and_the_file_reads_back(tmp_path):
    rows = np.array([0, 1, 2])
    t = it.issue_table(rows, given=np.array([0, 1, 1]), suggested=np.array([0, 0, 1]), clean=np.array([0, -1, 0]),
                       scores={"aum": np.array([0.3, 0.2, 0.9])}, order_by="aum")
    it.write_issue_table(tmp_path, t)
    lines = (tmp_path / "label_issues.csv").read_text().splitlines()
    assert lines[0] == "index,given_label,suggested_label,aum,is_noisy"
    assert lines[1:] == ["2,1,1,0.9,1", "0,0,0,0.3,0", "1,1,0,0.2,"]
    back = it.read_issue_table(tmp_path / "label_issues.csv")
    assert back["index"].tolist() == [2, 0, 1] and back["is_noisy"].tolist() == [1, 0, -1]


def test_a_large_set_gets_the_whole_table_compressed_beside_its_top(tmp_path, monkeypatch):
    monkeypatch.setattr(it, "FULL_CSV_MAX_ROWS", 5)
    monkeypatch.setattr(it, "TOP_ROWS", 3)
    n = 8
    t = it.issue_table(np.arange(n), given=np.zeros(n, int), suggested=np.zeros(n, int), clean=np.zeros(n, int),
                       scores={"aum": np.arange(n, dtype=float)}, order_by="aum")
    written = it.write_issue_table(tmp_path, t)
    assert sorted(p.name for p in written) == ["label_issues.csv", "label_issues.csv.gz"]
    top = it.read_issue_table(tmp_path / "label_issues.csv")
    assert top["index"].tolist() == [7, 6, 5]
    with gzip.open(tmp_path / "label_issues.csv.gz", "rt") as f:
        assert len(f.read().splitlines()) == n + 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["label_issues.csv", "label_issues.csv.gz"]  # no temp left
