"""ImageFileDataModule: per-sample seeded transforms, the loaders RHO-LOSS uses, worker processes."""
import numpy as np
import pytest
import torch
from formats import write_image_folder, write_jpeg
from PIL import Image

from noisyrobust.data.files import ImageTransform, load_rgb
from noisyrobust.data.files_datamodule import ImageFileDataModule
from noisyrobust.data.folder import load_image_folder
from noisyrobust.errors import UserError


def datamodule(root, **kw):
    args = dict(name="folder", root=root, reader=load_image_folder, num_classes=2, image_size=24, resize=32,
                crop=24, batch_size=4, mean=[0.5] * 3, std=[0.25] * 3, num_workers=0, val_fraction=0.2)
    return ImageFileDataModule(**{**args, **kw})


def test_transform_resizes_the_short_side_crops_and_normalizes():
    image = Image.fromarray(np.full((40, 80, 3), 153, dtype=np.uint8))
    t = ImageTransform(resize=20, crop=16, mean=[0.2, 0.4, 0.6], std=[0.5, 0.5, 0.5])
    x = t(image)  # center crop of the 20 x 40 resize
    assert x.shape == (3, 16, 16)
    torch.testing.assert_close(x[:, 0, 0], torch.tensor([(0.6 - 0.2) / 0.5, (0.6 - 0.4) / 0.5, 0.0]))


def test_random_crop_and_flip_follow_the_seed_alone():
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 256, (32, 48, 3), dtype=np.uint8))
    t = ImageTransform(resize=32, crop=24, mean=[0] * 3, std=[1] * 3)
    torch.testing.assert_close(t(image, 5), t(image, 5))
    outputs = {tuple(t(image, s).flatten()[:50].tolist()) for s in range(20)}
    assert len(outputs) > 10  # crops and flips differ between seeds
    square = Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
    whole = ImageTransform(resize=32, crop=32, mean=[0] * 3, std=[1] * 3)  # crop = image: only a flip can differ
    plain = whole(square)
    flips = [torch.equal(whole(square, s), plain.flip(2)) for s in range(40)]
    assert all(f or torch.equal(whole(square, s), plain) for s, f in enumerate(flips))
    assert 10 < sum(flips) < 30  # half of them, about


def test_loaders_give_the_same_batches_with_and_without_worker_processes(tmp_path):
    write_image_folder(tmp_path, {"a": 6, "b": 6}, test_counts={"a": 2, "b": 1})
    batches = {}
    for workers in (0, 2):
        dm = datamodule(tmp_path, num_workers=workers)
        dm.setup()
        batches[workers] = list(dm.train_dataloader())
    assert len(batches[0]) == 2  # 10 training images (2 for validation), batches of 4, drop_last
    for (x0, y0, i0), (x2, y2, i2) in zip(batches[0], batches[2]):
        assert torch.equal(i0, i2) and torch.equal(y0, y2)
        torch.testing.assert_close(x0, x2, rtol=0, atol=0)


def test_predict_loader_and_with_train_indices_for_rholoss(tmp_path):
    write_image_folder(tmp_path, {"a": 5, "b": 5}, test_counts={"a": 1})
    dm = datamodule(tmp_path, batch_size=2)
    dm.setup()
    predicted = list(dm.predict_dataloader())
    index = torch.cat([b[2] for b in predicted])
    assert index.tolist() == list(range(10))  # every training point, validation share included, in order
    assert torch.equal(torch.cat([b[1] for b in predicted]), dm.noisy_labels)
    part = dm.with_train_indices([7, 1, 3, 5])
    assert part.train_indices.tolist() == [1, 3, 5, 7] and len(dm.train_indices) == 8
    drawn = torch.cat([b[2] for b in part.train_dataloader()])
    assert sorted(drawn.tolist()) == [1, 3, 5, 7]
    assert part.eval_names == dm.eval_names and torch.equal(part.val_indices, dm.val_indices)


def test_an_unreadable_image_met_in_training_is_named(tmp_path):
    write_image_folder(tmp_path, {"a": 3, "b": 3})
    (tmp_path / "train" / "b" / "1.jpg").write_bytes(b"not a jpeg")
    dm = datamodule(tmp_path, verify_images=False, val_fraction=0.0, test_fraction=0.2)
    dm.setup()  # existence only
    dm.batch_size = 5
    with pytest.raises(UserError, match=r"train/b/1.jpg cannot be read .*data.verify_images=true"):
        list(dm.train_dataloader())


def test_an_unreadable_image_met_in_a_worker_process_is_the_same_one_line_error(tmp_path):
    write_image_folder(tmp_path, {"a": 3, "b": 3})
    (tmp_path / "train" / "b" / "1.jpg").write_bytes(b"not a jpeg")
    dm = datamodule(tmp_path, verify_images=False, val_fraction=0.0, test_fraction=0.2, num_workers=1)
    dm.setup()
    dm.batch_size = 5
    with pytest.raises(UserError) as caught:
        list(dm.train_dataloader())
    message = str(caught.value)
    assert message.startswith("image ") and "train/b/1.jpg cannot be read" in message and "\n" not in message


def test_settings_that_cannot_work_are_refused():
    with pytest.raises(UserError, match="data.crop=300 must be between 1 and data.resize=256"):
        datamodule("x", resize=256, crop=300, image_size=300)
    with pytest.raises(UserError, match="data.image_size=32 and data.in_channels=3 must be data.crop=24"):
        datamodule("x", image_size=32)
    with pytest.raises(UserError, match="samples_per_epoch=0"):
        datamodule("x", samples_per_epoch=0)


def test_load_rgb_converts_grey_and_palette_images(tmp_path):
    grey = tmp_path / "g.png"
    Image.fromarray(np.zeros((5, 7), dtype=np.uint8)).save(grey)
    colour = write_jpeg(tmp_path / "c.jpg", np.random.default_rng(0))
    assert load_rgb(str(grey)).mode == "RGB" and load_rgb(str(colour)).size == (32, 32)


def test_image_check_in_worker_processes_finds_what_one_process_finds(tmp_path):
    from formats import write_clothing1m

    from noisyrobust.data.clothing1m import load_clothing1m
    from noisyrobust.data.files import find_bad_images

    w = write_clothing1m(tmp_path)
    files = load_clothing1m(tmp_path)
    for split, bad_key in (("train", w["missing"]), ("val", w["corrupt"])):
        paths = getattr(files, f"{split}_paths")
        alone = find_bad_images(tmp_path, paths, decode=True, workers=0)
        pooled = find_bad_images(tmp_path, paths, decode=True, workers=2, chunk=3)
        assert pooled == alone and [paths[i].decode() for i, _ in alone] == [bad_key]
