"""The decisions of a review, kept in memory and saved whole to ``RUN/review.csv`` after every change
(atomically: a killed server or a closed browser loses nothing and leaves no half file)."""
import threading
from pathlib import Path
from typing import Dict, Optional, Tuple

from noisyrobust.data.review_file import DECISIONS, parse_decisions, write_decisions
from noisyrobust.errors import UserError


class DecisionStore:
    """``decide`` checks a decision against the run (a row of its table, a class of its data), records it
    and rewrites review.csv before it returns."""

    def __init__(self, path: Path, *, rows: dict, given, num_samples: int, num_classes: int):
        self.path, self.rows, self.given, self.num_classes = Path(path), rows, given, num_classes
        self.lock = threading.Lock()
        self.decisions: Dict[int, Tuple[str, int]] = {}
        if self.path.is_file():  # reopening: the decisions made so far
            found = parse_decisions(self.path.read_text(), num_samples=num_samples, num_classes=num_classes,
                                    where=str(self.path))
            foreign = [i for i in found if i not in rows]
            if foreign:
                raise UserError(f"{self.path} decides sample {foreign[0]}, which is not among this run's training "
                                "samples; it belongs to another run (move it away to start a new review)")
            self.decisions = found

    def check(self, index, decision, label=None) -> Tuple[int, str, int]:
        """(index, decision, label) of a request, each checked; a ValueError names the bad value."""
        if not isinstance(index, int) or isinstance(index, bool) or index not in self.rows:
            raise ValueError(f"index {index!r} is not a training sample of this run")
        if decision not in (*DECISIONS, "undo"):
            raise ValueError(f"decision {decision!r} is unknown; choose from: {', '.join(DECISIONS)}, undo")
        given = int(self.given[self.rows[index]])
        if decision == "relabel":
            if not isinstance(label, int) or isinstance(label, bool) or not 0 <= label < self.num_classes:
                raise ValueError(f"label {label!r} is not a class of this run (0..{self.num_classes - 1})")
            return index, decision, label
        return index, decision, -1 if decision in ("drop", "undo") else given

    def decide(self, index, decision, label=None) -> Optional[Tuple[str, int]]:
        """Record one decision (``undo`` forgets it) and save; returns the sample's decision now."""
        index, decision, label = self.check(index, decision, label)
        with self.lock:
            if decision == "undo":
                self.decisions.pop(index, None)
            else:
                self.decisions[index] = (decision, label)
            write_decisions(self.path, self.decisions)
            return self.decisions.get(index)

    def decide_many(self, decisions: Dict[int, Tuple[str, int]]) -> None:
        with self.lock:
            self.decisions.update(decisions)
            write_decisions(self.path, self.decisions)

    def counts(self) -> Dict[str, int]:
        found = [d for d, _ in list(self.decisions.values())]
        return {d: found.count(d) for d in DECISIONS}
