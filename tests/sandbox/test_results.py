"""What a run returns: how it ended, its traceback, the files it made."""

from __future__ import annotations

import os
import signal

import pytest
from jailtools import JAIL_UID, Driver, describe

from sandbox import FileChange, RunStatus


def test_ok_run(bare: Driver) -> None:
    result = bare.run("import sys\nprint('out')\nprint('err', file=sys.stderr)\n")
    assert result.status is RunStatus.OK and result.ok, describe(result)
    assert (result.exit_code, result.signal, result.traceback) == (0, None, None)
    assert result.stdout.text == "out\n" and result.stderr.text == "err\n"
    assert result.wall_s > 0 and result.cpu_s is not None and result.peak_memory_bytes


def test_segfault_is_an_error_with_sigsegv(bare: Driver) -> None:
    result = bare.run("import ctypes\nprint('before', flush=True)\nctypes.string_at(0)\n")
    assert result.status is RunStatus.ERROR, describe(result)
    assert result.signal == signal.SIGSEGV and result.exit_code is None
    assert result.stdout.text == "before\n"
    assert "SIGSEGV" in result.message
    bare.assert_healthy()


def test_sys_exit_code_is_reported(bare: Driver) -> None:
    result = bare.run("import sys\nsys.exit(3)\n")
    assert result.status is RunStatus.ERROR, describe(result)
    assert (result.exit_code, result.signal, result.traceback) == (3, None, None)


def test_sys_exit_zero_is_ok(bare: Driver) -> None:
    result = bare.run("import sys\nprint('done')\nsys.exit(0)\nprint('not reached')\n")
    assert result.status is RunStatus.OK, describe(result)
    assert result.stdout.text == "done\n"


def test_syntax_error_has_a_traceback(bare: Driver) -> None:
    result = bare.run("print('fine')\ndef broken(:\n    pass\n")
    assert result.status is RunStatus.ERROR, describe(result)
    assert result.exit_code == 1
    assert result.traceback is not None and "SyntaxError" in result.traceback
    assert "main.py" in result.traceback and "line 2" in result.traceback
    assert result.stdout.text == "", "nothing of a file that does not compile may run"


def test_exception_has_the_agent_traceback(bare: Driver) -> None:
    code = "def inner():\n    raise ValueError('the agent broke it')\n\ndef outer():\n    inner()\n\nouter()\n"
    result = bare.run(code)
    assert result.status is RunStatus.ERROR, describe(result)
    assert result.exit_code == 1
    assert result.traceback is not None
    assert result.traceback.rstrip().endswith("ValueError: the agent broke it")
    assert 'File "main.py", line 2, in inner' in result.traceback
    assert "outer()" in result.traceback or "line 7" in result.traceback
    assert "_zygote" not in result.traceback, "the sandbox's own frames leak into the traceback"
    assert "ValueError: the agent broke it" in result.stderr.text


@pytest.mark.parametrize("char", ["\u00e9", "\U0001f600"])
def test_a_long_traceback_of_escaped_text_is_kept_not_taken_for_a_flood(bare: Driver, char: str) -> None:
    # JSON writes each of these as 6 or 12 bytes: 20,000 of them are well over a report's cap
    result = bare.run(f"raise ValueError({char!r} * 20000)\n")
    assert result.status is RunStatus.ERROR and result.exit_code == 1, describe(result)
    assert result.traceback is not None and result.traceback.endswith(char * 100 + "\n"), describe(result)
    assert len(result.traceback.encode()) <= 64 * 1024


def test_memory_error_raised_by_code_is_memory(bare: Driver) -> None:
    result = bare.run("raise MemoryError()\n")
    assert result.status is RunStatus.MEMORY, describe(result)


FILES = """
import os
os.makedirs("sub/deep")
with open("out.csv", "w") as f:
    f.write("a,b\\n1,2\\n")
with open("sub/deep/blob.bin", "wb") as f:
    f.write(os.urandom(1000))
with open("input.txt", "a") as f:
    f.write("more")
print(sorted(os.listdir(".")))
"""


def test_files_are_reported_and_land_on_the_host(bare: Driver) -> None:
    host = bare.pool.workdir("files")
    (host / "input.txt").write_text("data")
    (host / "untouched.txt").write_text("same")
    if os.geteuid() == 0:
        os.chown(host / "input.txt", JAIL_UID, JAIL_UID)  # the jail user may change its inputs
    result = bare.run(FILES, workdir="files")
    assert result.status is RunStatus.OK, describe(result)
    assert result.stdout.text == "['input.txt', 'out.csv', 'sub', 'untouched.txt']\n"
    assert set(result.files) == {
        FileChange("out.csv", 8, created=True),
        FileChange("sub/deep/blob.bin", 1000, created=True),
        FileChange("input.txt", 8, created=False),
    }
    assert (host / "out.csv").read_text() == "a,b\n1,2\n"
    assert (host / "input.txt").read_text() == "datamore"
    assert (host / "sub" / "deep" / "blob.bin").stat().st_size == 1000


@pytest.mark.root
def test_files_written_in_the_jail_are_owned_by_the_jail_user(bare: Driver) -> None:
    host = bare.pool.workdir("owner")
    result = bare.run("import os\nos.mkdir('d')\nopen('d/f.txt', 'w').write('x')\nprint(os.getuid())\n",
                      workdir="owner")
    assert result.status is RunStatus.OK, describe(result)
    for path in (host / "d", host / "d" / "f.txt"):
        st = path.stat()
        assert (st.st_uid, st.st_gid) == (JAIL_UID, JAIL_UID), f"{path} is owned by {st.st_uid}:{st.st_gid}"
    assert host.stat().st_uid == JAIL_UID
