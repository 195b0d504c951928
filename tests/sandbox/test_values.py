"""Values: sizes, limits, results, mounts, the public namespace."""

from __future__ import annotations

import math

import pytest

import sandbox
from sandbox import ConfigError, Limits, Mount, Output, RunResult, RunStatus, parse_size


@pytest.mark.parametrize(("text", "expected"), [
    ("512M", 512 << 20), ("2G", 2 << 30), ("2g", 2 << 30), ("1.5GiB", 3 << 29), ("4096", 4096),
    ("64k", 64 << 10), (10, 10), ("1T", 1 << 40),
])
def test_parse_size(text: str | int, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("bad", ["", "lots", "-1M", "2X", "1.2.3G", -5, True])
def test_parse_size_rejects(bad: str | int) -> None:
    with pytest.raises(ConfigError):
        parse_size(bad)


def test_limits_defaults_suit_ml_code() -> None:
    limits = Limits()
    assert limits.memory == 2 << 30
    assert limits.timeout == 60
    assert limits.pids == 256
    rlimits = limits.rlimits()
    assert set(rlimits) == {"nofile", "fsize", "stack", "core", "cpu", "as"}
    assert rlimits["as"] is None  # cgroups limit memory; RLIMIT_AS breaks CUDA
    assert rlimits["fsize"] >= 1 << 30 and rlimits["nofile"] >= 1024


@pytest.mark.parametrize("kwargs", [
    {"timeout": 0}, {"timeout": -1}, {"timeout": math.nan}, {"timeout": math.inf}, {"cpus": 0},
    {"pids": 0}, {"memory": "1M"}, {"memory": "nope"},
])
def test_limits_reject_nonsense(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        Limits(**kwargs)  # type: ignore[arg-type]


def test_limits_are_frozen() -> None:
    import attrs

    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        Limits().timeout = 3  # type: ignore[misc]


def test_result_dict_has_the_cli_contract_keys() -> None:
    result = RunResult(status=RunStatus.TIMEOUT, stdout=Output("a", dropped_bytes=3, total_bytes=4))
    data = result.to_dict()
    for key in ("status", "exit_code", "signal", "stdout", "stderr", "traceback", "wall_s", "cpu_s",
                "peak_memory_bytes"):
        assert key in data
    assert data["status"] == "timeout"
    assert data["stdout_dropped_bytes"] == 3
    assert not result.ok


def test_one_name_for_each_thing() -> None:
    # a run's status is RunStatus (dojo_lite.Status is an observation's); values say to_dict
    assert not hasattr(sandbox, "Status") and "RunStatus" in sandbox.__all__
    assert not hasattr(RunResult, "to_json") and not hasattr(sandbox.HostReport, "to_json")


def test_every_status_is_distinct_and_named() -> None:
    assert {s.value for s in RunStatus} == {
        "ok", "error", "timeout", "memory", "killed", "output_limit", "disk_limit", "sandbox_error"}


@pytest.mark.parametrize(("spec", "host", "inside"), [
    ("/data:/data", "/data", "/data"), ("/srv/x:/input", "/srv/x", "/input"), ("/opt/d", "/opt/d", "/opt/d"),
])
def test_mount_parse(spec: str, host: str, inside: str) -> None:
    mount = Mount.parse(spec)
    assert str(mount.host) == host and mount.inside == inside and not mount.writable


@pytest.mark.parametrize("spec", ["/x:relative", ":/x", "/x:/", "/x:/proc", "/x:/workspace", "/x:/tmp/y",
                                  "/x:/.sandbox/episodes"])
def test_mount_parse_rejects_the_sandbox_own_paths(spec: str) -> None:
    with pytest.raises(ConfigError):
        Mount.parse(spec)


def test_public_namespace_is_what_it_claims() -> None:
    assert sorted(sandbox.__all__) == sorted(set(sandbox.__all__))
    for name in sandbox.__all__:
        assert getattr(sandbox, name).__module__.startswith("sandbox")
    assert issubclass(sandbox.ConfigError, sandbox.SandboxError)
    assert issubclass(sandbox.NsjailNotFound, sandbox.HostError)
    assert issubclass(sandbox.GuaranteeUnavailable, sandbox.SandboxError)
