"""ModelPred's figure and printed table: predicted vs true change of test loss per removed group (one panel per
kind of group, every size), the error of each against the truth by group size, and the memorization scores of
ModelPred and influence against exact leave-one-out."""
from pathlib import Path

import numpy as np

from noisyrobust.figures.style import new_figure, save

METHODS = (("modelpred", "ModelPred", "o"), ("influence", "influence", "x"))


def draw(rows: list, raw: dict, scores: dict, path: Path) -> Path:
    kinds = sorted({k for k, _ in raw}, reverse=True)
    fig, axes = new_figure(len(kinds) + 2)
    for ax, kind in zip(axes, kinds):
        for (k, fraction), changes in sorted(raw.items()):
            if k != kind:
                continue
            for name, label, marker in METHODS:
                color = "C0" if name == "modelpred" else "C3"
                ax.scatter(changes["truth"], changes[name], marker=marker, s=14, color=color, alpha=0.4 + fraction,
                           label=f"{label}" if fraction == min(f for kk, f in raw if kk == kind) else None)
        lo = min(min(c["truth"].min(), c["modelpred"].min(), c["influence"].min()) for (k, _), c in raw.items() if k == kind)
        hi = max(max(c["truth"].max(), c["modelpred"].max(), c["influence"].max()) for (k, _), c in raw.items() if k == kind)
        ax.plot([lo, hi], [lo, hi], "k:", lw=0.8)
        ax.set(xlabel="true change of test loss (re-solved)", ylabel="predicted change", title=f"{kind} groups")
        ax.legend(fontsize=7)
    err_ax, mem_ax = axes[len(kinds)], axes[len(kinds) + 1]
    for name, label, marker in METHODS:
        for kind, ls in zip(kinds, ("-", "--")):
            mine = [r for r in rows if r["kind"] == kind]
            err_ax.plot([100 * r["fraction"] for r in mine], [r[f"{name}_param_rel_err"] for r in mine], marker=marker,
                        ls=ls, color="C0" if name == "modelpred" else "C3", label=f"{label}, {kind}")
    err_ax.set(xscale="log", yscale="log", xlabel="removed share of the pool %", ylabel="‖Δθ_pred − Δθ‖ / ‖Δθ‖",
               title="parameter-change error")
    err_ax.legend(fontsize=6)
    pick, exact = scores["exact_index"], scores["exact"]
    for name, label, marker in METHODS:
        mem_ax.scatter(exact, scores[name][pick], marker=marker, s=14, color="C0" if name == "modelpred" else "C3",
                       label=label)
    span = [float(np.min(exact)), float(np.max(exact))]
    mem_ax.plot(span, span, "k:", lw=0.8)
    mem_ax.set(xlabel="exact leave-one-out memorization", ylabel="predicted", title="memorization (Feldman)")
    mem_ax.legend(fontsize=7)
    return save(fig, path)


def text(result: dict) -> str:
    u, m = result["unseen_subsets"], result["memorization"]
    lines = [f"ModelPred on {result['data']} ({result['pool']} pool samples, {result['parameters']} parameters, "
             f"noise {result['noise']['name']} {result['noise']['rate']}, realized {result['noise']['realized_pool_rate']:.3f})",
             f"  unseen subsets ({u['subsets']}): relative error of θ: ModelPred {u['modelpred_rel_err_theta']:.4f}, "
             f"influence {u['influence_rel_err_theta']:.4f}, θ(P) unchanged {u['no_change_rel_err_theta']:.4f}; "
             f"of the change θ(S) − θ(P): ModelPred {u['modelpred_rel_err_change']:.3f}, influence "
             f"{u['influence_rel_err_change']:.3f}",
             "  group removal: kind, share, mean true Δ test loss | ModelPred r, |err|, param err | influence r, |err|, param err"]
    for r in result["group_removal"]:
        lines.append(f"    {r['kind']:6s} {100 * r['fraction']:4g}%  {r['true_dloss_mean']:+.4f} | "
                     f"{r['modelpred_dloss_r']:+.3f} {r['modelpred_dloss_abs_err']:.4f} {r['modelpred_param_rel_err']:.3f} | "
                     f"{r['influence_dloss_r']:+.3f} {r['influence_dloss_abs_err']:.4f} {r['influence_param_rel_err']:.3f}")
    lines.append(f"  memorization AUROC for the {m['wrong_labels']} wrong labels: ModelPred {m['modelpred_auroc']:.3f}, "
                 f"influence {m['influence_auroc']:.3f}, loss {m['loss_auroc']:.3f}; on the {m['exact_samples']} "
                 f"exact-LOO samples: exact {m['exact_auroc_on_exact_samples']:.3f}, ModelPred "
                 f"{m['modelpred_auroc_on_exact_samples']:.3f}, influence {m['influence_auroc_on_exact_samples']:.3f}; "
                 f"Spearman vs exact: ModelPred {m['modelpred_vs_exact_spearman']:.3f}, influence "
                 f"{m['influence_vs_exact_spearman']:.3f}")
    if result.get("label_issue_aurocs"):
        lines.append("  label-issue report of the same labels, AUROC: " +
                     ", ".join(f"{k} {v:.3f}" for k, v in result["label_issue_aurocs"].items() if v is not None))
    lines.append("  run times (s): " + ", ".join(f"{k} {v:.1f}" for k, v in result["times"].items()))
    return "\n".join(lines)
