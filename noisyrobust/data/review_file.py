"""A person's review of a run's labels, ``RUN/review.csv`` (``index,decision,label``), and its application to
a later run on the same data (``data.review_file=RUN/review.csv``).

One row per decided training sample, by its global index: ``keep`` (label: the given one), ``relabel``
(label: the class it trains on from now), ``drop`` (no label: it leaves the training set). The file is read
together with ``noisy_labels.npz`` of the run it lies in: the checksum of the labels that run was given is
what a later run's drawn labels must match (a review of other data is refused)."""
import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Tuple

import numpy as np

from noisyrobust.errors import UserError
from noisyrobust.files import atomic_write
from noisyrobust.noise.stats import labels_checksum, load_noisy_labels

DECISIONS = ("keep", "relabel", "drop")
HEADER = ["index", "decision", "label"]


@dataclass(frozen=True)
class Review:
    """Decided samples: ``decisions[index] = (decision, label)``; label -1 for a drop."""
    decisions: Dict[int, Tuple[str, int]]
    given_checksum: str  # of the labels the reviewed run was given (before any review of its own)
    file_checksum: str  # of review.csv's bytes

    def counts(self) -> Dict[str, int]:
        found = [d for d, _ in self.decisions.values()]
        return {d: found.count(d) for d in DECISIONS}


def decisions_text(decisions: Dict[int, Tuple[str, int]]) -> str:
    """review.csv's text, rows by index."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for index in sorted(decisions):
        decision, label = decisions[index]
        writer.writerow([index, decision, "" if decision == "drop" else label])
    return out.getvalue()


def write_decisions(path: Path, decisions: Dict[int, Tuple[str, int]]) -> None:
    """Write review.csv atomically (a temporary file renamed over it): a reader or a killed writer never
    sees a part."""
    with atomic_write(path, "w") as f:
        f.write(decisions_text(decisions))


def parse_decisions(text: str, *, num_samples: int, num_classes: int, where: str) -> Dict[int, Tuple[str, int]]:
    """The rows of review.csv's ``text``, each checked: an index in [0, num_samples) seen once, a known
    decision, a label in [0, num_classes) (none for a drop). A bad row raises a UserError naming its line."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or rows[0] != HEADER:
        raise UserError(f"{where} does not start with the header {','.join(HEADER)}; it must be a review.csv "
                        "written by noisyrobust review")
    decisions = {}
    for line, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != 3:
            raise UserError(f"{where} line {line}: {len(row)} cells, expected 3 ({','.join(HEADER)})")
        index, decision, label = (c.strip() for c in row)
        if not index.isdigit() or int(index) >= num_samples:
            raise UserError(f"{where} line {line}: index {index!r} is out of range 0..{num_samples - 1} of this "
                            "data's training samples; the review belongs to other data")
        if int(index) in decisions:
            raise UserError(f"{where} line {line}: index {index} is decided twice")
        if decision not in DECISIONS:
            raise UserError(f"{where} line {line}: decision {decision!r} is unknown; choose from: "
                            f"{', '.join(DECISIONS)}")
        if decision == "drop":
            decisions[int(index)] = (decision, -1)
            continue
        if not label.isdigit() or int(label) >= num_classes:
            raise UserError(f"{where} line {line}: label {label!r} is not a class of this data "
                            f"(0..{num_classes - 1})")
        decisions[int(index)] = (decision, int(label))
    return decisions


def check_review_file(path) -> None:
    """The file is there, in a run directory (its noisy_labels.npz beside it): what can be checked before the
    data is read."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise UserError(f"data.review_file={str(path)!r} does not exist; give a review.csv written by "
                        "noisyrobust review RUN (RUN/review.csv)")
    if not (path.parent / "noisy_labels.npz").is_file():
        raise UserError(f"data.review_file={str(path)!r} has no noisy_labels.npz beside it; keep review.csv in the "
                        "run directory it was made from (its labels' checksum is read from there)")


def read_review(path, *, num_samples: int, num_classes: int) -> Review:
    """Read and check ``path`` (review.csv inside the run it was made from, beside its noisy_labels.npz)."""
    check_review_file(path)
    path = Path(path).expanduser()
    data = path.read_bytes()
    try:
        text = data.decode()
    except UnicodeDecodeError:
        raise UserError(f"data.review_file={str(path)!r} is not a text file; it must be a review.csv") from None
    decisions = parse_decisions(text, num_samples=num_samples, num_classes=num_classes, where=str(path))
    labels = load_noisy_labels(path.parent / "noisy_labels.npz")
    given = labels.get("given", labels["noisy"])  # a reviewed run keeps the labels it was given as "given"
    return Review(decisions, labels_checksum(given), hashlib.sha256(data).hexdigest()[:16])


def apply_review(noisy: np.ndarray, review: Review) -> Tuple[np.ndarray, np.ndarray]:
    """(the labels to train on, the mask of dropped samples): relabelled samples take their new label,
    kept ones their given label; dropped ones keep their given label and are masked out."""
    trained, dropped = noisy.copy(), np.zeros(len(noisy), dtype=bool)
    for index, (decision, label) in review.decisions.items():
        if decision == "relabel":
            trained[index] = label
        elif decision == "drop":
            dropped[index] = True
    return trained, dropped


def check_same_labels(review: Review, noisy: np.ndarray, path: Optional[str] = None) -> None:
    """A review applies only to the labels it was made on: the checksum of this run's drawn labels must be
    the reviewed run's."""
    found = labels_checksum(noisy)
    if found != review.given_checksum:
        raise UserError(f"data.review_file={path!r} was made on labels with checksum {review.given_checksum}, and "
                        f"this run's labels have checksum {found}: other data, noise or seed; review this run's "
                        "labels, or train with the reviewed run's data, noise and seed")
