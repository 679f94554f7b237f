"""Behaviour on the real digits: plain CE memorizes 40% symmetric noise — what robust methods prevent."""
import csv

import torch


def test_ce_memorizes_noisy_labels_and_test_accuracy_falls_from_its_peak(fit):
    summary, out = fit("method=ce", "noise=sym0.4", "trainer.max_epochs=100", "seed=0")
    rows = [r for r in csv.DictReader((out / "metrics.csv").open()) if r.get("mem/noisy_fit")]
    noisy_fit = [float(r["mem/noisy_fit"]) for r in rows]
    clean_fit = [float(r["mem/clean_fit"]) for r in rows]
    assert len(noisy_fit) == 100
    # early on the network fits the clean majority and predicts the wrong label of few noisy samples ...
    assert max(noisy_fit[5:15]) < 0.05 and min(clean_fit[5:15]) > 0.9
    # ... later it learns the wrong labels by heart
    assert noisy_fit[-1] > 0.2 and noisy_fit[-1] > 5 * max(noisy_fit[5:15])
    assert summary["test_acc_last"] < summary["test_acc_best_test_selected"] - 0.05
    # last.ckpt follows every epoch, also after validation accuracy stopped improving; best.ckpt does not
    last = torch.load(out / "checkpoints" / "last.ckpt", weights_only=False)
    best = torch.load(out / "checkpoints" / "best.ckpt", weights_only=False)
    assert last["epoch"] == 99 and best["epoch"] == summary["best_val_epoch"] < 99
