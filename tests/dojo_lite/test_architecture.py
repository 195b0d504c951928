"""The architecture holds: no import cycles, layers meet only through public names, and every
type a public signature names is itself public."""

from __future__ import annotations

import ast
import inspect
import typing
from pathlib import Path

import attrs
import pytest

import dojo_lite
import sandbox

ROOT = Path(__file__).resolve().parents[2]


def _imports(package: str) -> dict[str, set[str]]:
    """module -> the modules of ``package`` it imports, wherever in the file (type-checking and
    function-level imports count: they are dependencies too)."""
    graph: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).glob("*.py")):
        module = f"{package}.{path.stem}" if path.stem != "__init__" else package
        deps = graph.setdefault(module, set())
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                deps.update(f"{package}.{node.module}" if node.module else
                            f"{package}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(f"{package}."):
                deps.add(node.module)
    return {m: {d for d in deps if d in graph or d.startswith(f"{package}._")} for m, deps in graph.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node):], node]
        if node in done:
            return None
        for dep in sorted(graph.get(node, ())):
            if found := visit(dep, [*path, node]):
                return found
        done.add(node)
        return None

    for start in sorted(graph):
        if found := visit(start, []):
            return found
    return None


@pytest.mark.parametrize("package", ["dojo_lite", "sandbox"])
def test_no_import_cycle(package: str) -> None:
    graph = _imports(package)
    graph.pop(package, None)  # __init__ re-exports; nothing imports it back
    assert _cycle(graph) is None, f"import cycle: {' -> '.join(_cycle(graph) or [])}"


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def _reach(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for dep in graph.get(todo.pop(), ()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def test_the_env_knows_only_the_backend_protocol() -> None:
    # DojoEnv and the scheduler meet through the Backend protocol: the env never imports the scheduler
    assert "dojo_lite._scheduler" not in _reach(_imports("dojo_lite"), "dojo_lite._env")


def test_dojo_lite_uses_only_sandbox_s_public_api() -> None:
    private = []
    for path in sorted((ROOT / "dojo_lite").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else (
                [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            private += [f"{path.name}: {n}" for n in names if n.startswith("sandbox.")]
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "sandbox" \
                    and node.attr.startswith("_"):
                private.append(f"{path.name}: sandbox.{node.attr}")
    assert private == []


def _named_types(hint: object) -> set[type]:
    found: set[type] = set()
    for arg in typing.get_args(hint):
        found |= _named_types(arg)
    origin = typing.get_origin(hint)
    if isinstance(hint, type) and origin is None:
        found.add(hint)
    return found


def _public_members(obj: type) -> list[object]:
    members: list[object] = [obj.__init__] if "__init__" in vars(obj) else []
    for name, value in vars(obj).items():
        if not name.startswith("_") and (inspect.isfunction(value) or isinstance(value, classmethod | property)):
            members.append(value.fget if isinstance(value, property) else getattr(value, "__func__", value))
    return members


@pytest.mark.parametrize("package", [dojo_lite, sandbox], ids=["dojo_lite", "sandbox"])
def test_every_type_in_a_public_signature_is_public(package: typing.Any) -> None:
    exported = {getattr(package, name) for name in package.__all__}
    missing: set[str] = set()
    for name in package.__all__:
        obj = getattr(package, name)
        targets = [obj] if inspect.isfunction(obj) else _public_members(obj) if inspect.isclass(obj) else []
        hints: list[object] = []
        for target in targets:
            hints += typing.get_type_hints(target, vars(inspect.getmodule(target))).values()
        if inspect.isclass(obj) and attrs.has(obj):
            hints += [f.type for f in attrs.fields(obj) if not f.name.startswith("_") and not isinstance(f.type, str)]
            hints += typing.get_type_hints(obj).values()
        for kind in set().union(*map(_named_types, hints)) if hints else set():
            home = kind.__module__.split(".")[0]
            if home in ("dojo_lite", "sandbox") and kind not in exported and home == package.__name__:
                missing.add(f"{kind.__module__}.{kind.__qualname__} (in {name})")
    assert sorted(missing) == []
