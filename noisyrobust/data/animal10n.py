"""Reader of Animal-10N (Song et al. 2019, SELFIE): 55,000 64x64 images of 10 look-alike animals, labelled by
people with errors (about 8% by the authors' estimate), held in memory.

The release (https://dm.kaist.ac.kr/datasets/animal-10n/, by request to its authors) unpacks to a folder with
``training/`` (50,000 images) and ``testing/`` (5,000), every file named ``<label>_<number>.jpg``, label
0..9 (five pairs: cat/lynx, jaguar/cheetah, wolf/coyote, chimpanzee/orangutan, hamster/guinea pig). The split
is fixed. The training labels are the noisy ones (noise=human's ``noisy`` set), their clean labels unknown;
the test labels are taken as the clean reference, as the papers do. Images are decoded by the same code as
the image-file datasets' (``load_rgb``) once, into memory.
"""
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from noisyrobust.data.files import first_few, load_rgb
from noisyrobust.data.imageset import ImageSet
from noisyrobust.errors import UserError
from noisyrobust.noise import UNKNOWN

NUM_CLASSES, SIZE = 10, 64
URL = "https://dm.kaist.ac.kr/datasets/animal-10n/"
NAME = re.compile(r"^(\d+)_.+\.jpe?g$", re.IGNORECASE)


def _read_folder(folder: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 images (N, 3, 64, 64) and labels of the files ``<label>_<n>.jpg`` of ``folder``, by name."""
    if not folder.is_dir():
        raise UserError(f"Animal-10N folder {folder} is missing; set data.root to the unpacked release "
                        f"(training/ and testing/, from {URL})")
    names = sorted(e.name for e in os.scandir(folder) if e.is_file() and not e.name.startswith("."))
    matches = [NAME.match(name) for name in names]
    bad = [n for n, m in zip(names, matches) if m is None or int(m.group(1)) >= NUM_CLASSES]
    if bad:
        raise UserError(f"{folder}: {len(bad)} files are not named <label>_<number>.jpg with label 0..9: "
                        f"{first_few(bad)}")
    if not names:
        raise UserError(f"Animal-10N folder {folder} holds no image (expected <label>_<number>.jpg files)")
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:  # PIL decodes without the GIL
        decoded = list(pool.map(lambda name: np.asarray(load_rgb(str(folder / name))), names))
    other = [f"{n} ({x.shape[1]}x{x.shape[0]})" for n, x in zip(names, decoded) if x.shape != (SIZE, SIZE, 3)]
    if other:
        raise UserError(f"{folder}: {len(other)} images are not {SIZE}x{SIZE}: {first_few(other)}; Animal-10N's "
                        "release holds 64x64 images only")
    images = np.stack(decoded)
    labels = torch.tensor([int(m.group(1)) for m in matches], dtype=torch.int64)
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(), labels


def load_animal10n(root) -> ImageSet:
    """Animal-10N from ``root`` (see the module docstring); the training labels in
    ``extra['human_labels']['noisy']``, the clean ones unknown (-1)."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"Animal-10N folder {root} does not exist; set data.root to the unpacked release "
                        f"(training/ and testing/, from {URL})")
    train_x, noisy = _read_folder(root / "training")
    test_x, test_y = _read_folder(root / "testing")
    return ImageSet(train_images=train_x, train_labels=torch.full_like(noisy, UNKNOWN), test_images=test_x,
                    test_labels=test_y, classes=tuple(str(c) for c in range(NUM_CLASSES)),
                    extra={"human_labels": {"noisy": noisy.numpy()}})
