"""The label-issue plots as a user reads them: AUROC / AP in the detection legends, labelled histogram axes
under a suptitle that clears the panel titles, whole epochs on the memorization axis, a colour bar beside
the matrices."""
import matplotlib.pyplot as plt
import numpy as np
import pytest

from noisyrobust.label_issues import plots
from noisyrobust.label_issues.detection import detection_quality


@pytest.fixture
def figures(monkeypatch):
    """The figures the plot functions draw, kept open instead of saved."""
    drawn = []
    monkeypatch.setattr(plots, "save", lambda fig, path: drawn.append(fig) or path)
    yield drawn
    for fig in drawn:
        plt.close(fig)


def table(n=200, seed=0):
    rng = np.random.default_rng(seed)
    noisy = (rng.random(n) < 0.3).astype(int)
    return {"index": np.arange(n), "given_label": rng.integers(0, 3, n), "suggested_label": rng.integers(0, 3, n),
            "loss": noisy + rng.normal(0, 0.8, n), "aum": noisy + rng.normal(0, 0.5, n), "is_noisy": noisy}


def test_detection_legends_give_each_scores_auroc_and_average_precision(tmp_path, figures):
    t = table()
    plots.detection_curves(t, ["loss", "aum"], tmp_path / "d.png")
    roc, pr = figures[0].axes
    q = {s: detection_quality(t[s], t["is_noisy"] == 1) for s in ("loss", "aum")}
    assert [x.get_text() for x in roc.get_legend().get_texts()] == [
        f"loss (AUROC {q['loss']['auroc']:.3f})", f"aum (AUROC {q['aum']['auroc']:.3f})"]
    assert [x.get_text() for x in pr.get_legend().get_texts()][:2] == [
        f"loss (AP {q['loss']['ap']:.3f})", f"aum (AP {q['aum']['ap']:.3f})"]


def test_histograms_have_axis_labels_and_the_suptitle_clears_the_panel_titles(tmp_path, figures):
    plots.score_histograms(table(), ["loss", "aum"], tmp_path / "h.png")
    fig = figures[0]
    for ax, name in zip(fig.axes, ["loss", "aum"]):
        assert ax.get_xlabel() == f"{name} score" and ax.get_ylabel() == "training samples"
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    top = fig._suptitle.get_window_extent(renderer)
    for ax in fig.axes:
        assert ax.title.get_window_extent(renderer).y1 <= top.y0, ax.get_title()


def test_memorization_epochs_are_whole_numbers(tmp_path, figures):
    history = {"mem/noisy_fit": ([0, 1, 2], [0.1, 0.2, 0.3]), "test/acc": ([0, 1, 2], [0.5, 0.6, 0.7])}
    plots.memorization_curves(history, tmp_path / "m.png")
    ax = figures[0].axes[0]
    figures[0].canvas.draw()
    lo, hi = ax.get_xlim()
    ticks = [t for t in ax.get_xticks() if lo <= t <= hi]
    assert ticks == [0, 1, 2]  # not 0.0, 0.25, ... 2.0


def test_the_matrices_have_a_colour_bar_of_probability(tmp_path, figures):
    m = np.full((3, 3), 1 / 3)
    plots.transition_and_confusion(m, m, "clean", tmp_path / "t.png")
    fig = figures[0]
    assert len(fig.axes) == 3  # the two matrices and the colour bar
    bar = fig.axes[-1]
    assert bar.get_ylabel() == "probability (each row sums to 1)" and bar.get_ylim() == (0.0, 1.0)
