"""Packaging beyond pyproject.toml: the wheel ships the repository's config tree, conf/, as the package
``noisyrobust.conf`` (noisyrobust.cli.find_config_dir looks there first), so that an installed noisyrobust runs
from any directory while the checkout keeps one conf/ for ``python train.py``."""
from setuptools import find_namespace_packages, setup

CONFIG_GROUPS = ["noisyrobust.conf", *(f"noisyrobust.conf.{group}" for group in find_namespace_packages(where="conf"))]

setup(
    packages=[*find_namespace_packages(include=["noisyrobust", "noisyrobust.*"]), *CONFIG_GROUPS],
    package_dir={"noisyrobust.conf": "conf"},  # and so noisyrobust.conf.<group>: conf/<group>
    package_data={**{group: ["*.yaml"] for group in CONFIG_GROUPS}, "noisyrobust.review": ["page/*"]},  # and the
    # review page's HTML, JS and CSS (one place for package data: pyproject's table would replace this one)
)
