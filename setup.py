"""Package discovery and the optional C extension, which pyproject.toml alone cannot express.

`conf/` (Hydra configs, a fixed top-level folder) is installed as the package
`portraitsr4k.conf`, so installed commands find it via ``pkg://portraitsr4k.conf`` from any
working directory, for editable and regular installs alike.

`portraitsr4k.image_io._jpegcrop` (lossless JPEG crop, linked with the system libjpeg; needs
``jpeglib.h``, e.g. Debian/Ubuntu ``libjpeg-dev`` or ``libjpeg62-turbo-dev``) is OPTIONAL: when
it does not compile or link, the install goes on without it, logs a warning, and the dataset
builder stores cropped HR images as PNG instead (``image_io.lossless_jpeg_crop_available()``).
"""

import sys

from setuptools import Extension, find_packages, setup
from setuptools.command.build_ext import build_ext

CODE_PACKAGES = find_packages(
    where=".", include=["portraitsr4k", "portraitsr4k.*", "degradations", "degradations.*",
                        "benchmarks", "benchmarks.*", "headsup_model", "headsup_model.*"]
)

JPEG_CROP = Extension(
    "portraitsr4k.image_io._jpegcrop",
    sources=["portraitsr4k/image_io/_jpegcrop.c"],
    libraries=["jpeg"],
    extra_compile_args=["-O2", "-std=c99", "-Wall"],
    optional=True,
)


class OptionalBuildExt(build_ext):
    """build_ext that warns and carries on when an optional extension fails to build.

    setuptools' ``Extension(optional=True)`` already skips compile errors, but not every
    failure (a missing compiler raises before any extension is tried), and it says little;
    this names the extension, the error and the consequence in one warning.
    """

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001  no compiler at all: still install pure Python
            self._warn("all C extensions", exc)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001  CompileError, LinkError, missing headers ...
            if not getattr(ext, "optional", False):
                raise
            self._warn(ext.name, exc)

    @staticmethod
    def _warn(what: str, exc: Exception) -> None:
        message = (f"portraitsr4k: building {what} failed ({type(exc).__name__}: {exc}); installing without "
                   "it. Lossless JPEG crops are then unavailable and the builder stores cropped HR "
                   "images as PNG. Install the libjpeg headers (apt install libjpeg-dev) and reinstall "
                   "to get them.")
        # setup.py runs outside the library's logging; pip shows build output with -v.
        sys.stderr.write(f"WARNING: {message}\n")


setup(
    packages=CODE_PACKAGES + ["portraitsr4k.conf"],
    package_dir={"portraitsr4k.conf": "conf"},
    package_data={"portraitsr4k.conf": ["*.yaml", "**/*.yaml"], "portraitsr4k": ["py.typed"]},
    ext_modules=[JPEG_CROP],
    cmdclass={"build_ext": OptionalBuildExt},
)
