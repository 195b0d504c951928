"""The syscall filter of a run: a policy, and its compiler to classic BPF.

The controller compiles a :class:`SeccompPolicy` once per pool; the zygote
installs the bytes (``_zygote.install_seccomp``) in each run's process right
before agent code runs.  Pure Python: no libseccomp on the host.
"""

from __future__ import annotations

import errno
import os
import struct
from collections.abc import Iterable
from typing import Any

import attrs

from ._errors import ConfigError
from ._syscalls import AARCH64, AUDIT_ARCH, X86_64

TABLES: dict[str, dict[str, int]] = {"x86_64": X86_64, "aarch64": AARCH64}

# Only in the i386 table, whose calls the arch check refuses whole; named so
# that the default denied set reads as a superset of Docker's.
_I386_ONLY = frozenset({"vm86", "vm86old"})
_KNOWN = frozenset(X86_64) | frozenset(AARCH64) | _I386_ONLY

DEFAULT_DENIED = frozenset({
    # mounts, old API and new: the sandbox alone decides what a run sees
    "mount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount", "fspick", "open_tree",
    "open_tree_attr", "move_mount", "mount_setattr", "listmount", "statmount",
    # namespaces (clone and unshare are checked by their flags instead)
    "setns",
    # the kernel keyring is not namespaced
    "add_key", "keyctl", "request_key",
    # a large kernel attack surface that Python code does not need
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
    # other processes' memory, files and state
    "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "kcmp", "pidfd_getfd",
    # the kernel itself
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "create_module",
    "get_kernel_syms", "query_module",
    # the machine: power, swap, accounting, logs, ttys, names, clocks, I/O ports, quotas
    "reboot", "swapon", "swapoff", "acct", "syslog", "vhangup", "sethostname", "setdomainname",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "iopl", "ioperm", "quotactl", "quotactl_fd",
    # file handles open files by inode, past the mount view
    "name_to_handle_at", "open_by_handle_at", "fanotify_init",
    # NUMA placement of memory
    "mbind", "set_mempolicy", "get_mempolicy", "migrate_pages", "move_pages", "set_mempolicy_home_node",
    # secret memory; LSM attributes; new file attribute calls (Docker refuses these too)
    "memfd_secret", "lsm_get_self_attr", "lsm_set_self_attr", "lsm_list_modules", "file_getattr", "file_setattr",
    # meant for the kernel's uprobe trampolines only
    "uprobe",
    # obsolete, or never implemented
    "lookup_dcookie", "uselib", "ustat", "sysfs", "_sysctl", "nfsservctl", "afs_syscall", "tuxcall", "security",
    "putpmsg", "getpmsg", "vserver", *_I386_ONLY,
})
# Its flags live in memory that BPF cannot read: ENOSYS makes glibc fall back to clone.
DEFAULT_ENOSYS = frozenset({"clone3"})

AF_UNIX, AF_INET, AF_INET6, AF_NETLINK = 1, 2, 10, 16
NETLINK_ROUTE = 0
# Docker's list: PER_LINUX, PER_LINUX32, UNAME26, UNAME26 | PER_LINUX32, and the query.
DEFAULT_PERSONALITIES = frozenset({0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF})

CLONE_NEWTIME = 0x80
# CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET.  clone() has
# no room for CLONE_NEWTIME: 0x80 is part of its exit signal there.
CLONE_NAMESPACES = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000

SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
BPF_MAXINSNS = 4096
_EPERM = SECCOMP_RET_ERRNO | errno.EPERM
_ENOSYS = SECCOMP_RET_ERRNO | errno.ENOSYS
_X32_SYSCALL_BIT = 0x40000000

# struct seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6].
_NR, _ARCH = 0, 4
# Classic BPF opcodes: BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_J*|BPF_K, BPF_RET|BPF_K.
_LD_ABS, _JEQ, _JGT, _JSET, _RET = 0x20, 0x15, 0x25, 0x45, 0x06


def _arg(index: int) -> int:
    """Offset of the low 32 bits of argument ``index`` (both arches are little-endian).

    Those bits are all the kernel reads of the arguments checked here: socket
    domains and protocols are ints, personality an unsigned int, clone keeps
    ``lower_32_bits(flags)``, and unshare refuses unknown high bits with EINVAL.
    """
    return 16 + 8 * index


def _names(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):
        raise ConfigError(f"expected a collection of syscall names, got the string {value!r}")
    return frozenset(value)


def _numbers(value: Iterable[int]) -> frozenset[int]:
    numbers = frozenset(value)
    for number in numbers:
        if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= 0xFFFFFFFF:
            raise ConfigError(f"expected unsigned 32-bit integers, got {number!r}")
    return numbers


def _check_names(names: Iterable[str]) -> None:
    unknown = sorted(set(names) - _KNOWN)
    if unknown:
        raise ConfigError(f"no supported arch has these syscalls: {', '.join(unknown)}")


def _known(instance: object, attribute: attrs.Attribute[frozenset[str]], value: frozenset[str]) -> None:
    _check_names(value)


@attrs.frozen
class _Insn:
    """One ``struct sock_filter``; a jump names its target label or gives an offset."""

    code: int
    k: int = 0
    jt: int | str = 0
    jf: int | str = 0


@attrs.frozen
class _Label:
    name: str


_Code = list[_Insn | _Label]


@attrs.frozen(kw_only=True)
class SeccompPolicy:
    """Which syscalls a run may make: a short list is refused, the rest allowed, so ML libraries work.

    What the compiled filter does, in order::

        other arch        EPERM for any call whose seccomp_data.arch is not the native
                          one (i386 through int 0x80 on x86_64), and on x86_64 for x32
                          calls (numbers with bit 0x40000000 set)
        too new           ENOSYS for numbers above the highest of the arch's table
                          (sandbox._syscalls), so that libc falls back as it does on
                          an older kernel
        denied            EPERM
        enosys            ENOSYS: clone3 by default, whose flags live in memory BPF
                          cannot read, so that glibc falls back to clone
        clone, unshare    EPERM when the flags ask for a namespace (CLONE_NEWTIME too,
                          for unshare); allowed otherwise.  Only with deny_namespaces
        socket            allowed for socket_families only, and AF_NETLINK only with a
                          protocol in netlink_protocols (NETLINK_ROUTE: getaddrinfo and
                          if_nameindex need it); socketpair for AF_UNIX only
        personality       allowed for personalities only (Docker's list)
        anything else     allowed

    A refused call fails with an errno and never kills the process: code that
    probes for a feature sees it missing and goes on.

    The default denied set holds everything Docker's default profile refuses
    to a container without capabilities, save ``unshare`` (checked by its
    flags here), and adds ``ptrace``, ``process_vm_readv``/``writev``,
    ``listmount``, ``statmount``, ``name_to_handle_at``, ``memfd_secret``,
    ``adjtimex`` and ``clock_adjtime``.  Names missing on an arch are skipped
    there; a name on no supported arch is a :class:`ConfigError` (save
    ``vm86`` and ``vm86old``: i386 only, refused whole by the arch check).
    :meth:`allowing` and :meth:`denying` change the two sets only: the argument
    checks have fields of their own.  While ``deny_namespaces`` is on,
    ``clone3`` must stay denied or ENOSYS, since its flags cannot be checked.
    """

    denied: frozenset[str] = attrs.field(default=DEFAULT_DENIED, converter=_names, validator=_known)
    enosys: frozenset[str] = attrs.field(default=DEFAULT_ENOSYS, converter=_names, validator=_known)
    socket_families: frozenset[int] = attrs.field(
        default=frozenset({AF_UNIX, AF_INET, AF_INET6, AF_NETLINK}), converter=_numbers)
    netlink_protocols: frozenset[int] = attrs.field(default=frozenset({NETLINK_ROUTE}), converter=_numbers)
    personalities: frozenset[int] = attrs.field(default=DEFAULT_PERSONALITIES, converter=_numbers)
    deny_namespaces: bool = True

    def __attrs_post_init__(self) -> None:
        both = self.denied & self.enosys
        if both:
            raise ConfigError(f"syscalls both denied and ENOSYS: {', '.join(sorted(both))}")
        if self.deny_namespaces and "clone3" not in self.denied | self.enosys:
            raise ConfigError("clone3 cannot be allowed with deny_namespaces: its flags cannot be checked")

    @classmethod
    def default(cls) -> SeccompPolicy:
        """The policy every pool uses unless told otherwise."""
        return cls()

    def allowing(self, *names: str) -> SeccompPolicy:
        """This policy, with ``names`` taken out of the denied and ENOSYS sets.

        >>> "ptrace" in SeccompPolicy.default().allowing("ptrace").denied
        False
        """
        _check_names(names)
        return attrs.evolve(self, denied=self.denied - set(names), enosys=self.enosys - set(names))

    def denying(self, *names: str) -> SeccompPolicy:
        """This policy, with ``names`` refused with EPERM."""
        _check_names(names)
        return attrs.evolve(self, denied=self.denied | set(names), enosys=self.enosys - set(names))

    def compile(self, arch: str | None = None) -> bytes:
        """The classic BPF program for ``arch`` (default: this machine's), 8 bytes an instruction.

        Raises :class:`ConfigError` for an arch other than x86_64 and aarch64.
        """
        arch = os.uname().machine if arch is None else arch
        if arch not in TABLES:
            raise ConfigError(f"no seccomp support for arch {arch!r} (only {', '.join(sorted(TABLES))})")
        table = TABLES[arch]
        code = [*_header(arch, table), *self._by_number(table), *self._by_argument(table), _ret(SECCOMP_RET_ALLOW)]
        return _assemble(code)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the policy (sorted lists)."""
        return {
            "denied": sorted(self.denied),
            "enosys": sorted(self.enosys),
            "socket_families": sorted(self.socket_families),
            "netlink_protocols": sorted(self.netlink_protocols),
            "personalities": sorted(self.personalities),
            "deny_namespaces": self.deny_namespaces,
        }

    def describe(self) -> str:
        """The policy in a few lines of text, for docs and logs."""
        namespaces = "clone and unshare with namespace flags" if self.deny_namespaces else "nothing more"
        return "\n".join([
            f"EPERM: {', '.join(sorted(self.denied))}",
            f"EPERM too: {namespaces}; other arches and ABIs",
            f"ENOSYS: {', '.join(sorted(self.enosys)) or 'nothing'}; numbers above the table",
            f"socket: families {sorted(self.socket_families)}, netlink protocols {sorted(self.netlink_protocols)}",
            f"personality: {', '.join(hex(p) for p in sorted(self.personalities))}",
            "everything else: allowed",
        ])

    def _by_number(self, table: dict[str, int]) -> _Code:
        code: _Code = []
        for names, action in ((self.denied, _EPERM), (self.enosys, _ENOSYS)):
            for nr in sorted(table[name] for name in names if name in table):
                code += [_jeq(nr, jf=1), _ret(action)]
        return code

    def _by_argument(self, table: dict[str, int]) -> _Code:
        # Arguments are loaded only under a check of the number: the kernel's
        # seccomp cache then lets every other allowed syscall skip the filter.
        code: _Code = []
        if self.deny_namespaces:
            code += _when(table["clone"], "clone", _flags_clear(0, CLONE_NAMESPACES))
            code += _when(table["unshare"], "unshare", _flags_clear(0, CLONE_NAMESPACES | CLONE_NEWTIME))
        code += _when(table["socket"], "socket", _socket(self.socket_families, self.netlink_protocols))
        code += _when(table["socketpair"], "socketpair", _one_of(0, self.socket_families & {AF_UNIX}))
        code += _when(table["personality"], "personality", _one_of(0, self.personalities))
        return code


def _ld(offset: int) -> _Insn:
    return _Insn(_LD_ABS, offset)


def _ret(action: int) -> _Insn:
    return _Insn(_RET, action)


def _jeq(k: int, jt: int | str = 0, jf: int | str = 0) -> _Insn:
    return _Insn(_JEQ, k, jt, jf)


def _header(arch: str, table: dict[str, int]) -> _Code:
    code: _Code = [_ld(_ARCH), _jeq(AUDIT_ARCH[arch], jt=1), _ret(_EPERM), _ld(_NR)]
    if arch == "x86_64":
        code += [_Insn(_JSET, _X32_SYSCALL_BIT, jf=1), _ret(_EPERM)]
    return [*code, _Insn(_JGT, max(table.values()), jf=1), _ret(_ENOSYS)]


def _when(nr: int, name: str, body: _Code) -> _Code:
    """``body`` (which ends in a return) for syscall ``nr``; labels in it get ``name`` as prefix."""
    named = [_prefixed(item, name) for item in body]
    return [_jeq(nr, jf=f"{name}:next"), *named, _Label(f"{name}:next")]


def _prefixed(item: _Insn | _Label, name: str) -> _Insn | _Label:
    if isinstance(item, _Label):
        return _Label(f"{name}:{item.name}")
    jt, jf = (f"{name}:{j}" if isinstance(j, str) else j for j in (item.jt, item.jf))
    return attrs.evolve(item, jt=jt, jf=jf)


def _flags_clear(arg: int, mask: int) -> _Code:
    return [_ld(_arg(arg)), _Insn(_JSET, mask, jf=1), _ret(_EPERM), _ret(SECCOMP_RET_ALLOW)]


def _one_of(arg: int, values: Iterable[int]) -> _Code:
    checks = [_jeq(value, jt="allow") for value in sorted(values)]
    return [_ld(_arg(arg)), *checks, _ret(_EPERM), _Label("allow"), _ret(SECCOMP_RET_ALLOW)]


def _socket(families: frozenset[int], protocols: frozenset[int]) -> _Code:
    code: _Code = [_ld(_arg(0)), *(_jeq(family, jt="allow") for family in sorted(families - {AF_NETLINK}))]
    if AF_NETLINK in families:
        code += [_jeq(AF_NETLINK, jf="deny"), _ld(_arg(2)), *(_jeq(p, jt="allow") for p in sorted(protocols))]
    return [*code, _Label("deny"), _ret(_EPERM), _Label("allow"), _ret(SECCOMP_RET_ALLOW)]


def _assemble(code: _Code) -> bytes:
    """Resolve labels to forward offsets and pack ``struct sock_filter`` (u16, u8, u8, u32)."""
    insns = [item for item in code if isinstance(item, _Insn)]
    if len(insns) > BPF_MAXINSNS:
        raise ConfigError(f"seccomp program of {len(insns)} instructions (the kernel takes {BPF_MAXINSNS})")
    labels: dict[str, int] = {}
    position = 0
    for item in code:
        if isinstance(item, _Label):
            labels[item.name] = position
        else:
            position += 1
    return b"".join(
        struct.pack("<HBBI", insn.code, _offset(insn.jt, i, labels), _offset(insn.jf, i, labels), insn.k)
        for i, insn in enumerate(insns))


def _offset(jump: int | str, index: int, labels: dict[str, int]) -> int:
    offset = labels[jump] - index - 1 if isinstance(jump, str) else jump
    # Conditional jumps are 8 bits wide and go forward only.
    if not 0 <= offset <= 0xFF:
        raise ConfigError(f"seccomp jump of {offset} instructions to {jump!r} (at most 255)")
    return offset
