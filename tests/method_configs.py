"""Every method of ``conf/method/`` and the overrides that make its run a few seconds long, derived from the
method's own config: a new method file and its config join every cross-method test without a test edit."""
from functools import lru_cache

from hydra import compose, initialize_config_dir

from conftest import ROOT

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
    for key in ("warmup_epochs", "num_gradual", "reweight_epochs"):
        if key in cfg.method:
            out.append(f"method.{key}=1")
    return out
