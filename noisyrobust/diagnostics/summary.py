"""The end-of-run numbers, from the per-epoch history of clean test and noisy validation accuracy."""
import math


def summarize_history(history: list, *, last: int = 10) -> dict:
    """Test accuracy at the last epoch, its mean over the last ``last`` epochs (Co-teaching's convention; over
    ``test_acc_mean_epochs`` of them when fewer were evaluated),
    at the epoch of best validation accuracy (a fair model selection), and the best test accuracy
    (test-selected: what papers often report, not a fair selection). Each history entry holds ``epoch``,
    ``test/acc`` and, where a validation split exists, ``val/acc``; extra ``test/acc_*`` keys (one per
    network) get their last value. Top-5 accuracy (``test/acc_top5``) and the accuracies on a dataset's further
    test sets (``test_imagenet/acc``, ``test_imagenet/acc_top5``) get their last value, the mean over the last
    ``last`` epochs and the value at the epoch of best validation accuracy."""
    if not history:
        return {}
    test = [h["test/acc"] for h in history]
    out = {"test_acc_last": test[-1],
           "test_acc_mean_last10": sum(test[-last:]) / len(test[-last:]),
           "test_acc_mean_epochs": len(test[-last:]),  # fewer than 10 in a short run: the line says how many
           "test_acc_best_test_selected": max(test)}
    val = [h.get("val/acc", math.nan) for h in history]
    best = None
    if not all(math.isnan(v) for v in val):
        best = max(range(len(val)), key=lambda i: (val[i], -i))  # first epoch of the best val accuracy
        out.update(best_val_epoch=history[best]["epoch"], val_acc_best=val[best], test_acc_at_best_val=test[best])
    for key in history[-1]:
        if not key.startswith("test") or key == "test/acc":
            continue
        name = key.replace("/", "_")
        out[f"{name}_last"] = history[-1][key]
        if key.endswith(("/acc", "/acc_top5")):  # not a per-network key: summarized as test/acc is
            values = [h.get(key, math.nan) for h in history]
            out[f"{name}_mean_last10"] = sum(values[-last:]) / len(values[-last:])
            if best is not None:
                out[f"{name}_at_best_val"] = values[best]
    return out
