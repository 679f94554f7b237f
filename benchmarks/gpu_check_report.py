"""The GPU check's outputs: gpu_check.json (everything measured) and gpu_check.md (the table it prints)."""
import json
import math
from pathlib import Path


def _s(value, digits=1) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _pct(value) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def _verdict(value) -> str:
    return {True: "pass", False: "FAIL", None: "not judged"}[value]


def table(report: dict) -> str:
    d, parts = report["device"], report["parts"]
    lines = [f"# GPU check: {d['name']} (torch {d['torch']}, CUDA {d['cuda_version']})", ""]
    if report["smoke"]:
        lines += ["**Smoke run**: the CPU and tiny sizes; the numbers say only that every part runs.", ""]
    lines += [f"Data: {report['data'].get('images', '?')} from {report['data'].get('source', '?')}"
              + (f" ({report['data']['error']})" if "error" in report["data"] else "")
              + f". Wall time {report['wall_s']:.0f} s of a {report['budget_s']:.0f} s budget. "
              f"Overall: {'pass' if report['passed'] else 'FAIL'}.", ""]

    t = parts["cuda_tests"]
    lines += ["## CUDA-only tests", "", f"{t['status']}: " + ", ".join(
        f"{t.get(k, 0)} {k}" for k in ("passed", "failed", "error", "skipped")) + f" ({_s(t.get('wall_s'), 0)} s)"]
    lines += [f"- not passed: {n}" for n in t.get("not_passed", [])]
    if "host_sync_by_method" in t:
        lines += ["", "Host-sync \"error\" mode per method of conf/method/: " + ", ".join(
            f"{m} {o}" for m, o in t["host_sync_by_method"].items())]

    j = parts["jocor_speed"]
    lines += ["", f"## JoCoR CIFAR-10 sym50 ({j['protocol']}, {j['model']}, batch {j['batch_size']}): time per epoch",
              "",
              f"| variant | fused_steps | epochs | s/epoch (train + eval) | images/s | first epoch s "
              f"| projected {j['protocol_epochs']} epochs | test acc % (last) | vs bf16 | status |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for r in j["variants"]:
        vs = r.get("test_acc_vs_bf16")
        versus = "-" if vs is None else f"{100 * vs:+.2f} {_verdict(r.get('agrees'))}"
        lines.append(f"| {r['variant']} | {r['fused_steps']} | {r.get('epochs_done', 0)} | {_s(r.get('epoch_s'), 2)} "
                     f"({_s(r.get('train_s'), 2)} + {_s(r.get('eval_s'), 2)}) | {_s(r.get('images_per_s'), 0)} "
                     f"| {_s(r.get('first_epoch_s'))} | {_s(r.get('projected_s'))} s "
                     f"| {_pct(r['test_acc'][-1] if r.get('test_acc') else None)} "
                     f"| {versus} "
                     f"| {r['status']} |")
    if j["note"]:
        lines += ["", f"Note: {j['note']}."]
    g = j["goal"]
    lines += ["", f"Goal, {j['protocol_epochs']} epochs under {g['limit_s']:.0f} s: best {g['best_variant']} "
              f"{_s(g['projected_s'])} s projected: {_verdict(g['met'])} ({g['note']})."]

    m = parts["dividemix"]
    lines += ["", f"## DivideMix / CE, CIFAR-10, model={m['model']} (training epoch, division pass included)", "",
              f"CE {_s(m['ce'].get('train_s'), 2)} s/epoch ({m['ce']['status']}), DivideMix "
              f"{_s(m['dividemix'].get('train_s'), 2)} s/epoch ({m['dividemix']['status']}): ratio "
              f"{_s(m['ratio'], 2)}x"]

    a = parts["accuracy"]
    lines += ["", "## Accuracy sanity (the bf16 JoCoR run)", "",
              f"test accuracy {_pct(a['test_acc'])}% after {a['epochs']} of {a['epochs_planned']} epochs; "
              f"bound {_pct(a['bound'])}% from epoch {a['min_epochs']}: "
              + (_verdict(a["passed"]) if a["passed"] is not None else a["status"])]
    return "\n".join(lines) + "\n"


def write_report(out: Path, report: dict) -> None:
    (out / "gpu_check.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "gpu_check.md").write_text(table(report))
