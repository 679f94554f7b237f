"""OmegaConf resolvers used by the config tree (registered when noisyrobust is imported)."""
from omegaconf import OmegaConf


def default_forget_rate(noise_target: str, rate: float) -> float:
    """Co-teaching / JoCoR: the forget rate is the noise rate, half of it for asymmetric noise (only the
    mapped classes flip)."""
    return rate / 2 if noise_target.endswith("asymmetric_noise") else rate


if not OmegaConf.has_resolver("forget_rate"):
    OmegaConf.register_new_resolver("forget_rate", default_forget_rate)


def human_noise_rate(dataset: str, label=None):
    """noise=human: the published realized rate of the dataset's released label set (None: unknown)."""
    from noisyrobust.noise.human import published_human_noise_rate

    return published_human_noise_rate(dataset, label)


def image_folder_num_classes(root, classes=None) -> int:
    """data=folder: the number of classes found under ``root`` (class folders or CSV labels), or listed in
    ``classes`` (data.classes), so that the networks' configs can read ``data.num_classes`` before the images
    are listed."""
    from noisyrobust.data.folder import find_classes

    return len(find_classes(root, classes))


if not OmegaConf.has_resolver("human_noise_rate"):
    OmegaConf.register_new_resolver("human_noise_rate", human_noise_rate)
if not OmegaConf.has_resolver("image_folder_num_classes"):
    OmegaConf.register_new_resolver("image_folder_num_classes", image_folder_num_classes, use_cache=True)


def _register_run_dir_resolvers() -> None:
    """${run_stamp:} and ${hydra_output_subdir:} of conf/hydra/default.yaml (noisyrobust/rundir.py).

    The stamp is cached in the config, like Hydra's ${now:}: a sweep's job configs are composed again from
    the launcher's with its resolver cache copied (submitit's inside each SLURM job, which would otherwise
    stamp hydra.sweep.dir with its own job id), so every job of a sweep writes under the folder the launcher
    printed. The output subdirectory depends on the process's rank: never cached."""
    from noisyrobust import rundir

    for name, fn, cache in (("run_stamp", rundir.run_stamp, True),
                            ("hydra_output_subdir", rundir.hydra_output_subdir, False)):
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, fn, use_cache=cache)


_register_run_dir_resolvers()
