"""Co-teaching+ (Yu et al., ICML 2019): Co-teaching until ``init_epoch``, then the small-loss exchange
runs within the samples on which the two networks disagree."""
from noisyrobust.errors import UserError
from noisyrobust.losses import cross_entropy
from noisyrobust.methods.two_networks import TwoNetworks
from noisyrobust.selection import disagreement_mask

NO_DISAGREEMENT = ("skip", "reference")


class CoTeachingPlus(TwoNetworks):
    """After ``init_epoch``: D = {argmax p1 != argmax p2}; keep_i = the floor((1 - R(t)) |D|) smallest
    CE losses of network i within D (counted exactly, as ``num_to_keep``); network 1 trains on keep_2,
    network 2 on keep_1.

    ``no_disagreement``: what a batch without disagreement (|D| = 0 on every rank) does. ``skip`` (default):
    no update — the method's rule is to learn from disagreement only, and two networks that agree on the
    whole batch have nothing to exchange. ``reference``: as the authors' code, which then trains both
    networks on the whole batch with CE while epoch × batch index < 5000 (a step counter that is a product,
    not a count: a quirk kept as it is) and skips afterwards; and where D is not empty but
    floor((1 - R)|D|) is 0, trains on all of D."""

    def __init__(self, *, init_epoch: int = 0, no_disagreement: str = "skip", **kwargs):
        super().__init__(**kwargs)
        if no_disagreement not in NO_DISAGREEMENT:
            raise UserError(f"method.no_disagreement={no_disagreement} is unknown; choose from: "
                            f"{', '.join(NO_DISAGREEMENT)}")
        self.init_epoch, self.no_disagreement = init_epoch, no_disagreement

    def _keep(self, losses, among):
        keep = super()._keep(losses, among)
        if among is not None and self.no_disagreement == "reference":  # all of D rather than none of it
            keep = keep.where(keep > 0, among.sum())
        return keep

    def training_loss(self, batch, selected=None):
        x, y, index = batch
        logits1, logits2 = self.nets[0](x), self.nets[1](x)
        loss1, loss2 = cross_entropy(logits1, y), cross_entropy(logits2, y)
        among = None
        if self.current_epoch >= self.init_epoch:
            among = disagreement_mask(logits1, logits2)
            # the one host sync of this method: skipping an update is a host decision, and under DDP
            # every rank must skip together, so the disagreement count is summed over the ranks
            if self.trainer.strategy.reduce(among.sum().float(), reduce_op="sum") == 0:
                self.observe(logits1, y, index, kept=among)
                if self.no_disagreement == "reference" and self.current_epoch * self.batch_in_epoch < 5000:
                    return loss1.mean() + loss2.mean()
                return None
        kept1, kept2 = self.small_loss(loss1, among), self.small_loss(loss2, among)
        loss = self.kept_mean(loss1, kept2) + self.kept_mean(loss2, kept1)
        self.record(logits1, y, index, kept1, kept2)
        return loss
