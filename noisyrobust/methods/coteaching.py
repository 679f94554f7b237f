"""Co-teaching (Han et al., NeurIPS 2018): each network picks its small-loss share of the batch and its
peer trains on it."""
from noisyrobust.losses import cross_entropy
from noisyrobust.methods.two_networks import TwoNetworks


class CoTeaching(TwoNetworks):
    """Per step: keep_i = the (1 - R(t)) smallest CE losses under network i; network 1 descends the mean
    CE over keep_2 and network 2 over keep_1."""

    def training_loss(self, batch, selected=None):
        x, y, index = batch
        logits1, logits2 = self.nets[0](x), self.nets[1](x)
        loss1, loss2 = cross_entropy(logits1, y), cross_entropy(logits2, y)
        kept1, kept2 = self.small_loss(loss1), self.small_loss(loss2)
        loss = self.kept_mean(loss1, kept2) + self.kept_mean(loss2, kept1)
        self.record(logits1, y, index, kept1, kept2)
        return loss
