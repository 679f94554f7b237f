"""The epoch samplers: Clothing1M's class-balanced resample (exact class counts) and the rank shards."""
import numpy as np
import pytest

from noisyrobust.data.samplers import EvalSampler, TrainSampler, class_balanced_indices


def test_balanced_draw_gives_every_class_its_exact_share():
    labels = np.repeat(np.arange(14), [500, 40, 900, 70, 300, 65, 80, 45, 120, 60, 50, 400, 90, 55])
    positions = class_balanced_indices(labels, num_samples=700, rng=np.random.default_rng(0))
    assert len(positions) == 700
    assert np.bincount(labels[positions], minlength=14).tolist() == [50] * 14


def test_balanced_draw_spreads_the_remainder_over_distinct_classes():
    labels = np.arange(300) % 3
    counts = np.bincount(labels[class_balanced_indices(labels, num_samples=100, rng=np.random.default_rng(1))])
    assert sorted(counts.tolist()) == [33, 33, 34]


def test_balanced_draw_is_without_replacement_within_a_large_class_and_even_in_a_small_one():
    labels = np.array([0] * 100 + [1] * 3)
    positions = class_balanced_indices(labels, num_samples=20, rng=np.random.default_rng(2))
    big, small = positions[labels[positions] == 0], positions[labels[positions] == 1]
    assert len(big) == 10 and len(set(big)) == 10  # no repeats while the class has enough
    assert sorted(np.bincount(small, minlength=103)[100:].tolist()) == [3, 3, 4]  # 10 draws over 3: 3, 3, 4


def test_balanced_draw_skips_classes_that_no_label_holds():
    labels = np.array([2, 2, 5, 5, 5, 9])
    positions = class_balanced_indices(labels, num_samples=9, rng=np.random.default_rng(3))
    assert np.bincount(labels[positions], minlength=10).tolist() == [0, 0, 3, 0, 0, 3, 0, 0, 0, 3]


def test_train_sampler_draws_depend_on_seed_and_epoch_only():
    indices = np.arange(10, 110)
    labels = np.arange(100) % 4
    a = TrainSampler(indices, seed=7, labels=labels, num_samples=40)
    b = TrainSampler(indices, seed=7, labels=labels, num_samples=40)
    for epoch in (0, 3):
        np.testing.assert_array_equal(a.epoch_draw(epoch)[0], b.epoch_draw(epoch)[0])
        np.testing.assert_array_equal(a.epoch_draw(epoch)[1], b.epoch_draw(epoch)[1])
    assert not np.array_equal(a.epoch_draw(0)[0], a.epoch_draw(1)[0])
    assert not np.array_equal(a.epoch_draw(0)[0], TrainSampler(indices, seed=8, labels=labels,
                                                              num_samples=40).epoch_draw(0)[0])
    drawn = a.epoch_draw(2)[0]
    assert set(drawn) <= set(indices.tolist())  # global indices of the training points
    assert np.bincount(labels[drawn - 10]).tolist() == [10] * 4


@pytest.mark.parametrize("world", [2, 3])
def test_rank_shards_are_disjoint_equal_and_cover_the_epoch_draw(world):
    indices, labels = np.arange(50), np.arange(50) % 5
    shards = []
    for rank in range(world):
        sampler = TrainSampler(indices, seed=1, labels=labels, num_samples=31, rank=rank, world_size=world)
        sampler.set_epoch(4)  # what Lightning calls at every epoch start
        shards.append(list(sampler))
        assert len(shards[-1]) == len(sampler) == 31 // world  # every rank as many: none waits for a batch
    draw, seeds = TrainSampler(indices, seed=1, labels=labels, num_samples=31).epoch_draw(4)
    pairs = list(zip(draw.tolist(), seeds.tolist()))
    used = (31 // world) * world
    # rank r takes draws r, r + world, ...: disjoint positions of the one epoch draw, covering its first `used`
    for rank, shard in enumerate(shards):
        assert shard == pairs[rank:used:world]
    merged = sorted(p for shard in shards for p in shard)
    assert merged == sorted(pairs[:used])


def test_uniform_train_sampler_is_a_permutation_of_the_training_points():
    sampler = TrainSampler(np.array([3, 5, 8, 13]), seed=0)
    got = [i for i, _ in sampler]
    assert sorted(got) == [3, 5, 8, 13] and len(sampler) == 4


def test_every_draw_carries_its_own_augmentation_seed():
    sampler = TrainSampler(np.arange(1000), seed=0)
    seeds = [s for _, s in sampler]
    assert len(set(seeds)) == 1000


def test_eval_sampler_scores_every_sample_once_across_ranks():
    indices = np.arange(7, 18)
    shards = [list(EvalSampler(indices, rank=r, world_size=3)) for r in range(3)]
    assert sorted(i for s in shards for i in s) == list(range(7, 18))
    assert [len(s) for s in shards] == [4, 4, 3]
