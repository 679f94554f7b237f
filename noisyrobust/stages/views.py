"""A stage that hands the fit several augmented views of each training image: DivideMix's two views, SOP+'s
weak and strong views (``datamodule.with_views``)."""
from typing import Sequence

from noisyrobust.errors import UserError
from noisyrobust.stages.protocol import StageResult

VIEW_KINDS = ("weak", "strong")


class TrainingViews:
    """``kinds``: one entry per view, "weak" (the data config's training augmentation) or "strong"
    (RandAugment + crop/flip + Cutout, on device-resident batches)."""

    def __init__(self, *, kinds: Sequence[str]):
        bad = [k for k in kinds if k not in VIEW_KINDS]
        if bad or len(kinds) < 2:
            raise UserError(f"stages.views.kinds={list(kinds)} must list at least two of: {', '.join(VIEW_KINDS)}")
        self.kinds = tuple(kinds)

    def run(self, datamodule, *, trainer) -> StageResult:
        return StageResult(datamodule.with_views(*self.kinds), {"kinds": list(self.kinds)})
