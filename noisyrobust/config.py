"""OmegaConf resolvers used by the config tree (registered when noisyrobust is imported)."""
from omegaconf import OmegaConf


def default_forget_rate(noise_target: str, rate: float) -> float:
    """Co-teaching / JoCoR: the forget rate is the noise rate, half of it for asymmetric noise (only the
    mapped classes flip)."""
    return rate / 2 if noise_target.endswith("asymmetric_noise") else rate


if not OmegaConf.has_resolver("forget_rate"):
    OmegaConf.register_new_resolver("forget_rate", default_forget_rate)
