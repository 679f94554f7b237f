"""f-divergence (Wei & Liu, ICLR 2021): CE first (the authors pre-train with CE), then the negative variational
f-divergence between the joint of (image, noisy label) and the product of its marginals, on peer pairs."""
from noisyrobust.errors import UserError
from noisyrobust.losses.fdiv import check_divergence, f_divergence_loss
from noisyrobust.methods.peer import PeerPairs


class FDivergence(PeerPairs):
    """``warmup_epochs`` of CE, then per step the mean of -g(p_y(x_i)) + f*(g(p_{y'}(x_i))) for ``divergence``
    (total_variation, kl, jensen_shannon, pearson, jeffrey), with the peer pairs of ``PeerPairs``.

    The authors' CIFAR-10 protocol is two runs: 240 CE epochs keeping the model best on the noisy validation
    split, then 100 f-div epochs from it at lr 0.01 with a fresh SGD every epoch, model chosen by the
    validation f-score. Here one run continues from the warm-up's last weights with the run's optimizer and
    schedule, times ``stage_lr_factor`` after the warm-up (the protocol configs set the schedule and factor that
    give the authors' two lr plans), and the run's model selection (validation accuracy) applies."""

    def __init__(self, *, divergence: str = "total_variation", stage_lr_factor: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        check_divergence(divergence)
        if not stage_lr_factor > 0:
            raise UserError(f"method.stage_lr_factor={stage_lr_factor} must be > 0")
        self.divergence, self.stage_lr_factor = divergence, stage_lr_factor

    def lr_factor(self) -> float:
        return 1.0 if self.warming_up else self.stage_lr_factor

    def pair_loss(self, logits, labels, peer_labels):
        return f_divergence_loss(logits, labels, logits, peer_labels, divergence=self.divergence)
