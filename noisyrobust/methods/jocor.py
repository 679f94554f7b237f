"""JoCoR (Wei et al., CVPR 2020): two networks trained together on one joint loss with a co-regularizing
agreement term, on the small-loss share of the batch by that joint loss."""
from noisyrobust.errors import UserError
from noisyrobust.losses import jocor_loss
from noisyrobust.methods.two_networks import TwoNetworks


class JoCoR(TwoNetworks):
    """Per step: ℓ = (1 - λ)(CE₁ + CE₂) + λ(KL(p₁‖p₂) + KL(p₂‖p₁)) per sample; both networks descend the
    mean of ℓ over its (1 - R(t)) smallest values, under one optimizer."""

    def __init__(self, *, co_lambda: float = 0.9, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= co_lambda <= 1.0:
            raise UserError(f"method.co_lambda={co_lambda} is outside [0, 1]")
        self.co_lambda = co_lambda

    def training_loss(self, batch, selected=None):
        x, y, index = batch
        logits1, logits2 = self.nets[0](x), self.nets[1](x)
        joint = jocor_loss(logits1, logits2, y, co_lambda=self.co_lambda)
        kept = self.small_loss(joint)
        loss = self.kept_mean(joint, kept)
        self.record(logits1, y, index, kept)
        return loss
