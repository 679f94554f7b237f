"""Every method of ``conf/method/`` and the overrides that make its run a few seconds long, derived from the
method's own config: a new method file and its config join every cross-method test without a test edit."""
from functools import lru_cache
from pathlib import Path

import torch
from hydra import compose, initialize_config_dir

from conftest import ROOT, compose_cfg

METHODS = sorted(p.stem for p in (ROOT / "conf" / "method").glob("*.yaml"))


@lru_cache(maxsize=None)
def method_config(method: str):
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        return compose("config", overrides=[f"method={method}"])


def fast(method: str) -> list:
    """``method=<method>`` with every stage trained for one epoch, warm-ups and ramps of one epoch."""
    cfg = method_config(method)
    out = [f"method={method}"]
    for name, stage in (cfg.get("stages") or {}).items():
        if "epochs" in stage:
            out.append(f"stages.{name}.epochs=1")
    if "refine_epochs" in cfg.method:  # PES: one refinement of one epoch from the start, then the confident phase
        return [*out, "method.warmup_epochs=0", "method.refine_depths=[0]", "method.refine_epochs=[1]"]
    for key in ("warmup_epochs", "num_gradual", "reweight_epochs"):
        if key in cfg.method:
            out.append(f"method.{key}=1")
    return out


# the battery's runs: 10 batches an epoch (1,293 training digits, batch 128), dropout on so that a resume and a
# fused chunk must replay the random draws too; ELR+'s ramp counted in optimizer steps, so a chunk crosses it
BATTERY = ["noise=sym0.4", "model.dropout=0.2", "seed=3"]


def battery_overrides(method: str) -> list:
    return [*fast(method), *BATTERY, *(["method.coef_step=15"] if method == "elr_plus" else [])]


def train_battery(method: str, root: Path) -> dict:
    """The runs several cross-method tests read, trained once per test process (``method_runs``): ``full``,
    two epochs fused 4 batches a call (chunks of 4, 4, 2); ``unfused``, the same one batch a call; ``half``, its
    first epoch, fused (a method whose warm-up may not fill a whole run stops by steps instead, unfused);
    ``resumed``, ``half``'s last.ckpt trained to the end, fused. Each: ``(summary, run directory)``."""
    from noisyrobust.run import train

    def run(name, *overrides):
        return train(compose_cfg(root / name, *battery_overrides(method), *overrides)), root / name

    runs = {"full": run("full", "fused_steps=4"), "unfused": run("unfused", "fused_steps=1")}
    steps = torch.load(root / "full" / "checkpoints" / "last.ckpt", weights_only=False)["global_step"]
    # a warm-up (all of a 1-epoch run: refused) or a plan stretched over the run's epochs (SOP's step per visit,
    # CORES²'s and peer loss's plans) stops by steps; Lightning's max_steps counts calls: unfused
    by_steps = bool({"warmup_epochs", "schedule_epochs", "reference_epochs"} & set(method_config(method).method))
    runs["half"] = run("half", *([f"+trainer.max_steps={steps // 2}", "fused_steps=1"] if by_steps
                                 else ["trainer.max_epochs=1", "fused_steps=4"]))
    runs["resumed"] = run("resumed", "fused_steps=4", f"ckpt_path={root / 'half' / 'checkpoints' / 'last.ckpt'}")
    return runs
