"""The seccomp filter: what the default policy refuses, what it lets through, and its program.

Two kinds of test.  The compiled programs of both arches run here in a small
classic-BPF interpreter, for every syscall of the tables.  And the program
of this machine is installed (with ``sandbox._zygote.install_seccomp``) in a
subprocess that tries real syscalls, each in a forked child of its own, and
prints what happened as JSON; the same probes run without the filter too, to
show that the filter is what refuses them.
"""

from __future__ import annotations

import errno
import json
import os
import struct
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import attrs
import pytest

from sandbox import ConfigError
from sandbox._seccomp import SeccompPolicy
from sandbox._syscalls import AARCH64, AUDIT_ARCH, X86_64

ROOT = Path(__file__).resolve().parents[2]
ARCHES = ["x86_64", "aarch64"]
TABLES = {"x86_64": X86_64, "aarch64": AARCH64}
HOST_ARCH = os.uname().machine

ALLOW = 0x7FFF0000
EPERM = 0x00050000 | errno.EPERM
ENOSYS = 0x00050000 | errno.ENOSYS
AUDIT_ARCH_I386 = 0x40000003

CLONE_NAMESPACE_FLAGS = {
    "CLONE_NEWNS": 0x20000, "CLONE_NEWCGROUP": 0x02000000, "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000, "CLONE_NEWUSER": 0x10000000, "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
}
CLONE_NEWTIME = 0x80
SIGCHLD = 17
# what glibc's pthread_create passes to clone: VM FS FILES SIGHAND THREAD SYSVSEM SETTLS PARENT_SETTID CHILD_CLEARTID
PTHREAD_CLONE_FLAGS = 0x3D0F00

# Refused by Docker's default seccomp profile to a container without capabilities
# (moby/profiles seccomp/default.json, 2026): every name of our two tables that the
# profile does not allow, on amd64 or arm64, at least for some arguments.
DOCKER_REFUSED = {
    "_sysctl", "acct", "add_key", "afs_syscall", "bpf", "chroot", "clock_settime", "clone3", "create_module",
    "delete_module", "fanotify_init", "file_getattr", "file_setattr", "finit_module", "fsconfig", "fsmount",
    "fsopen", "fspick", "get_kernel_syms", "get_mempolicy", "getpmsg", "init_module", "io_uring_enter",
    "io_uring_register", "io_uring_setup", "ioperm", "iopl", "kcmp", "kexec_file_load", "kexec_load", "keyctl",
    "lookup_dcookie", "lsm_get_self_attr", "lsm_list_modules", "lsm_set_self_attr", "mbind", "migrate_pages",
    "mount", "mount_setattr", "move_mount", "move_pages", "nfsservctl", "open_by_handle_at", "open_tree",
    "open_tree_attr", "perf_event_open", "pidfd_getfd", "pivot_root", "process_madvise", "putpmsg", "query_module",
    "quotactl", "quotactl_fd", "reboot", "request_key", "security", "set_mempolicy", "set_mempolicy_home_node",
    "setdomainname", "sethostname", "setns", "settimeofday", "swapoff", "swapon", "sysfs", "syslog", "tuxcall",
    "umount2", "unshare", "uprobe", "uselib", "userfaultfd", "ustat", "vhangup", "vserver",
}
ARGUMENT_CHECKED = {"clone", "unshare", "socket", "socketpair", "personality"}


# ---------------------------------------------------------------- a classic BPF interpreter


@attrs.frozen
class Verdict:
    action: int
    loaded_args: bool  # whether the program read an argument to decide


def run_filter(program: bytes, nr: int, *args: int, arch: int | None = None, on: str = "x86_64") -> Verdict:
    """What ``program`` returns for one syscall; seccomp_data is packed as the kernel does."""
    arch = AUDIT_ARCH[on] if arch is None else arch
    padded = (list(args) + [0] * 6)[:6]
    data = struct.pack("<iIQ6Q", nr, arch, 0x400000, *padded)
    pc, acc, loaded_args = 0, 0, False
    while True:
        code, jt, jf, k = struct.unpack_from("<HBBI", program, pc * 8)
        if code == 0x20:  # ld [k]
            assert k % 4 == 0 and k + 4 <= len(data), f"load at {k}"
            acc = struct.unpack_from("<I", data, k)[0]
            loaded_args |= k >= 16
            pc += 1
        elif code == 0x06:  # ret k
            return Verdict(k, loaded_args)
        elif code in JUMPS:
            pc += 1 + (jt if JUMPS[code](acc, k) else jf)
        else:
            raise AssertionError(f"opcode {code:#x} at {pc}")


JUMPS = {
    0x15: lambda a, k: a == k,
    0x25: lambda a, k: a > k,
    0x35: lambda a, k: a >= k,
    0x45: lambda a, k: a & k != 0,
}


@cache
def program(arch: str, policy: SeccompPolicy | None = None) -> bytes:
    return (policy or SeccompPolicy.default()).compile(arch)


def verdict(arch: str, name: str, *args: int, policy: SeccompPolicy | None = None) -> int:
    return run_filter(program(arch, policy), TABLES[arch][name], *args, on=arch).action


# ---------------------------------------------------------------- the program, by interpretation


@pytest.mark.parametrize("arch", ARCHES)
def test_program_fits_the_kernel_and_every_jump_lands_inside(arch: str) -> None:
    code = program(arch)
    assert len(code) % 8 == 0
    count = len(code) // 8
    assert 20 < count < 4096
    for index in range(count):
        op, jt, jf, k = struct.unpack_from("<HBBI", code, index * 8)
        assert op in (0x20, 0x06, *JUMPS), f"unexpected opcode {op:#x} at {index}"
        if op in JUMPS:
            assert index + 1 + max(jt, jf) < count, f"jump out of the program at {index}"
        if op == 0x20:
            assert k in (0, 4) or (k >= 16 and (k - 16) % 8 == 0), f"load of offset {k} at {index}"
    assert struct.unpack_from("<HBBI", code, len(code) - 8) == (0x06, 0, 0, ALLOW)


@pytest.mark.parametrize("arch", ARCHES)
def test_every_denied_syscall_gets_eperm(arch: str) -> None:
    denied = SeccompPolicy.default().denied
    present = sorted(name for name in denied if name in TABLES[arch])
    assert len(present) > 60
    assert {name: verdict(arch, name) for name in present} == dict.fromkeys(present, EPERM)


@pytest.mark.parametrize("arch", ARCHES)
def test_every_other_syscall_of_the_table_is_allowed_without_reading_arguments(arch: str) -> None:
    policy = SeccompPolicy.default()
    others = sorted(set(TABLES[arch]) - policy.denied - policy.enosys - ARGUMENT_CHECKED)
    assert {"read", "futex", "mmap", "openat", "execve", "wait4", "seccomp", "rseq", "io_setup"} <= set(others)
    # No argument read: the kernel's seccomp cache can then skip the filter for them.
    verdicts = {name: run_filter(program(arch), TABLES[arch][name], on=arch) for name in others}
    assert verdicts == dict.fromkeys(others, Verdict(ALLOW, loaded_args=False))


@pytest.mark.parametrize("arch", ARCHES)
def test_clone3_and_numbers_above_the_table_get_enosys(arch: str) -> None:
    assert verdict(arch, "clone3") == ENOSYS
    top = max(TABLES[arch].values())
    assert top == 469
    assert run_filter(program(arch), TABLES[arch]["futex_wait"], on=arch).action == ALLOW  # 455: in the table
    for nr in (top + 1, top + 2, 500, 1000, 0x3FFFFFFF):
        assert run_filter(program(arch), nr, on=arch).action == ENOSYS, nr


def test_x32_numbers_get_eperm() -> None:
    for nr in (0x40000000, 0x40000000 | 39, 0x40000000 | X86_64["mount"], 0x40000000 + 547):
        assert run_filter(program("x86_64"), nr).action == EPERM, hex(nr)
    # aarch64 has no x32: the same numbers are just too new there
    assert run_filter(program("aarch64"), 0x40000000 | 39, on="aarch64").action == ENOSYS


@pytest.mark.parametrize("arch", ARCHES)
def test_a_foreign_arch_gets_eperm(arch: str) -> None:
    other = "aarch64" if arch == "x86_64" else "x86_64"
    for foreign in (AUDIT_ARCH_I386, AUDIT_ARCH[other], 0):
        for name in ("getpid", "read", "clone3"):
            assert run_filter(program(arch), TABLES[arch][name], arch=foreign).action == EPERM


@pytest.mark.parametrize("arch", ARCHES)
def test_clone_is_checked_by_its_namespace_flags(arch: str) -> None:
    for name, flag in CLONE_NAMESPACE_FLAGS.items():
        assert verdict(arch, "clone", flag | SIGCHLD) == EPERM, name
        assert verdict(arch, "unshare", flag) == EPERM, name
    assert verdict(arch, "unshare", CLONE_NEWTIME) == EPERM
    assert verdict(arch, "clone", SIGCHLD) == ALLOW
    assert verdict(arch, "clone", PTHREAD_CLONE_FLAGS) == ALLOW
    assert verdict(arch, "clone", 0x4000 | 0x100 | SIGCHLD) == ALLOW  # CLONE_VFORK | CLONE_VM: posix_spawn
    assert verdict(arch, "unshare", 0x400 | 0x200) == ALLOW  # CLONE_FILES | CLONE_FS
    # high bits do not hide a flag: the kernel reads the low 32 bits only
    assert verdict(arch, "clone", (1 << 40) | CLONE_NAMESPACE_FLAGS["CLONE_NEWUSER"]) == EPERM


@pytest.mark.parametrize("arch", ARCHES)
def test_socket_families_and_netlink_protocols(arch: str) -> None:
    sock_stream, sock_raw, sock_dgram = 1, 3, 2
    for family in (1, 2, 10):
        assert verdict(arch, "socket", family, sock_stream, 0) == ALLOW, family
    assert verdict(arch, "socket", 16, sock_raw, 0) == ALLOW  # NETLINK_ROUTE
    assert verdict(arch, "socket", 16, sock_dgram | 0x80000, 0) == ALLOW  # with SOCK_CLOEXEC
    for protocol in (4, 9, 12, 15, 16, 0xFFFFFFFF):  # sock_diag, audit, netfilter, kobject_uevent, generic
        assert verdict(arch, "socket", 16, sock_raw, protocol) == EPERM, protocol
    for family in (0, 3, 4, 5, 15, 17, 29, 31, 38, 40, 44, 45, 46, 0xFFFFFFFF):
        # AF_UNSPEC, AX25, IPX, APPLETALK, KEY, PACKET, CAN, BLUETOOTH, ALG, VSOCK, XDP, MCTP, max
        assert verdict(arch, "socket", family, sock_raw, 0) == EPERM, family
    assert verdict(arch, "socketpair", 1, sock_stream, 0) == ALLOW
    for family in (2, 10, 16, 40):
        assert verdict(arch, "socketpair", family, sock_stream, 0) == EPERM, family


@pytest.mark.parametrize("arch", ARCHES)
def test_personality_takes_only_dockers_values(arch: str) -> None:
    for persona in (0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF):
        assert verdict(arch, "personality", persona) == ALLOW, hex(persona)
    for persona in (0x0040000, 0x0400000, 0x1, 0x20, 0x0200000, 0x8000000):
        # ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, other execution domains, ADDR_LIMIT_32BIT, ...
        assert verdict(arch, "personality", persona) == EPERM, hex(persona)


@pytest.mark.parametrize("arch", ARCHES)
def test_docker_refusals_are_all_refused(arch: str) -> None:
    policy = SeccompPolicy.default()
    assert DOCKER_REFUSED - {"unshare"} <= policy.denied | policy.enosys
    for name in sorted(DOCKER_REFUSED & set(TABLES[arch])):
        args = (CLONE_NAMESPACE_FLAGS["CLONE_NEWUSER"],) if name == "unshare" else ()
        assert verdict(arch, name, *args) != ALLOW, name


def test_allowing_and_denying_move_names_between_sets() -> None:
    policy = SeccompPolicy.default().allowing("ptrace", "bpf")
    assert not {"ptrace", "bpf"} & policy.denied
    for arch in ARCHES:
        assert verdict(arch, "ptrace", policy=policy) == ALLOW
        assert verdict(arch, "mount", policy=policy) == EPERM
    stricter = SeccompPolicy.default().denying("clone3", "memfd_create", "vm86")
    assert "clone3" in stricter.denied and "clone3" not in stricter.enosys
    for arch in ARCHES:
        assert verdict(arch, "clone3", policy=stricter) == EPERM
        assert verdict(arch, "memfd_create", policy=stricter) == EPERM
    assert SeccompPolicy.default().denying("socket").allowing("socket") == SeccompPolicy.default()


def test_namespaces_can_be_let_through() -> None:
    policy = attrs.evolve(SeccompPolicy.default(), deny_namespaces=False)
    for arch in ARCHES:
        assert verdict(arch, "unshare", CLONE_NAMESPACE_FLAGS["CLONE_NEWUSER"], policy=policy) == ALLOW
        assert verdict(arch, "clone", CLONE_NAMESPACE_FLAGS["CLONE_NEWNET"], policy=policy) == ALLOW
        assert verdict(arch, "setns", policy=policy) == EPERM  # still in the denied set
    assert len(program("x86_64", policy)) < len(program("x86_64"))


@pytest.mark.parametrize("make", [
    lambda: SeccompPolicy.default().allowing("mountt"),
    lambda: SeccompPolicy.default().denying("ptrace", "not_a_syscall"),
    lambda: SeccompPolicy(denied={"fork", "sys_fork"}),
    lambda: SeccompPolicy(enosys={"clone2"}),
    lambda: SeccompPolicy(denied="ptrace"),  # a string, not a set of names
    lambda: SeccompPolicy(denied={"ptrace"}, enosys={"ptrace", "clone3"}),
    lambda: SeccompPolicy.default().allowing("clone3"),  # its namespace flags could not be checked
    lambda: SeccompPolicy(socket_families={-1}),
    lambda: SeccompPolicy(personalities={1 << 32}),
    lambda: SeccompPolicy(netlink_protocols={True}),
    lambda: SeccompPolicy.default().compile("riscv64"),
    lambda: SeccompPolicy.default().compile("i686"),
])
def test_bad_input_is_a_config_error(make: Any) -> None:
    with pytest.raises(ConfigError):
        make()


def test_names_of_one_arch_only_are_skipped_on_the_other() -> None:
    policy = SeccompPolicy.default()
    assert {"iopl", "_sysctl", "vserver"} <= policy.denied and "iopl" not in AARCH64
    assert {"vm86", "vm86old"} <= policy.denied  # i386 only: the arch check refuses those
    for arch in ARCHES:
        policy.compile(arch)
    # x86_64 only, allowed anyway: the check must not treat its number as another name
    assert verdict("x86_64", "arch_prctl") == ALLOW


def test_the_default_arch_is_this_machine() -> None:
    if HOST_ARCH not in ARCHES:
        pytest.skip(f"no seccomp support for {HOST_ARCH}")
    assert SeccompPolicy.default().compile() == SeccompPolicy.default().compile(HOST_ARCH)


def test_policy_is_a_frozen_value_and_describes_itself() -> None:
    policy = SeccompPolicy.default()
    assert policy == SeccompPolicy() and hash(policy) == hash(SeccompPolicy())
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        policy.deny_namespaces = False  # type: ignore[misc]
    data = policy.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["enosys"] == ["clone3"] and "mount" in data["denied"] and data["deny_namespaces"] is True
    text = policy.describe()
    assert "clone3" in text and "perf_event_open" in text and "0xffffffff" in text


# ---------------------------------------------------------------- the filter, installed


PROBE = r'''
import ctypes, errno, json, mmap, multiprocessing, os, signal, socket, subprocess, sys, threading, time
import sandbox._zygote as zygote

config = json.loads(sys.argv[1])
NR = config["nr"]
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
NOWHERE = b"/nonexistent/seccomp-probe"


class Iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


def sc(nr, *args):
    """A raw syscall: its value, or OSError."""
    nr = NR[nr] if isinstance(nr, str) else nr
    args = [ctypes.c_long(a) if isinstance(a, int) else a for a in args]
    ret = libc.syscall(ctypes.c_long(nr), *args)
    if ret == -1:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return ret


def raw_clone(flags):
    # fork-like: no new stack, the child returns here (the argument order differs per arch, all are 0)
    pid = sc("clone", flags | signal.SIGCHLD, 0, 0, 0, 0)
    if pid == 0:
        os._exit(0)
    return os.waitpid(pid, 0)[1]


def ptrace_attach():
    pid = os.fork()
    if pid == 0:
        signal.pause()
        os._exit(0)
    try:
        return sc("ptrace", 16, pid, 0, 0)  # PTRACE_ATTACH
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def process_vm_readv():
    secret, copy = ctypes.create_string_buffer(b"secret"), ctypes.create_string_buffer(8)
    local, remote = Iovec(ctypes.addressof(copy), 6), Iovec(ctypes.addressof(secret), 6)
    sc("process_vm_readv", os.getpid(), ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    return copy.value.decode()


def new_socket(family, kind, protocol=0):
    socket.socket(family, kind, protocol).close()


def i386_getpid():
    # mov eax, 20 (getpid in the i386 table); int 0x80; ret
    page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    page.write(b"\xb8\x14\x00\x00\x00\xcd\x80\xc3")
    ret = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(page)))()
    if ret < 0:
        raise OSError(-ret, os.strerror(-ret))
    return ret == os.getpid()


def files():
    with open("probe.txt", "w") as f:
        f.write("data")
    os.rename("probe.txt", "probe2.txt")
    with open("probe2.txt") as f:
        text = f.read()
    os.unlink("probe2.txt")
    return [text, sorted(os.listdir("."))]


def pipes():
    r, w = os.pipe()
    os.write(w, b"through")
    return os.read(r, 100).decode()


def threads():
    seen = []
    workers = [threading.Thread(target=seen.append, args=(i,)) for i in range(4)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return sorted(seen)


def fork():
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def posix_spawn():
    pid = os.posix_spawn("/bin/sh", ["sh", "-c", "exit 3"], {})
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def multiprocessing_(method):
    context = multiprocessing.get_context(method)
    queue = context.Queue()
    # a bound method of the queue: a function of this script would not pickle under spawn
    process = context.Process(target=queue.put, args=(method,))
    process.start()
    got = queue.get(timeout=20)
    process.join()
    return [process.exitcode, got]


def unix_sockets():
    a, b = socket.socketpair()
    a.sendall(b"unix")
    return b.recv(10).decode()


def inet_sockets():
    server = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(server.getsockname())
    peer, _ = server.accept()
    client.sendall(b"tcp")
    socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).close()
    return peer.recv(10).decode()


def mmaps():
    anon = mmap.mmap(-1, 1 << 20)
    anon[:5] = b"hello"
    with open("mapped.bin", "wb") as f:
        f.write(b"x" * 4096)
    with open("mapped.bin", "r+b") as f:
        shared = mmap.mmap(f.fileno(), 4096)
        shared[0:1] = b"y"
        shared.flush()
    os.unlink("mapped.bin")
    return anon[:5].decode()


def signals():
    seen = []
    signal.signal(signal.SIGUSR1, lambda *_: seen.append("usr1"))
    os.kill(os.getpid(), signal.SIGUSR1)
    signal.setitimer(signal.ITIMER_REAL, 0.01)
    signal.signal(signal.SIGALRM, lambda *_: seen.append("alarm"))
    time.sleep(0.2)
    return seen


PROBES = {
    # refused
    "mount": lambda: sc("mount", b"none", NOWHERE, b"tmpfs", 0, 0),
    "umount2": lambda: sc("umount2", NOWHERE, 0),
    "chroot": lambda: sc("chroot", NOWHERE),
    "pivot_root": lambda: sc("pivot_root", NOWHERE, NOWHERE),
    "fsopen": lambda: sc("fsopen", b"no_such_fs", 0),
    "open_tree": lambda: sc("open_tree", -100, NOWHERE, 0),
    "move_mount": lambda: sc("move_mount", -100, NOWHERE, -100, NOWHERE, 0),
    "unshare_newuser": lambda: sc("unshare", 0x10000000),
    "unshare_newnet": lambda: sc("unshare", 0x40000000),
    "unshare_newtime": lambda: sc("unshare", 0x80),
    "clone_newuser": lambda: raw_clone(0x10000000),
    "setns": lambda: sc("setns", os.open("/proc/self/ns/uts", os.O_RDONLY), 0x04000000),
    "add_key": lambda: sc("add_key", b"user", b"probe", b"value", 5, -2),  # KEY_SPEC_PROCESS_KEYRING
    "keyctl": lambda: sc("keyctl", 0, -2, 1),  # KEYCTL_GET_KEYRING_ID, process keyring, create
    "request_key": lambda: sc("request_key", b"user", b"no-such-key", 0, 0),
    "bpf": lambda: sc("bpf", 0, 0, 0),  # BPF_MAP_CREATE with no attributes
    "perf_event_open": lambda: sc("perf_event_open", 0, 0, -1, -1, 0),
    "userfaultfd": lambda: sc("userfaultfd", 1),  # UFFD_USER_MODE_ONLY
    "io_uring_setup": lambda: sc("io_uring_setup", 1, 0),
    "ptrace_traceme": lambda: sc("ptrace", 0, 0, 0, 0),
    "ptrace_attach": ptrace_attach,
    "process_vm_readv": process_vm_readv,
    "kcmp": lambda: sc("kcmp", os.getpid(), os.getpid(), 1, 0, 0),  # KCMP_VM
    "pidfd_getfd": lambda: sc("pidfd_getfd", os.pidfd_open(os.getpid()), 0, 0),
    "socket_vsock": lambda: new_socket(40, socket.SOCK_STREAM),
    "socket_packet": lambda: new_socket(socket.AF_PACKET, socket.SOCK_RAW),
    "socket_alg": lambda: new_socket(38, socket.SOCK_SEQPACKET),
    "netlink_netfilter": lambda: new_socket(socket.AF_NETLINK, socket.SOCK_RAW, 12),
    "socketpair_inet": lambda: socket.socketpair(socket.AF_INET),
    "personality_no_aslr": lambda: sc("personality", 0x0040000),
    "sethostname": lambda: sc("sethostname", 0, 100000),  # a length no kernel takes
    "clock_settime": lambda: sc("clock_settime", -1, 0),
    "x32_getpid": lambda: sc(0x40000000 | 39),
    "i386_getpid": i386_getpid,
    # as on an older kernel
    "clone3": lambda: sc("clone3", 0, 0),
    "above_the_table": lambda: sc(config["above"]),
    # allowed
    "files": files,
    "pipes": pipes,
    "threads": threads,
    "fork": fork,
    "clone_plain": lambda: raw_clone(0),
    "unshare_files": lambda: sc("unshare", 0x400),  # CLONE_FILES
    "subprocess": lambda: subprocess.run(["/bin/sh", "-c", "echo spawned"], capture_output=True).stdout.decode(),
    "posix_spawn": posix_spawn,
    "multiprocessing_fork": lambda: multiprocessing_("fork"),
    "multiprocessing_spawn": lambda: multiprocessing_("spawn"),
    "unix_sockets": unix_sockets,
    "inet_sockets": inet_sockets,
    "netlink_route": lambda: new_socket(socket.AF_NETLINK, socket.SOCK_RAW, 0),
    "getaddrinfo": lambda: sorted({info[4][0] for info in socket.getaddrinfo("localhost", 80)}),
    "if_nameindex": lambda: [name for _, name in socket.if_nameindex()],
    "mmap": mmaps,
    "signals": signals,
    "personality_query": lambda: sc("personality", 0xFFFFFFFF),
}


def run_in_child(probe):
    """Run one probe in a forked child: what it returned or which errno it raised, and how the child ended."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            report = {"result": "ok", "value": probe()}
        except OSError as exc:
            report = {"result": errno.errorcode.get(exc.errno, str(exc.errno))}
        except BaseException as exc:
            report = {"result": "exception", "value": repr(exc)}
        os.write(w, json.dumps(report, default=repr).encode())
        os._exit(0)
    os.close(w)
    chunks = []
    while True:
        chunk = os.read(r, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    status = os.waitpid(pid, 0)[1]
    report = json.loads(b"".join(chunks)) if chunks else {"result": "no report"}
    report["status"] = status
    return report


if __name__ == "__main__":
    if config["program"]:
        zygote.install_seccomp(bytes.fromhex(config["program"]))
    # a refused call in this very process: it gets an errno and goes on
    try:
        sc("mount", b"none", NOWHERE, b"tmpfs", 0, 0)
        direct = "ok"
    except OSError as exc:
        direct = errno.errorcode[exc.errno]
    with open("/proc/self/status") as status:
        seccomp = [line.split()[1] for line in status if line.startswith("Seccomp:")][0]
    reports = {name: run_in_child(PROBES[name]) for name in config["probes"]}
    print(json.dumps({"direct_mount": direct, "seccomp_mode": seccomp, "probes": reports}))
'''

DENIED_PROBES = [
    "mount", "umount2", "chroot", "pivot_root", "fsopen", "open_tree", "move_mount", "unshare_newuser",
    "unshare_newnet", "unshare_newtime", "clone_newuser", "setns", "add_key", "keyctl", "request_key", "bpf",
    "perf_event_open", "userfaultfd", "io_uring_setup", "ptrace_traceme", "ptrace_attach", "process_vm_readv",
    "kcmp", "pidfd_getfd", "socket_vsock", "socket_packet", "socket_alg", "netlink_netfilter", "socketpair_inet",
    "personality_no_aslr", "sethostname", "clock_settime", "x32_getpid", "i386_getpid",
]
ENOSYS_PROBES = ["clone3", "above_the_table"]
ALLOWED_PROBES = {
    "files": ["data", []], "pipes": "through", "threads": [0, 1, 2, 3], "fork": 7, "clone_plain": 0,
    "unshare_files": 0, "subprocess": "spawned\n", "posix_spawn": 3, "multiprocessing_fork": [0, "fork"],
    "multiprocessing_spawn": [0, "spawn"], "unix_sockets": "unix", "inet_sockets": "tcp", "netlink_route": None,
    "mmap": "hello", "signals": ["usr1", "alarm"], "personality_query": 0,
}
# Unfiltered, these succeed (or fail with an errno other than EPERM) only with privileges...
NEEDS_ROOT = {"pivot_root", "fsopen", "move_mount", "unshare_newnet", "unshare_newtime", "setns", "socket_packet",
              "sethostname", "bpf"}
# ... and these without root only where the host lets users make user namespaces.
USER_NAMESPACES = {"unshare_newuser", "clone_newuser"}
X86_ONLY = {"x32_getpid", "i386_getpid"}

needs_x86_64 = pytest.mark.skipif(HOST_ARCH != "x86_64", reason="x86_64 only")
needs_filterable_host = pytest.mark.skipif(HOST_ARCH not in ARCHES, reason=f"no seccomp tables for {HOST_ARCH}")


def run_probes(policy: SeccompPolicy | None, probes: list[str], tmp: Path) -> dict[str, Any]:
    """Run ``probes`` in a fresh interpreter, under ``policy`` (None: no filter)."""
    config = {
        "program": policy.compile().hex() if policy else "",
        "nr": TABLES[HOST_ARCH],
        "above": max(TABLES[HOST_ARCH].values()) + 1,
        "probes": [p for p in probes if HOST_ARCH == "x86_64" or p not in X86_ONLY],
    }
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(config)], cwd=tmp, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"probe process failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    report["stderr"] = done.stderr
    return report


ALL_PROBES = [*DENIED_PROBES, *ENOSYS_PROBES, *ALLOWED_PROBES, "getaddrinfo", "if_nameindex"]


@pytest.fixture(scope="module")
def filtered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    yield run_probes(SeccompPolicy.default(), ALL_PROBES, tmp_path_factory.mktemp("filtered"))


@pytest.fixture(scope="module")
def unfiltered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    yield run_probes(None, DENIED_PROBES + ENOSYS_PROBES, tmp_path_factory.mktemp("unfiltered"))


def probe(report: dict[str, Any], name: str) -> dict[str, Any]:
    if HOST_ARCH != "x86_64" and name in X86_ONLY:
        pytest.skip("x86_64 only")
    result: dict[str, Any] = report["probes"][name]
    return result


@needs_filterable_host
@pytest.mark.parametrize("name", DENIED_PROBES)
def test_the_filter_refuses_with_eperm(filtered: dict[str, Any], name: str) -> None:
    report = probe(filtered, name)
    assert report == {"result": "EPERM", "status": 0}, report


@needs_filterable_host
@pytest.mark.parametrize("name", DENIED_PROBES + ENOSYS_PROBES)
def test_without_the_filter_the_probe_is_not_refused_with_eperm(unfiltered: dict[str, Any], name: str) -> None:
    """The control: these probes fail under the filter because of the filter."""
    if name in NEEDS_ROOT and os.geteuid() != 0:
        pytest.skip("refused without root anyway")
    report = probe(unfiltered, name)
    skip_if_the_host_refuses_user_namespaces(name, report)
    if name == "i386_getpid" and report["status"] != 0:
        pytest.skip(f"no ia32 emulation on this kernel: {report}")
    assert report["status"] == 0 and report["result"] not in ("EPERM", "exception", "no report"), report
    assert unfiltered["direct_mount"] != "EPERM" or os.geteuid() != 0
    assert unfiltered["seccomp_mode"] == "0"


def skip_if_the_host_refuses_user_namespaces(name: str, report: dict[str, Any]) -> None:
    if name in USER_NAMESPACES and os.geteuid() != 0 and report["result"] in ("EPERM", "ENOSPC"):
        pytest.skip(f"this host refuses user namespaces to users: {report}")


@needs_filterable_host
@pytest.mark.parametrize("name", sorted(USER_NAMESPACES))
def test_unfiltered_a_process_makes_a_user_namespace(unfiltered: dict[str, Any], name: str) -> None:
    """The sharpest control: a user namespace, the first step of many escapes, is made without the filter."""
    report = probe(unfiltered, name)
    skip_if_the_host_refuses_user_namespaces(name, report)
    assert report == {"result": "ok", "value": 0, "status": 0}


@needs_filterable_host
@pytest.mark.parametrize("name", ENOSYS_PROBES)
def test_clone3_and_too_new_syscalls_get_enosys(filtered: dict[str, Any], name: str) -> None:
    assert probe(filtered, name) == {"result": "ENOSYS", "status": 0}


@needs_filterable_host
@pytest.mark.parametrize("name", list(ALLOWED_PROBES))
def test_allowed_things_still_work(filtered: dict[str, Any], name: str) -> None:
    report = probe(filtered, name)
    assert report["result"] == "ok" and report["status"] == 0, report
    if name == "files":
        assert report["value"][0] == "data"
    elif name != "personality_query":
        assert report["value"] == ALLOWED_PROBES[name], report


@needs_filterable_host
def test_name_resolution_and_interfaces_work(filtered: dict[str, Any]) -> None:
    """glibc asks netlink (NETLINK_ROUTE) for addresses and interfaces."""
    resolved, interfaces = probe(filtered, "getaddrinfo"), probe(filtered, "if_nameindex")
    assert resolved["result"] == "ok" and "127.0.0.1" in resolved["value"], resolved
    assert interfaces["result"] == "ok" and "lo" in interfaces["value"], interfaces


@needs_filterable_host
def test_a_refused_call_does_not_kill_the_process(filtered: dict[str, Any]) -> None:
    assert filtered["seccomp_mode"] == "2"  # SECCOMP_MODE_FILTER
    assert filtered["direct_mount"] == "EPERM"
    statuses = {name: report["status"] for name, report in filtered["probes"].items()}
    assert statuses == dict.fromkeys(statuses, 0)


@needs_filterable_host
def test_allowing_ptrace_really_allows_it(tmp_path: Path) -> None:
    report = run_probes(SeccompPolicy.default().allowing("ptrace"), ["ptrace_traceme", "ptrace_attach", "mount"],
                        tmp_path)
    assert report["probes"]["ptrace_traceme"] == {"result": "ok", "value": 0, "status": 0}
    assert report["probes"]["ptrace_attach"] == {"result": "ok", "value": 0, "status": 0}
    assert report["probes"]["mount"] == {"result": "EPERM", "status": 0}


ML_JOB = r'''
import ctypes, errno, json, sys
import sandbox._zygote as zygote

zygote.install_seccomp(bytes.fromhex(sys.argv[1]))
libc = ctypes.CDLL(None, use_errno=True)
refused = libc.unshare(0x10000000) == -1 and ctypes.get_errno() == errno.EPERM

import numpy as np, pandas as pd, torch, lightgbm as lgb
from sklearn.linear_model import LogisticRegression

rng = np.random.default_rng(0)
X = rng.normal(size=(600, 8))
y = (X[:, 0] + X[:, 1] > 0).astype(int)
frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(8)])
sk_accuracy = float(LogisticRegression().fit(frame[:400], y[:400]).score(frame[400:], y[400:]))
booster = lgb.LGBMClassifier(n_estimators=30, num_leaves=7, n_jobs=2, verbose=-1).fit(frame[:400], y[:400])
lgb_accuracy = float((booster.predict(frame[400:]) == y[400:]).mean())

torch.set_num_threads(2)
a = torch.randn(512, 512)
product = float((a @ a).norm())
w = torch.ones(3, requires_grad=True)
(w * torch.tensor([1.0, 2.0, 3.0])).pow(2).sum().backward()
dataset = torch.utils.data.TensorDataset(torch.arange(8.0))
batches = [b[0].tolist() for b in torch.utils.data.DataLoader(dataset, batch_size=4, num_workers=1)]
print(json.dumps({"refused": refused, "sk": sk_accuracy, "lgb": lgb_accuracy, "product": product,
                  "grad": w.grad.tolist(), "threads": torch.get_num_threads(), "batches": batches}))
'''


@needs_filterable_host
def test_the_ml_stack_works_under_the_filter(tmp_path: Path) -> None:
    """Everything is imported after the filter is in: import-time syscalls count too."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "2"}
    done = subprocess.run([sys.executable, "-c", ML_JOB, SeccompPolicy.default().compile().hex()], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, f"ML job failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["refused"], "the filter was not in place"
    assert report["sk"] > 0.9 and report["lgb"] > 0.85, report
    assert report["product"] > 0 and report["threads"] == 2
    assert report["grad"] == [2.0, 8.0, 18.0]
    assert report["batches"] == [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0]]
