"""CUDA paths: device-resident batches, on-device augmentation, bf16 autocast. Skipped without a GPU."""
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
