"""Reading a folder of finished runs for the figures: each run's summary, config and metrics."""
import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from noisyrobust.errors import UserError


@dataclass
class Run:
    """One finished run directory: ``summary.json``, the composed config (``.hydra/config.yaml``, as written:
    interpolations unresolved) and the rows of ``metrics.csv``."""

    path: Path
    summary: Dict[str, Any]
    config: Dict[str, Any]
    rows: List[Dict[str, str]] = field(repr=False)

    def cfg(self, dotted: str, default=None):
        """A config value by its dotted key (``noise.rate``), or ``default`` where it is absent."""
        node = self.config
        for key in dotted.split("."):
            if not isinstance(node, dict) or key not in node:
                return default
            node = node[key]
        return node

    @property
    def noise_rate(self) -> float:
        """The share of labels the run's noise redrew (0 for clean labels)."""
        return float(self.summary["noise"].get("rate", 0.0) or 0.0)

    def series(self, key: str, x: str = "step") -> tuple:
        """(x values, values) of every metrics row where ``key`` is logged."""
        pts = [(float(r[x]), float(r[key])) for r in self.rows if r.get(key) not in (None, "") and r.get(x)]
        return [p[0] for p in pts], [p[1] for p in pts]

    def last(self, key: str) -> Optional[float]:
        values = self.series(key)[1]
        return values[-1] if values else None


def load_runs(root: Path) -> List[Run]:
    """Every run under ``root`` that finished (has ``summary.json``), in path order."""
    runs = []
    for path in sorted(Path(root).rglob("summary.json")):
        d = path.parent
        config_file = d / ".hydra" / "config.yaml"
        config = yaml.safe_load(config_file.read_text()) if config_file.is_file() else {}
        metrics = d / "metrics.csv"
        rows = list(csv.DictReader(metrics.open())) if metrics.is_file() else []
        runs.append(Run(d, json.loads(path.read_text()), config or {}, rows))
    return runs


def require(runs: list, what: str, root: Path, command: str) -> None:
    """Refuse a figure whose runs are missing, naming them and the command that makes them."""
    if not runs:
        raise UserError(f"{root} holds no finished {what}; make them with: {command}")
