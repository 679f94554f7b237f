"""TensorBatches: (x, label, index) batches over a subset `indices` of device-resident tensors.
Shuffled: one permutation per (seed, epoch); batch_size is the global batch, rank r takes the r-th slice.
Unshuffled: samples sharded over the ranks so each is scored exactly once."""
import numpy as np
import pytest
import torch

from noisyrobust.data.loader import BatchTransform, TensorBatches

N = 50
IMAGES = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (N, 3, 4, 4), dtype=np.uint8))
LABELS = torch.from_numpy(np.random.default_rng(1).integers(0, 10, N))
SUBSET = torch.tensor([1, 2, 4, 5, 7, 9, 11, 12, 15, 18, 20, 21, 24, 26, 29, 30, 33, 35, 38, 41, 44, 47, 49])  # 23


def batches(indices=SUBSET, *, batch_size, shuffle=True, drop_last=False, seed=0, epoch=0, rank=0,
            world_size=1, transform=None, augment=False):
    return TensorBatches(IMAGES, LABELS, indices, batch_size=batch_size, transform=transform or BatchTransform(),
                         shuffle=shuffle, drop_last=drop_last, augment=augment, seed=seed,
                         epoch=lambda: epoch, rank=rank, world_size=world_size)


def order(loader):
    return [b[2].tolist() for b in loader]


def test_shuffled_epoch_yields_every_index_exactly_once_without_drop_last():
    loader = batches(batch_size=5)
    assert len(loader) == 5  # ceil(23 / 5)
    got = order(loader)
    assert [len(b) for b in got] == [5, 5, 5, 5, 3]
    flat = [i for b in got for i in b]
    assert sorted(flat) == SUBSET.tolist()


def test_shuffled_epoch_with_drop_last_yields_full_batches_of_distinct_indices():
    loader = batches(batch_size=5, drop_last=True)
    assert len(loader) == 4  # floor(23 / 5)
    got = order(loader)
    assert [len(b) for b in got] == [5, 5, 5, 5]
    flat = [i for b in got for i in b]
    assert len(set(flat)) == 20
    assert set(flat) <= set(SUBSET.tolist())


def test_shuffle_actually_permutes_the_indices():
    flat = [i for b in order(batches(batch_size=23)) for i in b]
    assert flat != SUBSET.tolist()


def test_same_seed_and_epoch_give_same_order_other_epoch_or_seed_differs():
    a = order(batches(batch_size=5, seed=3, epoch=2))
    b = order(batches(batch_size=5, seed=3, epoch=2))
    assert a == b
    assert order(batches(batch_size=5, seed=3, epoch=3)) != a
    assert order(batches(batch_size=5, seed=4, epoch=2)) != a


def test_order_follows_the_epoch_callable_at_iteration_time():
    epoch = {"e": 0}
    loader = TensorBatches(IMAGES, LABELS, SUBSET, batch_size=5, transform=BatchTransform(), shuffle=True,
                           seed=0, epoch=lambda: epoch["e"])
    first = order(loader)
    epoch["e"] = 1
    second = order(loader)
    assert first == order(batches(batch_size=5, epoch=0))
    assert second == order(batches(batch_size=5, epoch=1))
    assert first != second


@pytest.mark.parametrize("idx,drop_last", [(torch.arange(1, 49, 2), False),  # 24 samples, 4 full batches
                                            (SUBSET, True)])                  # 23 samples, last one dropped
def test_two_ranks_split_each_global_batch_into_disjoint_halves(idx, drop_last):
    glob = order(batches(idx, batch_size=6, drop_last=drop_last, seed=5, epoch=1))
    r0 = order(batches(idx, batch_size=6, drop_last=drop_last, seed=5, epoch=1, rank=0, world_size=2))
    r1 = order(batches(idx, batch_size=6, drop_last=drop_last, seed=5, epoch=1, rank=1, world_size=2))
    assert len(r0) == len(r1) == len(glob)
    for g, a, b in zip(glob, r0, r1):
        assert len(a) == len(b) == 3  # batch_size / world_size
        assert not set(a) & set(b)
        assert sorted(a + b) == sorted(g)
    # over the epoch the ranks never see a sample twice
    seen = [i for b in r0 + r1 for i in b]
    assert len(seen) == len(set(seen))


def test_two_ranks_cover_an_evenly_divisible_epoch_exactly_once():
    idx = torch.arange(3, 27)  # 24 samples, global batch 6 -> 4 steps of 3 per rank
    r0 = order(batches(idx, batch_size=6, epoch=7, rank=0, world_size=2))
    r1 = order(batches(idx, batch_size=6, epoch=7, rank=1, world_size=2))
    assert sorted(i for b in r0 + r1 for i in b) == list(range(3, 27))


@pytest.mark.parametrize("n_samples", [10, 11])
def test_unshuffled_batches_shard_the_set_so_each_sample_is_seen_once_across_ranks(n_samples):
    idx = SUBSET[:n_samples]
    single = order(batches(idx, batch_size=4, shuffle=False))
    assert [i for b in single for i in b] == idx.tolist()  # in order, unshuffled
    assert len(batches(idx, batch_size=4, shuffle=False)) == -(-n_samples // 4)
    r0 = batches(idx, batch_size=2, shuffle=False, rank=0, world_size=2)
    r1 = batches(idx, batch_size=2, shuffle=False, rank=1, world_size=2)
    s0, s1 = order(r0), order(r1)
    assert len(r0) == len(s0) == -(-((n_samples + 1) // 2) // 2)
    assert len(r1) == len(s1) == -(-(n_samples // 2) // 2)
    flat0 = [i for b in s0 for i in b]
    flat1 = [i for b in s1 for i in b]
    assert not set(flat0) & set(flat1)
    assert sorted(flat0 + flat1) == sorted(idx.tolist())
    assert all(len(b) <= 2 for b in s0 + s1)


def test_labels_are_labels_at_the_global_index_and_x_is_images_scaled_to_unit_range():
    for x, y, index in batches(batch_size=5, seed=9):
        assert torch.equal(y, LABELS[index])
        expected = IMAGES[index].numpy().astype(np.float64) / 255.0
        assert x.dtype == torch.float32
        np.testing.assert_allclose(x.numpy(), expected, rtol=1e-6, atol=1e-7)


def test_x_is_normalized_per_channel_as_x_over_255_minus_mean_over_std():
    mean, std = [0.5, 0.25, 0.1], [0.2, 0.4, 0.3]
    transform = BatchTransform(mean=torch.tensor(mean), std=torch.tensor(std))
    for x, y, index in batches(batch_size=7, transform=transform, shuffle=False):
        imgs = IMAGES[index].numpy().astype(np.float64)
        expected = (imgs / 255.0 - np.array(mean)[None, :, None, None]) / np.array(std)[None, :, None, None]
        np.testing.assert_allclose(x.numpy(), expected, rtol=1e-5, atol=1e-6)
        assert torch.equal(y, LABELS[index])


def test_augmentation_is_applied_only_when_augment_is_true():
    transform = BatchTransform(crop_padding=2, flip=True)
    plain, augmented = [], []
    for x, _, index in batches(batch_size=23, transform=transform, augment=False):
        np.testing.assert_allclose(x.numpy(), IMAGES[index].numpy() / 255.0, rtol=1e-6, atol=1e-7)
        plain.append(x)
    for x, _, index in batches(batch_size=23, transform=transform, augment=True):
        assert x.shape == (len(index), 3, 4, 4)
        unchanged = (x == IMAGES[index].float() / 255.0).flatten(1).all(1)
        augmented.append(unchanged)
    assert plain and augmented
    # P(crop offset (2, 2) and no flip) = 1/50 per image; 23 images all unchanged is impossible in practice
    assert not augmented[0].all()


def test_float_images_are_normalized_into_a_copy_never_in_place():
    # data.inputs=gaussian holds float32 images on the 0-255 scale: the transform must leave them untouched
    images = torch.rand(4, 3, 2, 2) * 255
    before = images.clone()
    x = BatchTransform(mean=torch.tensor([0.5, 0.25, 0.1]), std=torch.tensor([0.2, 0.4, 0.3]))(images, None)
    assert torch.equal(images, before) and x.data_ptr() != images.data_ptr()


@pytest.mark.parametrize("strong_view", [False, True])
def test_augmented_batches_equal_the_transform_of_the_selected_images_under_the_same_draws(strong_view):
    # TensorBatches crops from a CropSource of the whole set; the result must be the plain transform of
    # IMAGES[index] fed the same generator stream (views draw one after the other from it)
    weak = BatchTransform(mean=torch.tensor([0.5, 0.25, 0.1]), std=torch.tensor([0.2, 0.4, 0.3]), crop_padding=2,
                          flip=True)
    views = [weak, BatchTransform(weak.mean, weak.std, 2, True, strong="strong")] if strong_view else []
    loader = TensorBatches(IMAGES, LABELS, SUBSET, batch_size=8, transform=weak, shuffle=True, augment=True,
                           seed=5, views=views)
    replay = loader._generator(1)  # the stream rank 0 augments with
    for x, _, index in loader:
        expected = tuple(v(IMAGES[index], replay) for v in views) if views else weak(IMAGES[index], replay)
        for got, want in zip(x if views else (x,), expected if views else (expected,)):
            assert torch.equal(got, want)
