"""The step at which the training set is fitted: Zhang et al. 2017's "time to overfit" (their Fig. 1b)."""
from typing import Optional

from noisyrobust.callbacks import SummaryCallback
from noisyrobust.errors import UserError


class FitStop(SummaryCallback):
    """Records the first epoch whose training accuracy on the *given* labels reaches ``threshold`` (100%
    by default) and the optimizer step count there (``fit/step``, ``fit/epoch`` in the metrics and
    ``fit`` in the summary); with ``stop`` the run ends there (``callbacks.fit_stop.stop=true``).

    Training accuracy is the one every method already measures: the share of the epoch's training
    samples predicted as their given label by the training forward (train mode, before each step), so a
    fitted epoch means every sample of it was fitted when it was last seen. No extra pass is made.
    """

    def __init__(self, *, stop: bool = False, threshold: float = 1.0):
        if not 0.0 < float(threshold) <= 1.0:
            raise UserError(f"callbacks.fit_stop.threshold={threshold} must be in (0, 1]")
        self.stop, self.threshold = bool(stop), float(threshold)
        self.fit_step: Optional[int] = None
        self.fit_epoch: Optional[int] = None

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        # runs before the module's own hook, which resets the accuracy (Lightning calls callbacks first)
        if self.fit_step is not None:
            return
        acc = float(pl_module.outcomes.compute()["train/acc"])  # synced over DDP ranks: every rank decides alike
        if acc >= self.threshold - 1e-12:
            self.fit_step, self.fit_epoch = int(trainer.global_step), int(trainer.current_epoch)
            pl_module.log_dict({"fit/step": float(self.fit_step), "fit/epoch": float(self.fit_epoch)}, sync_dist=True)
            if self.stop:
                trainer.should_stop = True

    def state_dict(self) -> dict:
        return {"fit_step": self.fit_step, "fit_epoch": self.fit_epoch}

    def load_state_dict(self, state_dict: dict) -> None:
        self.fit_step, self.fit_epoch = state_dict.get("fit_step"), state_dict.get("fit_epoch")

    def summary(self) -> dict:
        return {"fit": {"step": self.fit_step, "epoch": self.fit_epoch, "threshold": self.threshold,
                        "stopped": self.stop and self.fit_step is not None}}
