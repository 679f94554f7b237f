"""One epoch of augmented CIFAR-sized batches: noisyrobust's device-resident TensorBatches (crop + flip on
whole batches) against torchvision's DataLoader with PIL RandomCrop/RandomHorizontalFlip/ToTensor/Normalize,
side by side in one process. Prints images/s of each and the ratio.

    python benchmarks/data_pipeline.py [--device cuda] [--images 20000] [--workers 2]
"""
import argparse
import time

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from noisyrobust.data.loader import BatchTransform, TensorBatches

MEAN, STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


class PILImages(Dataset):
    """What torchvision.datasets.CIFAR10 does per sample: uint8 HWC -> PIL -> transform."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.transform(Image.fromarray(self.images[i])), int(self.labels[i]), i


def epoch_time(batches, device) -> float:
    start = time.perf_counter()
    for x, y, _ in batches:
        x = x.to(device, non_blocking=True)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    device = torch.device(args.device)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (args.images, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, args.images)

    ours = TensorBatches(torch.from_numpy(images).permute(0, 3, 1, 2).contiguous().to(device),
                         torch.from_numpy(labels).to(device), torch.arange(args.images),
                         batch_size=args.batch_size, shuffle=True, augment=True,
                         transform=BatchTransform(torch.tensor(MEAN), torch.tensor(STD), crop_padding=4, flip=True))
    pil = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(),
                              transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    loader = DataLoader(PILImages(images, labels, pil), batch_size=args.batch_size, shuffle=True,
                        num_workers=args.workers, pin_memory=device.type == "cuda",
                        persistent_workers=args.workers > 0)
    epoch_time(ours, device), epoch_time(loader, device)  # warm-up: workers, allocator, kernels
    t_ours, t_loader = [], []
    for _ in range(args.repeats):  # alternate, so drift of the machine hits both alike
        t_ours.append(epoch_time(ours, device))
        t_loader.append(epoch_time(loader, device))
    a, b = float(np.median(t_ours)), float(np.median(t_loader))
    print(f"device {device}, {args.images} images, batch {args.batch_size}; TensorBatches in this process with "
          f"{torch.get_num_threads()} torch thread(s) (OMP_NUM_THREADS), DataLoader with {args.workers} worker "
          f"process(es) of 1 thread each")
    print(f"TensorBatches (whole-batch crop+flip): {args.images / a:12,.0f} images/s ({a:.3f} s/epoch)")
    print(f"DataLoader + PIL transforms:           {args.images / b:12,.0f} images/s ({b:.3f} s/epoch)")
    print(f"speed-up: {b / a:.1f}x")


if __name__ == "__main__":
    main()
