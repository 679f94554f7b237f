"""Networks over token sequences (``data=python_names``): int64 ids (B, L) right-padded with id 0, the
padding masked out. Both also take ``MixedTokens`` (mixup of DivideMix and ELR+), mixing in embedding space."""
import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from noisyrobust.data.tokens import PAD
from noisyrobust.losses.dividemix import MixedTokens
from noisyrobust.models.compile import compilable



def masked_mean(embedded: Tensor, mask: Tensor) -> Tensor:
    """Mean over the sequence of the rows where ``mask`` (B, L) is true: sum_t m_t e_t / max(1, sum_t m_t)."""
    m = mask.unsqueeze(-1).to(embedded.dtype)
    return (embedded * m).sum(1) / m.sum(1).clamp(min=1)


@compilable
class BagOfTokens(nn.Module):
    """Embedding bag + MLP: the mean embedding of a sequence's tokens (padding left out) -> (Linear -> ReLU
    [-> Dropout]) per hidden width -> Linear to logits. Order-blind: what the tokens are, not where."""

    def __init__(self, *, vocab_size: int, num_classes: int, embed_dim: int = 64, hidden: Sequence[int] = (128,),
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD)
        layers: list[nn.Module] = []
        width = embed_dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU(inplace=True)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, num_classes))
        self.head = nn.Sequential(*layers)
        # PES's renewal, from the output back (models.renew): the linear layers, then the embedding
        self.renewable = (*((f"head.{i}",) for i in reversed(range(len(layers))) if isinstance(layers[i], nn.Linear)),
                          ("embed",))

    def pooled(self, tokens: Tensor) -> Tensor:
        return masked_mean(self.embed(tokens), tokens != PAD)

    def forward(self, x) -> Tensor:
        if isinstance(x, MixedTokens):
            tokens, partners, lam = x
            return self.head(lam * self.pooled(tokens) + (1 - lam) * self.pooled(partners))
        return self.head(self.pooled(x))


@compilable
class TokenTransformer(nn.Module):
    """A small transformer encoder over sub-tokens: token + learned position embeddings -> ``layers`` pre-norm
    encoder layers with a key padding mask (padding is never attended to) -> masked mean -> Linear to logits."""

    def __init__(self, *, vocab_size: int, num_classes: int, max_length: int, embed_dim: int = 64, heads: int = 4,
                 layers: int = 2, ff_dim: int = 128, dropout: float = 0.0) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD)
        self.position = nn.Parameter(torch.randn(max_length, embed_dim) / math.sqrt(embed_dim))
        layer = nn.TransformerEncoderLayer(embed_dim, heads, ff_dim, dropout, batch_first=True, norm_first=True)
        # nested tensors (a fast path of eval mode) change the sum order: train and eval would see different numbers
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(embed_dim)
        self.head = nn.Linear(embed_dim, num_classes)
        # PES's renewal, from the output back (models.renew): the head, then the encoder layers (the last with the norm)
        self.renewable = (("head",), (f"encoder.layers.{layers - 1}", "norm"),
                          *((f"encoder.layers.{i}",) for i in reversed(range(layers - 1))))

    def embedded(self, tokens: Tensor) -> Tensor:
        return self.embed(tokens) + self.position[:tokens.shape[1]]

    def forward(self, x) -> Tensor:
        if isinstance(x, MixedTokens):  # mixed embeddings attend over the union of both sequences' tokens
            tokens, partners, lam = x
            h, keep = lam * self.embedded(tokens) + (1 - lam) * self.embedded(partners), (tokens != PAD) | (partners != PAD)
        else:
            h, keep = self.embedded(x), x != PAD
        keep = keep | (torch.arange(keep.shape[1], device=keep.device) == 0)  # an empty row still attends somewhere
        h = self.encoder(h, src_key_padding_mask=~keep)
        return self.head(masked_mean(self.norm(h), keep))
