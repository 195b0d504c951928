"""Where the runtime lies inside the jail, layer by layer: the neutral places (``Runtime.placement``),
then the staged hard links they are bound from (``stage_runtime``); the jail itself is tested in
test_containment.py."""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from sandbox import Runtime, remove_tree
from sandbox._jail import Placement, stage_runtime

IN_VENV = sys.prefix != sys.base_prefix


def _hosts() -> set[str]:
    return {os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix)}


def test_the_places_inside_name_no_host_path() -> None:
    place = Runtime().placement
    inside = [*place.dirs(), *(p for _, p in place.links), *(p for _, p in place.files), place.python]
    assert inside and all(p.startswith(("/runtime/", "/usr/")) for p in inside), inside
    for content, _ in place.files:
        assert not any(host.encode() in content for host in _hosts()), content


@pytest.mark.skipif(not IN_VENV, reason="the controller runs in a venv here")
def test_a_venv_gets_a_rewritten_config_and_no_scripts() -> None:
    place = Runtime().placement
    config = dict(place.files)
    [(content, path)] = config.items()
    assert path == "/runtime/venv/pyvenv.cfg"
    text = content.decode()
    assert text.startswith(f"home = {os.path.dirname(place.links[-1][0])}\n"), text
    assert "command" not in text and "executable" not in text
    assert place.python == place.links[-1][1] and place.python.startswith("/runtime/venv/bin/")
    assert not any(inside.startswith("/runtime/venv/bin") for inside in place.dirs()), "bin's scripts name the venv"


def test_host_paths_translate_to_their_place_inside() -> None:
    place = Runtime().placement
    site = next(p for p in sys.path if p.endswith("site-packages"))
    where = place.inside(os.path.realpath(site))
    assert where is not None and where.startswith("/runtime/") and where.endswith("/site-packages")
    assert place.inside("/nowhere/at/all") is None


def test_staging_binds_from_links_and_keeps_translating(tmp_path: Path) -> None:
    source = tmp_path / "prefix"
    (source / "lib" / "pkg").mkdir(parents=True)
    (source / "lib" / "pkg" / "data.csv").write_text("a\n")
    (source / "lib" / "alias").symlink_to("pkg")  # a link to a folder is kept as a link
    place = Placement(binds=((str(source), "/runtime/python"),), links=(), files=(), python="/runtime/python/bin/py")
    staged = stage_runtime(place, tmp_path / "stage")
    [(bound, inside)] = staged.binds
    assert inside == "/runtime/python" and bound.startswith(str(tmp_path / "stage"))
    copy = Path(bound, "lib", "pkg", "data.csv")
    assert copy.read_text() == "a\n" and copy.stat().st_ino == (source / "lib" / "pkg" / "data.csv").stat().st_ino
    assert os.readlink(Path(bound, "lib", "alias")) == "pkg"
    assert staged.inside(str(source / "lib" / "pkg")) == "/runtime/python/lib/pkg"  # host paths, not the stage's
    assert staged.inside(bound) is None


def test_staging_across_file_systems_warns_and_binds_the_host_path(tmp_path: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    if os.stat("/dev/shm").st_dev == tmp_path.stat().st_dev:
        pytest.skip("/dev/shm is on the same file system as the temp dir")
    (tmp_path / "f.txt").write_text("x")
    place = Placement(binds=((str(tmp_path), "/runtime/python"),), links=(), files=(), python="/x")
    stage = Path("/dev/shm") / f"stage-test-{os.getpid()}"
    try:
        with caplog.at_level(logging.WARNING, logger="sandbox"):
            staged = stage_runtime(place, stage)
        assert staged.binds == place.binds and not any(stage.iterdir()), "no half-made stage is left"
    finally:
        remove_tree(stage)
    assert "its host path shows inside the jail" in caplog.text


def _stage_in_a_fresh_child(queue: Any) -> None:
    from sandbox import _pool
    _pool._staged.clear()  # as in a worker forked before its parent staged anything
    place = _pool.staged_runtime(Runtime())
    queue.put(place.binds[0][0])


def test_a_forked_worker_removes_what_it_staged_and_only_that() -> None:
    """A multiprocessing worker ends with os._exit (no atexit): its staged runtime goes with it all
    the same, and the hooks it inherited from its parent leave the parent's staged runtime alone."""
    from sandbox._pool import staged_runtime

    ours = Path(staged_runtime(Runtime()).binds[0][0])
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_stage_in_a_fresh_child, args=(queue,))
    child.start()
    theirs = Path(queue.get(timeout=120))
    child.join(timeout=60)
    assert child.exitcode == 0
    assert theirs != ours and not theirs.exists(), "the worker's staged runtime outlived it"
    assert ours.exists(), "the worker removed its parent's staged runtime"
