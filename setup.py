"""Package discovery that pyproject.toml alone cannot express.

`conf/` (Hydra configs, a fixed top-level folder) is installed as the package
`portraitsr4k.conf`, so installed commands find it via ``pkg://portraitsr4k.conf`` from any
working directory, for editable and regular installs alike.
"""

from setuptools import find_packages, setup

CODE_PACKAGES = find_packages(
    where=".", include=["portraitsr4k", "portraitsr4k.*", "degradations", "degradations.*",
                        "benchmarks", "benchmarks.*", "headsup_model", "headsup_model.*"]
)

setup(
    packages=CODE_PACKAGES + ["portraitsr4k.conf"],
    package_dir={"portraitsr4k.conf": "conf"},
    package_data={"portraitsr4k.conf": ["*.yaml", "**/*.yaml"], "portraitsr4k": ["py.typed"]},
)
