"""Peer labels: drawn from the seed and step alone, uniform over the pool, and one draw sliced over DDP ranks."""
import torch

from noisyrobust.selection.peer import draw_peer_labels, rank_share, step_generator
from noisyrobust.selection.schedule import stretched_epoch

CPU = torch.device("cpu")


def test_the_draw_depends_on_the_seed_and_step_only():
    pool = torch.arange(100)
    a = draw_peer_labels(pool, count=64, generator=step_generator(3, 17, CPU))
    torch.manual_seed(123)  # the global RNG plays no part
    b = draw_peer_labels(pool, count=64, generator=step_generator(3, 17, CPU))
    assert torch.equal(a, b)
    assert not torch.equal(a, draw_peer_labels(pool, count=64, generator=step_generator(3, 18, CPU)))
    assert not torch.equal(a, draw_peer_labels(pool, count=64, generator=step_generator(4, 17, CPU)))


def test_the_labels_follow_the_pools_label_frequencies():
    pool = torch.tensor([0] * 700 + [1] * 200 + [2] * 100)
    draw = draw_peer_labels(pool, count=20_000, generator=step_generator(0, 0, CPU))
    freq = torch.bincount(draw, minlength=3).float() / 20_000
    # binomial sd at 20,000 draws <= 0.0035: 5 sd
    assert torch.allclose(freq, torch.tensor([0.7, 0.2, 0.1]), atol=0.018)


def test_ranks_take_consecutive_slices_of_the_global_draw_as_the_global_batch_is_sliced():
    draw = torch.arange(8)
    parts = [rank_share(draw, rank=r, world_size=2) for r in range(2)]
    assert torch.equal(torch.cat(parts), draw) and parts[1].tolist() == [4, 5, 6, 7]


def test_a_schedule_stretches_to_the_runs_length():
    assert stretched_epoch(25, paper_epochs=300, run_epochs=50) == 150
    assert stretched_epoch(7, paper_epochs=100, run_epochs=100) == 7
