"""The evaluation-mode pass over the training set after chosen epochs (callbacks.training_set_fit), through
the real pipeline, checked against the trained network's own predictions; and data.shuffle_seed."""
import numpy as np
import pytest
import torch

from noisyrobust.errors import UserError
from noisyrobust.memorization.training_set_fit import TrainingSetFit

CALLBACK = "callbacks=[last_only,training_set_fit]"


def test_last_epoch_row_is_what_the_trained_network_predicts_without_dropout(fit):
    summary, out = fit("noise=uniform", "noise.rate=0.5", "model.dropout=0.5", CALLBACK, "diagnostics=none",
                       "trainer.max_epochs=3", "data.val_fraction=0.1")
    saved = np.load(out / "training_set_fit.npz")
    labels = np.load(out / "noisy_labels.npz")
    assert saved["epoch"].tolist() == [0, 2]  # epochs: [0, -1], the last one of 3
    index = saved["index"]
    assert len(index) == round(1437 * 0.9)  # the training split only: validation left out
    assert saved["noisy"].tolist() == (labels["clean"][index] != labels["noisy"][index]).tolist()

    # the same predictions from the checkpointed weights, by hand: eval mode, the normalized training images
    from noisyrobust.data.digits import load_digits
    from noisyrobust.models import MLP
    net = MLP(in_channels=1, num_classes=10, image_size=8, hidden=[256], dropout=0.5).eval()
    state = torch.load(out / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    net.load_state_dict({k[len("nets.0."):]: v for k, v in state.items() if k.startswith("nets.0.")})
    images = load_digits().train_images[torch.as_tensor(index)].float() / 255
    with torch.no_grad():
        predicted = net((images - 0.3053) / 0.3759).argmax(1).numpy()
    assert (predicted == labels["noisy"][index]).tolist() == saved["correct"][1].tolist()

    shares = summary["training_set_fit"]["epochs"]["2"]
    noisy, correct = saved["noisy"], saved["correct"][1]
    assert shares == pytest.approx({"all": correct.mean(), "clean": correct[~noisy].mean(),
                                    "noisy": correct[noisy].mean()})


def test_a_run_stopped_at_the_fit_records_its_last_epoch(fit):
    summary, out = fit("noise=clean", CALLBACK, "diagnostics=none", "trainer.max_epochs=20", "optimizer.lr=0.01",
                       "callbacks.fit_stop.stop=true", "callbacks.fit_stop.threshold=0.9")
    stopped = summary["fit"]["epoch"]
    assert stopped is not None and stopped < 19
    assert np.load(out / "training_set_fit.npz")["epoch"].tolist() == sorted({0, stopped})


def test_bad_epochs_are_a_user_error():
    with pytest.raises(UserError, match=r"callbacks.training_set_fit.epochs=\[-2\]"):
        TrainingSetFit(epochs=[-2])
    with pytest.raises(UserError, match="epochs"):
        TrainingSetFit(epochs=[])


def first_batch(shuffle_seed, noise_seed=0):
    from noisyrobust.data import NoisyDataModule
    from noisyrobust.data.digits import load_digits
    dm = NoisyDataModule(name="digits", source=load_digits, num_classes=10, in_channels=1, image_size=8,
                         batch_size=32, noise_seed=noise_seed, mean=[0.3], std=[0.4], shuffle_seed=shuffle_seed)
    dm.setup()
    return next(iter(dm.train_dataloader()))[2].tolist()


def test_shuffle_seed_changes_the_training_order_and_defaults_to_the_noise_seed():
    assert first_batch(None, noise_seed=3) == first_batch(3, noise_seed=0)
    assert first_batch(1) != first_batch(2)
