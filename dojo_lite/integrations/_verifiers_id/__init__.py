"""``dojo_lite_verifiers``: the top-level module verifiers imports for the id ``dojo-lite-verifiers``.

verifiers loads a taskset, its env and its harness by an id naming an installed top-level module,
and takes the one subclass of each in that module's ``__all__``.  So a process that knows the env
by id alone (``vf-eval dojo-lite-verifiers ...``, served env workers) finds dojo_lite's here.
Installed as the package ``dojo_lite_verifiers`` (``package_dir`` in setup.cfg).
"""

from dojo_lite.integrations.verifiers import DojoHarness, DojoTaskset, DojoVerifiersEnv, load_environment

__all__ = ["DojoHarness", "DojoTaskset", "DojoVerifiersEnv", "load_environment"]
