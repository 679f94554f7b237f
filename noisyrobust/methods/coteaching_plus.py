"""Co-teaching+ (Yu et al., ICML 2019): Co-teaching until ``init_epoch``, then the small-loss exchange
runs within the samples on which the two networks disagree."""
from noisyrobust.losses import cross_entropy
from noisyrobust.methods.two_networks import TwoNetworks
from noisyrobust.selection import disagreement_mask


class CoTeachingPlus(TwoNetworks):
    """After ``init_epoch``: D = {argmax p1 != argmax p2}; keep_i = the floor((1 - R(t)) |D|) smallest
    CE losses of network i within D; network 1 trains on keep_2, network 2 on keep_1. A batch without
    disagreement makes no update (the reference code's gate does nothing there: a pitfall)."""

    def __init__(self, *, init_epoch: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.init_epoch = init_epoch

    def training_loss(self, batch):
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
                return None
        kept1, kept2 = self.small_loss(loss1, among), self.small_loss(loss2, among)
        loss = self.kept_mean(loss1, kept2) + self.kept_mean(loss2, kept1)
        self.record(logits1, y, index, kept1, kept2)
        return loss
