"""One look for every figure: matplotlib without a display, small fonts, light grid, PNG at 120 dpi."""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)


def new_figure(ncols: int, *, width: float = 4.2, height: float = 3.4):
    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)
    for ax in axes[0]:
        ax.grid(alpha=0.3)
    return fig, list(axes[0])


def save(fig, path: Path) -> Path:
    """Write the PNG atomically (a later reader never sees half of it) and close the figure."""
    from noisyrobust.files import atomic_write

    fig.tight_layout()
    with atomic_write(path) as f:
        fig.savefig(f, format="png", dpi=120)
    plt.close(fig)
    return path
