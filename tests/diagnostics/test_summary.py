"""summarize_history: last test acc, mean over the last 10 epochs, test acc at the FIRST epoch of the best
validation acc, and the test-selected best; per-network test/acc_* keys get their last value."""
import math

from noisyrobust.diagnostics import summarize_history

TEST = [0.10, 0.20, 0.30, 0.40, 0.50, 0.55, 0.60, 0.58, 0.70, 0.65, 0.62, 0.64]  # 12 epochs
VAL = [0.05, 0.15, 0.25, 0.45, 0.40, 0.30, 0.35, 0.45, 0.42, 0.44, 0.41, 0.43]   # max 0.45 at 3 and 7


def history(test=TEST, val=VAL, first_epoch=0):
    out = []
    for i, t in enumerate(test):
        h = {"epoch": first_epoch + i, "test/acc": t}
        if val is not None:
            h["val/acc"] = val[i]
        out.append(h)
    return out


def test_last_mean_of_last_ten_and_test_selected_best():
    s = summarize_history(history())
    assert s["test_acc_last"] == 0.64
    # epochs 2..11: 0.30 + 0.40 + 0.50 + 0.55 + 0.60 + 0.58 + 0.70 + 0.65 + 0.62 + 0.64 = 5.54
    assert math.isclose(s["test_acc_mean_last10"], 5.54 / 10, rel_tol=1e-12)
    assert s["test_acc_best_test_selected"] == 0.70


def test_mean_last10_with_fewer_than_ten_epochs_averages_all_of_them():
    s = summarize_history(history(TEST[:4], VAL[:4]))
    assert math.isclose(s["test_acc_mean_last10"], (0.10 + 0.20 + 0.30 + 0.40) / 4, rel_tol=1e-12)
    assert s["test_acc_last"] == 0.40
    assert s["test_acc_mean_epochs"] == 4 and summarize_history(history())["test_acc_mean_epochs"] == 10


def test_the_end_of_run_line_says_how_many_epochs_the_mean_is_over():
    from noisyrobust.run_summary import format_summary

    base = {"method": "ce", "data": "digits", "noise": {"name": "sym0.4", "realized_rate": 0.4}, "seed": 0,
            "wall_time_s": 3.0, "run_dir": "/r"}
    short = format_summary({**base, **summarize_history(history(TEST[:3], VAL[:3]))})
    assert "| mean of last 3 20.00 |" in short  # (0.10 + 0.20 + 0.30) / 3, not "mean of last 10"
    assert "| mean of last 10 55.40 |" in format_summary({**base, **summarize_history(history())})


def test_best_val_picks_the_first_epoch_of_the_maximum_and_reports_test_acc_there():
    s = summarize_history(history(first_epoch=5))  # epoch numbers are reported from the history
    assert s["best_val_epoch"] == 5 + 3  # val 0.45 also at index 7; the first one wins
    assert s["val_acc_best"] == 0.45
    assert s["test_acc_at_best_val"] == 0.40  # not 0.58 (index 7) and not the test-selected 0.70


def test_without_val_key_there_are_no_best_val_fields():
    s = summarize_history(history(val=None))
    assert "best_val_epoch" not in s
    assert "val_acc_best" not in s
    assert "test_acc_at_best_val" not in s
    assert s["test_acc_last"] == 0.64


def test_per_network_test_keys_get_their_last_value():
    h = history(TEST[:3], VAL[:3])
    for i, entry in enumerate(h):
        entry["test/acc_net1"] = 0.1 * i
        entry["test/acc_net2"] = 0.2 * i
        entry["val/acc_net1"] = 0.3
    s = summarize_history(h)
    assert s["test_acc_net1_last"] == 0.1 * 2
    assert s["test_acc_net2_last"] == 0.2 * 2
    assert not any(k.startswith("val_acc_net") for k in s)


def test_empty_history_gives_empty_summary():
    assert summarize_history([]) == {}


def test_top5_and_a_further_test_set_are_summarized_as_test_acc_is():
    h = history()
    for i, entry in enumerate(h):
        entry["test/acc_top5"] = 0.9 - 0.01 * i
        entry["test_imagenet/acc"] = 0.05 * i
        entry["test_imagenet/acc_top5"] = 0.5
    s = summarize_history(h)
    assert math.isclose(s["test_acc_top5_last"], 0.9 - 0.11) and s["test_imagenet_acc_last"] == 0.05 * 11
    # the last ten epochs (2..11): 0.05 * (2 + ... + 11) / 10 = 0.05 * 6.5
    assert math.isclose(s["test_imagenet_acc_mean_last10"], 0.05 * 6.5, rel_tol=1e-12)
    assert math.isclose(s["test_acc_top5_mean_last10"], 0.9 - 0.01 * 6.5, rel_tol=1e-12)
    # at the first epoch of the best validation accuracy (3), as test_acc_at_best_val
    assert s["test_imagenet_acc_at_best_val"] == 0.05 * 3 and math.isclose(s["test_acc_top5_at_best_val"], 0.87)
    assert s["test_imagenet_acc_top5_last"] == 0.5 and "test_imagenet_acc_best_test_selected" not in s
