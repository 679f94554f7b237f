"""One finished digits run (sym0.4, 2 epochs) shared by the review tests (trained once per session, whichever
module asks first); each test reviews its own copy. Imported by the test modules: a second conftest.py would
take the name `conftest` that the tests import their helpers from."""
import shutil
import threading

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


_TRAINED = {}


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory):
    if "run" not in _TRAINED:
        _TRAINED["run"] = _train(tmp_path_factory)
    return _TRAINED["run"]


def _train(tmp_path_factory):
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf, open_dict

    from noisyrobust.run import train

    out = tmp_path_factory.mktemp("review") / "run"
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):  # as tests/conftest.py's compose_cfg
        cfg = compose("config", overrides=["trainer=cpu", "trainer.max_epochs=2", "noise=sym0.4"])
    with open_dict(cfg):
        cfg.paths.output_dir, cfg.paths.cache_dir = str(out), str(out.parent / "cache")
    train(cfg)
    (out / ".hydra").mkdir(exist_ok=True)
    OmegaConf.save(cfg, out / ".hydra" / "config.yaml")
    return out


@pytest.fixture
def run_dir(finished_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(finished_run, copy)
    return copy


@pytest.fixture
def server(run_dir):
    """The review server of ``run_dir`` on a free port, in a thread; stopped after the test."""
    from noisyrobust.review.decisions import DecisionStore
    from noisyrobust.review.run_data import ReviewRun
    from noisyrobust.review.server import ReviewServer

    run = ReviewRun(run_dir)
    store = DecisionStore(run_dir / "review.csv", rows=run.row_of, given=run.given, num_samples=run.num_samples,
                          num_classes=run.num_classes)
    srv = ReviewServer(run, store, 0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
