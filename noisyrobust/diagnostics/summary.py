"""The end-of-run numbers, from the per-epoch history of clean test and noisy validation accuracy."""
import math


def summarize_history(history: list, *, last: int = 10) -> dict:
    """Test accuracy at the last epoch, its mean over the last ``last`` epochs (Co-teaching's convention; over
    ``test_acc_mean_epochs`` of them when fewer were evaluated),
    at the epoch of best validation accuracy (a fair model selection), and the best test accuracy
    (test-selected: what papers often report, not a fair selection). Each history entry holds ``epoch``,
    ``test/acc`` and, where a validation split exists, ``val/acc``; extra ``test/acc_*`` keys (one per
    network) get their last value."""
    if not history:
        return {}
    test = [h["test/acc"] for h in history]
    out = {"test_acc_last": test[-1],
           "test_acc_mean_last10": sum(test[-last:]) / len(test[-last:]),
           "test_acc_mean_epochs": len(test[-last:]),  # fewer than 10 in a short run: the line says how many
           "test_acc_best_test_selected": max(test)}
    val = [h.get("val/acc", math.nan) for h in history]
    if not all(math.isnan(v) for v in val):
        best = max(range(len(val)), key=lambda i: (val[i], -i))  # first epoch of the best val accuracy
        out.update(best_val_epoch=history[best]["epoch"], val_acc_best=val[best], test_acc_at_best_val=test[best])
    for key in history[-1]:
        if key.startswith("test/acc_"):
            out[f"{key.replace('/', '_')}_last"] = history[-1][key]
    return out
