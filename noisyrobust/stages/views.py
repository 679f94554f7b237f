"""A stage that hands the fit several augmented views of each training image: DivideMix's two views, SOP+'s,
ProMix's and DISC's weak and strong views (``datamodule.with_views``)."""
from typing import Sequence

from noisyrobust.data.augment import STRONG_VIEWS
from noisyrobust.errors import UserError
from noisyrobust.stages.protocol import StageResult

VIEW_KINDS = ("weak", *STRONG_VIEWS)


class TrainingViews:
    """``kinds``: one entry per view, "weak" (the data config's training augmentation) or a strong one, on
    device-resident batches: "strong" (RandAugment(2, 10) + crop/flip + Cutout: SOP+), "strong3"
    (RandAugment(3, 5) + crop/flip: ProMix), "strong_color" (RandAugment(2, 5) without geometric ops +
    crop/flip: DISC)."""

    def __init__(self, *, kinds: Sequence[str]):
        bad = [k for k in kinds if k not in VIEW_KINDS]
        if bad or len(kinds) < 2:
            raise UserError(f"stages.views.kinds={list(kinds)} must list at least two of: {', '.join(VIEW_KINDS)}")
        self.kinds = tuple(kinds)

    def run(self, datamodule, *, trainer) -> StageResult:
        return StageResult(datamodule.with_views(*self.kinds), {"kinds": list(self.kinds)})
