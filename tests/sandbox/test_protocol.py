"""The wire protocol between the controller and the jail has one table (``_zygote.Command``, ``_zygote.Report``).

An AST scan of the sandbox package: every message it sends (a dict with an ``"op"`` key) and every
message kind it matches (a comparison with an ``op``) names a member of the table, never a string
literal; every member is both sent and matched somewhere.  No jail needed.
"""

from __future__ import annotations

import ast
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

import sandbox
from sandbox._zygote import AGENT_REPORTS, Command, Handoff, Report

PACKAGE = Path(sandbox.__file__).parent
TABLE = {"Command": Command, "Report": Report, "Handoff": Handoff}


@attrs.frozen
class Use:
    """One place where a message kind is sent or matched."""

    where: str
    member: str  # "Report.EXIT", or the offending literal's repr


@attrs.define
class Scan:
    sent: list[Use] = attrs.field(factory=list)
    matched: list[Use] = attrs.field(factory=list)
    literals: list[Use] = attrs.field(factory=list)  # kinds spelled as literals: each one is a failure
    unknown: list[Use] = attrs.field(factory=list)  # Command.NOPE: not in the table


def _is_op(node: ast.expr) -> bool:
    """True for what holds a message's kind (``op``, ``x.op``, ``x["op"]``, ``x.get("op")``, ``_op(data)``)
    or is a whole message (``sock.recv(n)``)."""
    if isinstance(node, ast.Name):
        return node.id == "op"
    if isinstance(node, ast.Attribute):
        return node.attr == "op"
    if isinstance(node, ast.Subscript):
        return isinstance(node.slice, ast.Constant) and node.slice.value == "op"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return node.func.id == "_op"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "recv":
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
        return bool(node.args) and isinstance(node.args[0], ast.Constant) and node.args[0].value == "op"
    return False


def _sends(call: ast.Call) -> bool:
    """True for a call that sends a message: ``x.send(...)``, ``x.sendmsg(...)``, ``_send(...)``, ..."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name.lstrip("_") in ("send", "sendall", "sendmsg", "send_json")


def _kinds(node: ast.expr) -> Iterator[ast.expr]:
    """The kinds an expression names: itself, or each element of a tuple, list or set."""
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        yield from node.elts
    else:
        yield node


def _record(scan: Scan, into: list[Use], node: ast.expr, where: str) -> None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
        scan.literals.append(Use(where, repr(node.value)))
    elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in TABLE:
        member = f"{node.value.id}.{node.attr}"
        (into if node.attr in TABLE[node.value.id].__members__ else scan.unknown).append(Use(where, member))


def scan_source(source: str, name: str) -> Scan:
    scan = Scan()
    for node in ast.walk(ast.parse(source)):
        where = f"{name}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "op":
                    _record(scan, scan.sent, value, where)
        elif isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(_is_op(o) for o in operands):
                for operand in operands:
                    for kind in _kinds(operand):
                        _record(scan, scan.matched, kind, where)
        elif isinstance(node, ast.Match) and _is_op(node.subject):
            for case in node.cases:
                for pattern in ast.walk(case.pattern):
                    if isinstance(pattern, ast.MatchValue):
                        _record(scan, scan.matched, pattern.value, where)
        elif isinstance(node, ast.Call) and _sends(node):
            for arg in node.args:
                for message in _kinds(arg):
                    if isinstance(message, ast.Constant) and isinstance(message.value, str | bytes):
                        scan.literals.append(Use(where, repr(message.value)))  # a message written out
        elif isinstance(node, ast.Constant) and isinstance(node.value, bytes) and b'"op"' in node.value:
            scan.literals.append(Use(where, repr(node.value)))  # a message written out as bytes
    return scan


def scan_package() -> Scan:
    total = Scan()
    for path in sorted(PACKAGE.glob("*.py")):
        scan = scan_source(path.read_text(), path.name)
        for field in attrs.fields(Scan):
            getattr(total, field.name).extend(getattr(scan, field.name))
    return total


def test_no_message_kind_is_spelled_as_a_literal() -> None:
    scan = scan_package()
    assert scan.literals == [], "send and match message kinds through _zygote.Command/Report"
    assert scan.unknown == []


def test_every_entry_of_the_table_is_sent_and_matched() -> None:
    scan = scan_package()
    members = {f"{name}.{m}" for name, enum in TABLE.items() for m in enum.__members__}
    assert members - {use.member for use in scan.sent} == set(), "in the table but never sent"
    assert members - {use.member for use in scan.matched} == set(), "in the table but never matched"


@pytest.mark.parametrize("source", [
    'sock.send(json.dumps({"op": "bogus"}))',
    'if message.op == "exit": pass',
    'if body.get("op") in ("started", Report.RUNNING): pass',
    'if report["op"] != "exit": pass',
    'if _op(channel.recv(4096)) != "go": pass',
    'if channel.recv(4096) != b"go": pass',
    'spare.channel.sock.send(b"go")',
    'ctl.sendmsg([b"hello"], [])',
    'sock.send(b\'{"op": "hello"}\')',
    'match message.op:\n    case "status": pass',
])
def test_the_scan_catches_literals(source: str) -> None:
    assert scan_source(source, "example").literals != []


def test_the_scan_catches_members_that_are_not_in_the_table() -> None:
    scan = scan_source('channel.send_json({"op": Command.NOPE})\nif op == Report.GONE: pass', "example")
    assert sorted(use.member for use in scan.unknown) == ["Command.NOPE", "Report.GONE"]


def test_one_name_per_message_and_members_are_their_values_on_the_wire() -> None:
    assert {c.value for c in Command}.isdisjoint({r.value for r in Report})
    for member in [*Command, *Report]:
        assert json.loads(json.dumps({"op": member})) == {"op": member.value}
        assert member == member.value
    assert set(AGENT_REPORTS) <= set(Report) and Report.STATUS not in AGENT_REPORTS


def test_the_zygote_imports_the_standard_library_only() -> None:
    """It runs in the jail under any Python >= 3.9, where ``sandbox`` is not importable."""
    tree = ast.parse((PACKAGE / "_zygote.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "the zygote cannot import the sandbox package"
            imported.add((node.module or "").split(".")[0])
    imported.discard("torch")  # optional: imported only to cap GPU memory when the runtime has it
    assert imported <= sys.stdlib_module_names
