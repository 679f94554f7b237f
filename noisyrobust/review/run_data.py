"""What the review page shows of a finished run: its label-issue table (most suspicious first), the class
names and thumbnails of its training samples, read again from the run's saved data config."""
import io
import json
from pathlib import Path
from typing import Optional

import numpy as np

from noisyrobust.diagnose import read_run
from noisyrobust.errors import UserError

THUMBNAIL = 64  # pixels on the longer side; small images are enlarged without smoothing


class ReviewRun:
    """A run's rows in the report's order. ``rank[k]`` is row k's place (1 = most suspicious); rows are
    found by global sample index through ``row_of``."""

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        run = read_run(self.run_dir)
        table, labels = run["table"], run["labels"]
        self.num_samples, self.num_classes = len(labels["clean"]), len(labels["transition_matrix"])
        summary_path = self.run_dir / "summary.json"
        report = json.loads(summary_path.read_text()).get("label_issues", {}) if summary_path.is_file() else {}
        self.score_name = report.get("default_score") or run["scores"][0]
        if self.score_name not in table:
            raise UserError(f"{self.run_dir}/label_issues.csv has no column {self.score_name!r}, the run's order; "
                            "train the run again")
        self.index, self.given = table["index"], table["given_label"]
        self.suggested, self.score = table["suggested_label"], table[self.score_name]
        self.rank = np.arange(1, len(self.index) + 1)
        self.row_of = {int(i): k for k, i in enumerate(self.index.tolist())}
        self._datamodule, self.data_problem = None, None
        self.class_names = self._load_class_names()
        self.pictures = self._data() is not None and self._is_picture(int(self.index[0])) if len(self.index) else False

    # -- the run's data, built again from its config (labels are not needed: no noise) -------------------
    def _data(self):
        if self._datamodule is None and self.data_problem is None:
            import hydra
            from omegaconf import OmegaConf

            try:
                cfg = OmegaConf.load(self.run_dir / ".hydra" / "config.yaml")
                self._datamodule = hydra.utils.instantiate(cfg.data, noise=None, noise_seed=0)
            except Exception as e:  # noqa: BLE001 - the page works without pictures
                self.data_problem = f"the run's data could not be read again ({' '.join(str(e).split())[:160]})"
        return self._datamodule

    def _load_class_names(self) -> list:
        names = None
        dm = self._data()
        if dm is not None:
            try:
                if hasattr(dm, "reader"):  # image files: the reader's lists, without checking every image
                    dm.files = dm.reader(dm.root) if dm.classes is None else dm.reader(dm.root, classes=dm.classes)
                    names = list(dm.files.classes)
                else:
                    dm.setup()
                    names = list(dm.data.classes)
            except Exception as e:  # noqa: BLE001
                self.data_problem = f"the run's data could not be read again ({' '.join(str(e).split())[:160]})"
        if not names or len(names) != self.num_classes:
            names = [str(c) for c in range(self.num_classes)]
        return [str(n) for n in names]

    def _is_picture(self, index: int) -> bool:
        try:
            picture = np.asarray(self._datamodule.preview([index])[0])
        except Exception as e:  # noqa: BLE001
            self.data_problem = f"the run's data could not be read again ({' '.join(str(e).split())[:160]})"
            return False
        return picture.ndim == 3 and picture.shape[-1] in (1, 3)

    def thumbnail(self, index: int) -> Optional[bytes]:
        """PNG bytes of training sample ``index`` (a row of the table), or None without image data."""
        dm = self._data()
        if dm is None:
            return None
        picture = np.asarray(dm.preview([index])[0])
        if picture.ndim != 3 or picture.shape[-1] not in (1, 3):
            return None
        return png_thumbnail(picture)

    def values(self, index: int) -> str:
        """Data that is no image, as text (its first values)."""
        dm = self._data()
        if dm is None:
            return ""  # the page shows data_problem once
        flat = np.asarray(dm.preview([index])[0]).ravel()
        return " ".join(f"{v:.4g}" for v in flat[:64]) + (" ..." if len(flat) > 64 else "")

    def labels_checksum(self) -> str:
        from noisyrobust.noise.stats import labels_checksum, load_noisy_labels

        labels = load_noisy_labels(self.run_dir / "noisy_labels.npz")
        return labels_checksum(labels.get("given", labels["noisy"]))


def png_thumbnail(picture: np.ndarray) -> bytes:
    """A uint8 (H, W, C) image as PNG bytes, enlarged (nearest neighbour) to ``THUMBNAIL`` pixels."""
    from PIL import Image

    image = Image.fromarray(picture[..., 0] if picture.shape[-1] == 1 else picture)
    scale = max(1, THUMBNAIL // max(image.size))
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
