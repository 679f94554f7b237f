"""The token networks: padding never changes a sequence's logits, and mixed token batches (DivideMix, ELR+) are
the embeddings' convex combination."""
import pytest
import torch

from noisyrobust.losses.dividemix import MixedTokens, mixmatch
from noisyrobust.models import BagOfTokens, TokenTransformer
from noisyrobust.models.tokens import masked_mean


def networks():
    torch.manual_seed(0)
    return [BagOfTokens(vocab_size=20, num_classes=3, embed_dim=8, hidden=[16]),
            TokenTransformer(vocab_size=20, num_classes=3, max_length=12, embed_dim=8, heads=2, layers=1, ff_dim=16)]


@pytest.mark.parametrize("net", networks(), ids=["bag_of_tokens", "token_transformer"])
def test_logits_of_a_sequence_do_not_depend_on_its_padding_or_its_batch(net):
    net.eval()
    short = torch.tensor([[5, 7, 9, 0, 0, 0, 0, 0]])
    long = torch.tensor([[5, 7, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0], [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]])
    a, b = net(short), net(long)
    assert a.shape == (1, 3)
    torch.testing.assert_close(a[0], b[0], rtol=1e-5, atol=1e-6)
    assert not torch.allclose(b[0], b[1])


def test_masked_mean_averages_only_the_kept_positions():
    e = torch.tensor([[[1.0], [3.0], [100.0]]])
    torch.testing.assert_close(masked_mean(e, torch.tensor([[True, True, False]])), torch.tensor([[2.0]]))


@pytest.mark.parametrize("net", networks(), ids=["bag_of_tokens", "token_transformer"])
def test_mixed_tokens_mix_the_embeddings(net):
    net.eval()
    x = torch.tensor([[5, 7, 9, 0], [3, 4, 6, 0]])  # the same lengths: the transformer attends over the union
    torch.testing.assert_close(net(MixedTokens(x, x.flip(0), 1.0)), net(x))
    if isinstance(net, BagOfTokens):  # λ pooled(x) + (1 - λ) pooled(x'), through the head
        mixed = 0.7 * net.pooled(x) + 0.3 * net.pooled(x.flip(0))
        torch.testing.assert_close(net(MixedTokens(x, x.flip(0), 0.7)), net.head(mixed))


def test_mixmatch_hands_token_ids_on_unmixed_and_mixes_their_targets():
    x, t = torch.tensor([[1, 2], [3, 0]]), torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    mixed, targets = mixmatch(x, t, lam=0.25, perm=torch.tensor([1, 0]))  # λ' = max(λ, 1 - λ) = 0.75
    assert isinstance(mixed, MixedTokens) and torch.equal(mixed[0], x) and torch.equal(mixed[1], x.flip(0))
    assert mixed[2] == 0.75
    torch.testing.assert_close(targets, torch.tensor([[0.75, 0.25], [0.25, 0.75]]))
