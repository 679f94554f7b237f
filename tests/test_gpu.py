"""CUDA paths: device-resident batches, on-device augmentation, bf16 autocast, channels-last convolutions,
torch.compile with Inductor. Skipped without a GPU."""
import pytest
import torch

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def test_batches_and_augmentation_stay_on_the_gpu():
    from noisyrobust.data.loader import BatchTransform, TensorBatches

    images = torch.randint(0, 256, (64, 3, 32, 32), dtype=torch.uint8, device="cuda")
    labels = torch.arange(64, device="cuda") % 10
    batches = TensorBatches(images, labels, torch.arange(64), batch_size=16, shuffle=True, augment=True,
                            transform=BatchTransform(crop_padding=4, flip=True))
    for x, y, index in batches:
        assert x.is_cuda and y.is_cuda and index.is_cuda and x.dtype == torch.float32
        assert torch.equal(y, labels[index])


@pytest.mark.parametrize("method", ["ce", "jocor"])
def test_bf16_training_on_the_gpu_finishes(fit, method):
    summary, _ = fit("trainer=gpu", f"method={method}", "noise=sym0.4", "trainer.max_epochs=3")
    assert summary["epochs"] == 3 and summary["test_acc_last"] > 0.5


def test_convolutions_train_channels_last_on_the_gpu(fit):
    """cuDNN's faster layout: every convolution weight of the run is channels-last (its checkpoint keeps the
    strides), not the default layout a CPU run keeps."""
    _, out = fit("trainer=gpu", "method=ce", "model=cnn_jocor", "trainer.max_epochs=1")
    state = torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)["state_dict"]
    convs = [v for v in state.values() if v.dim() == 4]
    assert len(convs) == 6  # JoCoR's 7-layer CNN: six convolutions and a linear layer
    assert all(v.is_contiguous(memory_format=torch.channels_last) for v in convs)
    assert not all(v.is_contiguous() for v in convs)


def test_a_compiled_run_on_the_gpu_trains_like_the_eager_one(fit):
    """model.compile=true with Inductor's CUDA kernels under bf16 autocast: the same training as eager up to
    the kernels' float reassociation, and the plain parameter names in the checkpoint."""
    args = ("trainer=gpu", "method=ce", "noise=sym0.4", "trainer.max_epochs=3")
    compiled, out = fit(*args, "model.compile=true")
    eager, _ = fit(*args, name="eager")
    assert compiled["epochs"] == 3 and eager["test_acc_last"] > 0.5
    assert compiled["test_acc_last"] == pytest.approx(eager["test_acc_last"], abs=0.05)
    state = torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)["state_dict"]
    assert not any("_orig_mod" in k for k in state)
