"""The zygote: a pre-warmed fork server that runs inside the jail.

This file is executed by the *runtime* interpreter (any CPython >= 3.9), so it
uses the standard library only and never imports the rest of ``sandbox``.

Process tree, one line per role::

    jail's pid 1  makes the zygote's user and pid namespaces, waits for it, exits with it
      zygote      root of its own user namespace, pid 1 of its own pid namespace;
                  imports the preload list once, freezes the GC, backs its heap
                  with huge pages (cheaper forks), forks one agent per
                  run straight into a new pid namespace (one fork per run), reaps them
        relay     forked before the preload (a light process): carries every run's
                  request to its agent and its reports back, rebuilt and capped
        init      pid 1 of a run's own pid namespace (a ``sleep``: signals the
                  agent sends itself then work as on a host)
        agent(A)  pid 2 there; makes its own mount, network and IPC namespaces,
                  then a user namespace of its own that locks its view; sees only
                  its episode's work dir; runs the code as ``__main__``

The controller talks to the zygote over a ``SOCK_SEQPACKET`` socket (one JSON
object per message; :class:`Command` and :class:`Report` below are the whole
protocol: each message, who sends it, when, and its fields).  Each new agent
introduces itself on that socket with a ``hello`` that carries, as
``SCM_RIGHTS``, its private channel and the read ends of its stdout and stderr
pipes; the kernel adds the agent's pid as the controller sees it
(``SO_PASSCRED``), which is how the controller finds it to put it in a cgroup.
The agent holds neither the zygote's socket (it closes it after its hello,
before anything else) nor its channel: the relay holds the channel, the agent
talks to the relay over a socket pair of its own, and the relay passes on to
the controller only a few known reports, rebuilt and capped (a flood ends the
run), so agent code can neither forge its result nor stall the controller.
A fork in the zygote never holds up a run's messages: they go through the relay.

The protocol's table lives here, not in a module of its own, because this file
is the end that cannot import: it runs in the jail as one file (bound at
``/.sandbox/zygote.py``) under ``python -I``, so neither ``sandbox`` nor a file
next to it is on its path, and a second module it imported would sit in
``sys.modules`` of every run, shadowing an agent's own file of that name.  The
controller imports the two enums from here (``from ._zygote import Command,
Report``): one definition for both ends, no copy to keep in step.  They are
``(str, Enum)``, not ``StrEnum`` (Python 3.11), so that they run on any
runtime; a member is its value on the wire (``json.dumps``) and in ``==``.
"""

import array
import atexit
import collections
import ctypes
import enum
import errno
import gc
import importlib
import io
import json
import os
import resource
import selectors
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import types
import weakref

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_BIND = 0x1000
MS_REMOUNT = 0x20
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
SYS_MOVE_MOUNT = 429  # the same on every architecture (asm-generic, Linux 5.2)
MOVE_MOUNT_F_EMPTY_PATH = 0x4
AT_FDCWD = -100
PR_CAPBSET_DROP = 24
PR_SET_SECUREBITS = 28
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
# NOROOT, NO_SETUID_FIXUP and NO_CAP_AMBIENT_RAISE, each locked; KEEP_CAPS off and locked.
SECUREBITS_LOCKED_DOWN = 0x01 | 0x02 | 0x04 | 0x08 | 0x20 | 0x40 | 0x80
LINUX_CAPABILITY_VERSION_3 = 0x20080522
NAMESPACE_KINDS = ("user", "mnt", "pid", "net", "ipc", "uts", "cgroup", "time")

MADV_COLLAPSE = 25  # Linux 6.1
HUGE_PAGE = 2 << 20
COLLAPSE_BUDGET_S = 10.0  # at most, at start (torch's heap took 2.5 s on a 2-core VM)
MAX_MESSAGE = 1 << 20
AGENT_MESSAGE_CAP = 64 * 1024  # one report of the agent (a traceback is capped at 32 KiB)
AGENT_MESSAGES_CAP = 64  # a run sends five; more is a flood, and ends the run
TRACEBACK_CAP = 32 * 1024
RLIMITS = {
    "nofile": resource.RLIMIT_NOFILE,
    "fsize": resource.RLIMIT_FSIZE,
    "stack": resource.RLIMIT_STACK,
    "core": resource.RLIMIT_CORE,
    "cpu": resource.RLIMIT_CPU,
    "as": resource.RLIMIT_AS,
}

# ---------------------------------------------------------------- the protocol


class Command(str, enum.Enum):
    """What the controller sends into the jail: one JSON object per message, ``{"op": <value>, ...}``.

    On the zygote's socket (read by the zygote):

    - ``spawn``: no fields.  Sent when the pool wants one more spare (an agent
      forked ahead of its run); the zygote forks one, which answers with
      ``Report.HELLO``.
    - ``stop``: no fields.  Sent when the pool closes or replaces the zygote; the
      zygote returns from its loop and exits (the controller kills the jail anyway).

    On a spare's own channel (read by the relay, which passes each message on to the agent):

    - ``go``: no fields.  Sent once the agent sits in the run's cgroup, so that its
      set-up and all it starts are charged to the run; anything else ends it.
    - ``request``: the run, read by the agent.  Fields: ``workdir``, ``filename``,
      ``argv``, ``env``, ``rlimits``, ``tmpfs``, ``hide`` (GPU nodes to cover),
      ``gpu_memory_fraction``, and ``code_len``: that many bytes of code follow as
      raw chunks (not JSON).  In a root jail it carries, as ``SCM_RIGHTS``, the work
      dir's detached mount.
    """

    SPAWN = "spawn"
    STOP = "stop"
    GO = "go"
    REQUEST = "request"


class Report(str, enum.Enum):
    """What comes out of the jail to the controller: one JSON object per message, ``{"op": <value>, ...}``.

    On the zygote's socket:

    - ``ready``: sent by the zygote once, after its preload.  Fields:
      ``preload_errors`` (module -> error text), ``preload_s``, ``huge_pages_mb`` and
      ``collapse_s`` (the preloaded heap collapsed into huge pages, and how long it took:
      :func:`collapse_heap`), ``python`` (version).
    - ``hello``: sent by each new agent, first thing.  No fields; carries, as
      ``SCM_RIGHTS``, its private channel and the read ends of its stdout and
      stderr pipes, and the kernel adds the agent's pid (``SO_PASSCRED``).

    On a spare's channel, the agent's reports (``AGENT_REPORTS``), which the agent
    sends to the relay and the relay passes on, rebuilt from these fields only:

    - ``waiting``: the agent is set up (warm-up included) and waits for the request.  No
      fields.  The pool learns from it how long a spare takes to make.
    - ``started``: the agent took the request.  Field (added by the relay, only
      without a jail): ``agent_pid``, a host pid.
    - ``running``: set-up is done; agent code runs next.  From here on agent code
      holds the socket, so the controller believes no ``sandbox_error`` after it.
    - ``traceback``: the code raised.  Field: ``text`` (capped at 32 KiB).
    - ``sandbox_error``: a set-up step failed before the code ran.  Field: ``text``.
    - ``exit``: the code is done and the agent is exiting.  Fields: ``code`` (0-255),
      ``scratch_full`` (set by the relay, which holds the run's /tmp).

    And the relay's own last word for the run:

    - ``status``: the zygote reaped the agent.  Fields: ``status`` (a wait status),
      ``cpu_s``, ``maxrss_kb``, ``scratch_full``, ``flooded`` (the agent sent too
      many or too large reports and was killed).
    """

    READY = "ready"
    HELLO = "hello"
    WAITING = "waiting"
    STARTED = "started"
    RUNNING = "running"
    TRACEBACK = "traceback"
    SANDBOX_ERROR = "sandbox_error"
    EXIT = "exit"
    STATUS = "status"


class Handoff(str, enum.Enum):
    """What the zygote tells its relay (inside the jail; the controller never sees these), on
    their own socket:

    - ``child``: a new agent.  Fields: ``pid`` (as the zygote sees it), ``host_pid`` (only
      without a jail).  Carries, as ``SCM_RIGHTS``, the zygote's end of the agent's channel
      to the controller, its end of the agent's own socket, the read end of the agent's
      report pipe, and a pidfd of the agent.
    - ``reaped``: the zygote reaped that agent.  Fields: ``pid``, ``status`` (a wait
      status), ``cpu_s``, ``maxrss_kb``: the relay sends them on as ``Report.STATUS``.
    """

    CHILD = "child"
    REAPED = "reaped"


# What the relay passes on from an agent (a tuple: the agent's ops arrive as plain strings).
AGENT_REPORTS = (Report.WAITING, Report.STARTED, Report.RUNNING, Report.TRACEBACK, Report.SANDBOX_ERROR, Report.EXIT)

_libc = ctypes.CDLL(None, use_errno=True)


def _check(ret, what):
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, "%s: %s" % (what, os.strerror(err)))


def _unshare(flags):
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def _mount(src, dst, fstype, flags, data):
    _check(
        _libc.mount(
            src.encode() if src else None,
            dst.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        "mount %s" % dst,
    )


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _enter_user_namespace(extra_flags):
    """Become root of a new user namespace mapped onto our current ids."""
    uid, gid = os.geteuid(), os.getegid()
    _unshare(CLONE_NEWUSER | extra_flags)
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", "0 %d 1" % uid)
    _write("/proc/self/gid_map", "0 %d 1" % gid)


def _encode(message):
    return json.dumps(message).encode()


def _send(sock, message):
    sock.send(_encode(message))


def _tell(reports, message):
    """One report of the agent's, a line on its pipe to the relay (a pipe carries no descriptors)."""
    data = _encode(message)
    # A report is capped in bytes, and JSON escapes a character in up to 12: a long
    # text keeps its end, shortened until it fits (more would be taken for a flood).
    while len(data) > AGENT_MESSAGE_CAP and message.get("text"):
        message = dict(message, text=message["text"][len(message["text"]) // 4 + 1:])
        data = _encode(message)
    data += b"\n"
    while data:
        data = data[os.write(reports, data):]


def _op(data):
    """The ``op`` of one message (a plain string), or None if it is not a JSON object."""
    try:
        body = json.loads(data.decode())
    except ValueError:  # also b"": the peer hung up
        return None
    return body.get("op") if isinstance(body, dict) else None


# ---------------------------------------------------------------- seccomp

PR_SET_NO_NEW_PRIVS = 38
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_TSYNC = 1
_SECCOMP_NR = {"x86_64": 317, "aarch64": 277}


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install_seccomp(program):
    """Set no_new_privs and install ``program`` (a classic BPF program: 8 bytes per
    instruction, as the controller compiled it) on every thread of this process.

    Raises OSError when the kernel refuses: a run must never start unfiltered.
    """
    if len(program) % 8 or not program:
        raise OSError(errno.EINVAL, "seccomp program of %d bytes" % len(program))
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
    buffer = ctypes.create_string_buffer(bytes(program), len(program))
    prog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    nr = _SECCOMP_NR.get(os.uname().machine)
    if nr is None:
        raise OSError(errno.ENOSYS, "no seccomp syscall number for %s" % os.uname().machine)
    ret = _libc.syscall(ctypes.c_long(nr), ctypes.c_uint(SECCOMP_SET_MODE_FILTER),
                        ctypes.c_uint(SECCOMP_FILTER_FLAG_TSYNC), ctypes.byref(prog))
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, "seccomp(SET_MODE_FILTER): %s" % os.strerror(err))


# ---------------------------------------------------------------- the agent


def _own_proc():
    """A fresh /proc for our own pid namespace (done before the request comes):
    the jail's /proc would show the zygote and other episodes, their roots and cwds."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)


def _move_mount(fd, target):
    ret = _libc.syscall(ctypes.c_long(SYS_MOVE_MOUNT), ctypes.c_int(fd), b"", ctypes.c_int(AT_FDCWD),
                        target.encode(), ctypes.c_uint(MOVE_MOUNT_F_EMPTY_PATH))
    _check(ret, "move_mount %s" % target)


def _private_view(cfg, request, tree_fd):
    """Mount only this episode's work dir and lock the view (runs in A)."""
    for node in request.get("hide", []):  # GPUs of the jail that this run was not given
        _mount("/dev/null", node, None, MS_BIND, None)
    if tree_fd is not None:
        # A detached copy of the work dir's mount, made by the controller: the
        # jail never holds the host's directory of work dirs.
        _move_mount(tree_fd, cfg["work"])
        os.close(tree_fd)
    else:
        _mount(os.path.join(cfg["episodes"], request["workdir"]), cfg["work"], None, MS_BIND | MS_REC, None)
        _mount("tmpfs", cfg["episodes"], "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
               "size=4k,mode=000")
    if request["tmpfs"] != cfg["tmpfs"]:
        for path in ("/tmp", "/dev/shm"):
            _mount(None, path, None, MS_REMOUNT | MS_NOSUID | MS_NODEV, request["tmpfs"])
    # Mounts inherited by a less privileged mount namespace are locked together:
    # the agent cannot unmount the tmpfs above to see the other episodes.
    _enter_user_namespace(CLONE_NEWNS)


def _confine():
    """No new namespaces and no capabilities, from here on (runs in A, last root step).

    Each layer holds on its own: a zero namespace quota in our user namespace
    (what the kernel checks whatever the syscall filter says), then empty
    bounding, ambient, effective, permitted and inheritable sets with locked
    securebits, so that nothing, not even an exec, brings a capability back.
    """
    for kind in NAMESPACE_KINDS:
        try:
            _write("/proc/sys/user/max_%s_namespaces" % kind, "0")
        except FileNotFoundError:  # a kind this kernel lacks
            pass
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last = int(f.read())
    for cap in range(last + 1):
        _check(_libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), "prctl(PR_CAPBSET_DROP, %d)" % cap)
    _check(_libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "prctl(PR_CAP_AMBIENT)")
    _check(_libc.prctl(PR_SET_SECUREBITS, SECUREBITS_LOCKED_DOWN, 0, 0, 0), "prctl(PR_SET_SECUREBITS)")
    header = (ctypes.c_uint32 * 2)(LINUX_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()
    _check(_libc.capset(header, data), "capset")


def _apply_rlimits(limits):
    for name, value in limits.items():
        soft = resource.RLIM_INFINITY if value is None else int(value)
        try:
            resource.setrlimit(RLIMITS[name], (soft, soft))
        except (ValueError, OSError):
            hard = resource.getrlimit(RLIMITS[name])[1]
            resource.setrlimit(RLIMITS[name], (min(soft, hard) if hard >= 0 else soft, hard))


def _apply_gpu_cap(fraction):
    """Cap this process's share of GPU memory before agent code runs."""
    if fraction is None:
        return
    try:
        import torch  # the runtime may lack torch: then there is nothing to cap
    except ImportError:
        return
    if torch.cuda.is_available():
        for device in range(torch.cuda.device_count()):
            torch.cuda.set_per_process_memory_fraction(float(fraction), device)


def _receive_request(sock):
    data, ancdata, _, _ = sock.recvmsg(MAX_MESSAGE, socket.CMSG_SPACE(4 * 4))
    fds = _rights(ancdata)
    header = json.loads(data.decode())
    if header.get("op") != Command.REQUEST:
        os._exit(70)
    chunks, size = [], 0
    while size < header["code_len"]:
        chunk = sock.recv(MAX_MESSAGE)
        if not chunk:
            os._exit(70)
        chunks.append(chunk)
        size += len(chunk)
    return header, b"".join(chunks), fds


def _join_threads():
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()


def _finish(reports, code):
    try:
        _join_threads()
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        # Say so before exiting: tearing down an address space the size of
        # torch's takes ~4 ms, and the controller need not wait for it.
        _tell(reports, {"op": Report.EXIT, "code": code})
    except BaseException:
        pass
    finally:
        os._exit(code)


def _exit_code(exc):
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code & 0xFF
    sys.stderr.write("%s\n" % (exc.code,))
    return 1


def _execute(reports, request, code):
    main = types.ModuleType("__main__")
    main.__file__ = request["filename"]
    main.__builtins__ = __builtins__
    sys.modules["__main__"] = main
    sys.argv = [request["filename"]] + list(request.get("argv", []))
    sys.path[0:0] = [os.getcwd()]
    try:
        exec(compile(code, request["filename"], "exec"), main.__dict__)
    except SystemExit as exc:
        _finish(reports, _exit_code(exc))
    except BaseException as exc:
        # Drop this file's own frame: the agent's code starts at the next one.
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__.tb_next))
        sys.stderr.write(text)
        try:
            _tell(reports, {"op": Report.TRACEBACK, "text": text[-TRACEBACK_CAP:]})
        except OSError:
            pass
        _finish(reports, 1)
    _finish(reports, 0)


def _forget_zygote_exit_handlers():
    """Exit handlers belong to the zygote's preloaded modules, not to the run:
    torch alone registers ~150 finalizers that cost ~30 ms at every exit."""
    atexit._clear()
    registry = getattr(weakref.finalize, "_registry", {})
    for finalizer in list(registry):
        finalizer.atexit = False
    weakref.finalize._registered_with_atexit = False


def _warm_up(code):
    """The pool's warm-up code, run in the agent's process before its request comes.

    It may run OpenMP or BLAS work (this is a child, not the zygote); its
    output goes to the jail's log and its errors are ignored.
    """
    try:
        exec(compile(code, "<warmup>", "exec"), {"__name__": "__warmup__"})
    except BaseException:
        traceback.print_exc()


def _prefault():
    """Do, before the request comes, the writes every run does anyway.

    The first write to each memory page shared with the zygote copies it: doing
    a tiny run here moves most of those copies off the run's clock.
    """
    scratch = types.ModuleType("__main__")
    exec(compile("x = [i for i in range(10)]\n", "<prefault>", "exec"), scratch.__dict__)
    gc.collect()


def _text_stream(fd):
    raw = io.FileIO(fd, "w", closefd=False)
    return io.TextIOWrapper(raw, encoding="utf-8", errors="backslashreplace", write_through=True)


def _fresh_signals():
    """Signal dispositions and mask as a fresh interpreter has them, whatever
    the controller's were: a controller started under ``nohup`` ignores
    SIGHUP, and the jail and the zygote would pass that on to the agents."""
    for signum in signal.valid_signals():
        if signum not in (signal.SIGKILL, signal.SIGSTOP):
            try:
                signal.signal(signum, signal.SIG_DFL)
            except (OSError, ValueError):
                pass  # signals the C library reserves for itself
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # as Python sets them at start
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def _agent(sock, reports, cfg, out_w, err_w):
    """The run's process, forked by the zygote: set up, take the request, run the code.

    ``sock`` leads to the relay: the agent reads its ``go`` and its request there
    and sends its first report (``waiting``), then closes it before any agent code
    runs.  Its later reports go as lines on the pipe ``reports``, which carries no
    descriptors.  The relay passes a few capped reports on to the controller: the
    agent never holds a socket of the controller's.
    """
    # Its own session: killing its process group (kill(0), or kill(getppid())
    # which is kill(0) in a pid namespace) must not reach the zygote.
    os.setsid()
    # The controller answers "go" once this process sits in the run's cgroup, so
    # that everything below (and all the agent starts) is charged to the run.
    if _op(sock.recv(MAX_MESSAGE)) != Command.GO:
        os._exit(0)
    scratch = []
    if cfg["namespaces"]:
        # Own mount, network and IPC namespaces (its pid namespace is the zygote's doing):
        # nothing (abstract sockets, SysV shared memory) passes between runs outside the controller.
        _unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC)
        _loopback_up()
        scratch = _scratch(cfg)
        # Before the warm-up: even the pool's own code sees no process but this run's.
        _own_proc()
    elif cfg.get("drop_to") is not None:
        os.setgroups([])
        os.setgid(cfg["drop_to"])
        os.setuid(cfg["drop_to"])
    if cfg.get("warmup"):
        _warm_up(cfg["warmup"])
        _forget_zygote_exit_handlers()  # and the warm-up's (the zygote forgot its own)
    os.dup2(out_w, 1)
    os.dup2(err_w, 2)
    os.close(out_w)
    os.close(err_w)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdin = open(0, closefd=False)
    sys.stdout = _text_stream(1)
    sys.stderr = _text_stream(2)
    _prefault()
    # The first message, before any agent code can run: it hands the relay this run's
    # /tmp and /dev/shm, which only this mount namespace shows, to look at after the run.
    _send_with_fds(sock, {"op": Report.WAITING}, scratch)
    for fd in scratch:
        os.close(fd)
    request, code, fds = _receive_request(sock)
    sock.close()
    _tell(reports, {"op": Report.STARTED})
    if cfg["namespaces"]:
        _private_view(cfg, request, fds[0] if fds else None)
        _confine()
        os.chdir(cfg["work"])
    else:
        os.chdir(os.path.join(cfg["episodes"], request["workdir"]))
    os.closerange(3, reports)
    os.closerange(reports + 1, 1 << 16)
    os.environ.clear()
    os.environ.update(request["env"])
    _apply_rlimits(request["rlimits"])
    _apply_gpu_cap(request.get("gpu_memory_fraction"))
    if cfg.get("seccomp"):
        install_seccomp(bytes.fromhex(cfg["seccomp"]))
    # From here on agent code holds this pipe: the controller believes no
    # sandbox_error after "running".
    _tell(reports, {"op": Report.RUNNING})
    _execute(reports, request, code)


def _send_with_fds(sock, message, fds):
    rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    sock.sendmsg([_encode(message)], rights)


def _loopback_up():
    """Bring up ``lo`` in the run's own network namespace: code may serve on 127.0.0.1."""
    import fcntl

    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH22s", b"lo", 0, b"")
        flags = struct.unpack("16sH22s", fcntl.ioctl(sock, siocgifflags, request))[1]
        fcntl.ioctl(sock, siocsifflags, struct.pack("16sH22s", b"lo", flags | iff_up, b""))


def _scratch(cfg):
    """Fresh /tmp and /dev/shm for this run: nothing passes between runs or episodes
    there, and what a run leaves is freed with its mount namespace.  Returns a
    descriptor of each, for the zygote to look at after the run."""
    fds = []
    for path in ("/tmp", "/dev/shm"):
        _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, cfg["tmpfs"] + ",mode=1777")
        fds.append(os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
    return fds


def _scratch_full(fds):
    """True when a run's /tmp or /dev/shm (``fds``, held by the relay) is all but full
    (checked after the run: under 5% of its bytes or 1% of its files left)."""
    for fd in fds:
        try:
            st = os.fstatvfs(fd)
        except OSError:
            continue
        if st.f_bavail < max(1, st.f_blocks // 20) or st.f_favail < max(1, st.f_files // 100):
            return True
    return False


def _start_init(path):
    """pid 1 of the run's pid namespace, so that the agent (pid 2) gets signals
    as any process does (the kernel drops an init's own default-action signals).

    A vfork+exec of a program that only waits: no copy of the interpreter.
    It reaps nothing: what the agent orphans dies with the namespace.
    """
    return os.posix_spawn(path, [path, "2147483647"], {})


def _rights(ancdata):
    return [fd for level, kind, payload in ancdata if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS
            for fd in array.array("i", payload[: len(payload) - len(payload) % 4])]


def _report(data, scratch):
    """The agent's report rebuilt from known fields only, or None."""
    try:
        body = json.loads(data.decode())
    except Exception:  # ValueError, RecursionError ("[" * 60000), MemoryError: not a report
        return None
    op = body.get("op") if isinstance(body, dict) else None
    if op not in AGENT_REPORTS:
        return None
    op = Report(op)
    if op in (Report.WAITING, Report.STARTED, Report.RUNNING):
        return {"op": op}
    if op in (Report.TRACEBACK, Report.SANDBOX_ERROR) and isinstance(body.get("text"), str):
        return {"op": op, "text": body["text"][-TRACEBACK_CAP:]}
    if op == Report.EXIT and isinstance(body.get("code"), int) and not isinstance(body.get("code"), bool):
        # whether /tmp is full is looked at here (the relay holds the run's tmpfs), never taken from the agent
        return {"op": Report.EXIT, "code": body["code"] & 0xFF,
                "scratch_full": body["code"] != 0 and _scratch_full(scratch)}
    return None


# ---------------------------------------------------------------- the zygote


def _preload(modules):
    errors = {}
    for name in modules:
        try:
            importlib.import_module(name)
        except BaseException as exc:  # a broken module must not kill the zygote
            errors[name] = "%s: %s" % (type(exc).__name__, exc)
    return errors


def _private_anonymous_ranges():
    """(start, end) of each private, anonymous, writable mapping of this process, cut
    to whole huge pages: where a fork copies page-table entries."""
    with open("/proc/self/maps") as f:
        lines = f.read().splitlines()
    for line in lines:
        fields = line.split()
        path = fields[5] if len(fields) > 5 else ""
        if fields[1] != "rw-p" or path not in ("", "[heap]"):
            continue
        start, end = (int(x, 16) for x in fields[0].split("-"))
        start = (start + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1)
        end &= ~(HUGE_PAGE - 1)
        if start < end:
            yield start, end


def collapse_heap(budget_s):
    """Back this process's heap with huge pages, for at most ``budget_s`` seconds;
    returns the MiB collapsed.  The zygote does it once, before it says ready.

    A fork copies one page-table entry for each 4 KiB page of private memory and
    the child's exit frees them: with torch preloaded, that is most of a run's
    floor.  Collapsed, a fork copies one entry per 2 MiB, and a run's first write
    to one still copies only 4 KiB (the kernel splits the writer's mapping).  What
    is shared, and with whom, does not change.  A range the kernel cannot collapse
    (no page in it, marked no-huge; every range before Linux 6.1 or with THP set to
    ``never``) is refused (``EINVAL``) and skipped: only the speed is lost.  It copies
    each huge page once: about 28 ms of CPU on the 2-core VM this was measured on (2.5 s
    for torch's 300 MiB), mostly in the copy of pages the hypervisor backs at first touch.
    """
    deadline = time.monotonic() + budget_s
    collapsed = 0
    for start, end in list(_private_anonymous_ranges()):
        for address in range(start, end, HUGE_PAGE):
            if time.monotonic() > deadline:
                return collapsed >> 20
            if _libc.madvise(ctypes.c_void_p(address), ctypes.c_size_t(HUGE_PAGE), ctypes.c_int(MADV_COLLAPSE)) == 0:
                collapsed += HUGE_PAGE
    return collapsed >> 20


class _Outbox:
    """Messages for one socket, sent without blocking: what the socket cannot take now
    waits here, in order, for the relay's loop to find it writable."""

    def __init__(self, sock):
        self.sock, self.queue = sock, collections.deque()

    def put(self, data, fds=()):
        self.queue.append((data, list(fds)))
        self.flush()

    def flush(self):
        while self.queue:
            data, fds = self.queue[0]
            rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
            try:
                self.sock.sendmsg([data], rights, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                pass  # the peer is gone: its end is seen elsewhere, and this message with it
            self.queue.popleft()
            for fd in fds:
                os.close(fd)

    def close(self):
        for _, fds in self.queue:
            for fd in fds:
                os.close(fd)
        self.queue.clear()
        self.sock.close()


class _Child:
    """One agent as the relay sees it.

    From the controller's channel, each message goes on to the agent's socket (which
    the agent closes before any agent code runs).  From the agent, the first message on
    that socket (``waiting``, with the run's /tmp and /dev/shm) and then lines on its
    report pipe, which carries no descriptors: at most AGENT_MESSAGES_CAP reports of
    AGENT_MESSAGE_CAP bytes are read, and only a few known ones, rebuilt field by
    field, go on to the controller (nothing after ``exit``).  A flood kills the agent.
    Nothing here blocks: a peer that does not read makes its sender wait, not the relay.
    """

    def __init__(self, controller, agent, reports, pidfd, host_pid):
        self.to_controller, self.to_agent = _Outbox(controller), _Outbox(agent)
        self.reports, self.pidfd, self.host_pid = reports, pidfd, host_pid
        os.set_blocking(reports, False)
        self.listening = {"controller": True, "agent": True, "reports": True}
        self.pending = bytearray()  # the start of a report line
        self.count, self.flooded, self.reaped, self.waited = 0, False, False, False
        self.scratch = []  # the run's /tmp and /dev/shm, handed over in its first message

    def interest(self):
        """What the relay should wait for: {(role, file): selector events}."""
        controller, agent = self.to_controller.sock, self.to_agent.sock
        read, write = selectors.EVENT_READ, selectors.EVENT_WRITE
        return {
            ("controller", controller):
                (read if self.listening["controller"] and not self.to_agent.queue else 0)
                | (write if self.to_controller.queue else 0),
            ("agent", agent): (read if self.listening["agent"] else 0) | (write if self.to_agent.queue else 0),
            ("reports", self.reports):
                read if self.listening["reports"] and self._pipe_is_next() and not self.to_controller.queue else 0,
        }

    def finished(self):
        return self.reaped and not self.to_controller.queue

    def kill(self):
        try:
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def on(self, role, events):
        if events & selectors.EVENT_WRITE:
            (self.to_controller if role == "controller" else self.to_agent).flush()
        if events & selectors.EVENT_READ and self.listening[role]:  # not if an event before in the batch ended it
            {"controller": self._from_controller, "agent": self._from_agent,
             "reports": self._from_reports}[role]()

    def _from_controller(self):
        try:
            data, ancdata, _, _ = self.to_controller.sock.recvmsg(MAX_MESSAGE, socket.CMSG_SPACE(4 * 4))
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data, ancdata = b"", []
        fds = _rights(ancdata)
        if data:
            self.to_agent.put(data, fds)
            return
        for fd in fds:
            os.close(fd)
        self.listening["controller"] = False
        self.kill()  # the controller hung up: the run is over, and so is the agent

    def _from_agent(self, flags=0):
        """The agent's socket: its first message only (sent before agent code can run)."""
        try:
            data, ancdata, _, _ = self.to_agent.sock.recvmsg(MAX_MESSAGE, socket.CMSG_SPACE(2 * 4), flags)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data, ancdata = b"", []
        fds = _rights(ancdata)
        if data and not self.waited and _op(data) == Report.WAITING:
            self.waited, self.scratch, fds = True, fds, []
            self._report(data)
        for fd in fds:
            os.close(fd)
        if not data:
            self.listening["agent"] = False

    def _pipe_is_next(self):
        """Reports on the pipe come after ``waiting`` on the socket (or after the socket closed)."""
        return self.waited or not self.listening["agent"]

    def _from_reports(self):
        """Whatever the pipe holds now (one read): each whole line is a report."""
        try:
            data = os.read(self.reports, AGENT_MESSAGE_CAP + 1)
        except (BlockingIOError, InterruptedError):
            return False
        if not data:
            self.listening["reports"] = False
            return False
        start = 0
        while self.listening["reports"] and (end := data.find(b"\n", start)) >= 0:
            self.pending += data[start:end]
            line, self.pending = bytes(self.pending), bytearray()
            start = end + 1
            self._report(line)
        if self.listening["reports"]:
            self.pending += data[start:]  # each read's bytes are looked at once: no quadratic cost
            if len(self.pending) > AGENT_MESSAGE_CAP:
                self._flood()
        return self.listening["reports"]

    def _report(self, data):
        self.count += 1
        if self.count > AGENT_MESSAGES_CAP or len(data) > AGENT_MESSAGE_CAP:
            self._flood()
            return
        report = _report(data, self.scratch)
        if report is None:
            return
        if report["op"] == Report.STARTED and self.host_pid is not None:
            report["agent_pid"] = self.host_pid
        self.to_controller.put(_encode(report))
        if report["op"] == Report.EXIT:
            self.listening["reports"] = False

    def _flood(self):
        self.flooded = True
        self.listening["reports"] = False
        self.kill()

    def end(self, status, cpu_s, maxrss_kb):
        """The zygote reaped the agent: what it said last, then its status, go to the controller."""
        if self.listening["agent"]:
            self._from_agent(socket.MSG_DONTWAIT)  # its ``waiting`` (and /tmp), if not read yet
        while self.listening["reports"] and self._from_reports():
            pass  # an exit, a traceback: before the status
        self.listening = dict.fromkeys(self.listening, False)
        self.reaped = True
        self.to_controller.put(_encode({
            "op": Report.STATUS,
            "status": status,
            "cpu_s": cpu_s,
            "maxrss_kb": maxrss_kb,
            "scratch_full": _scratch_full(self.scratch),
            "flooded": self.flooded,
        }))

    def close(self):
        self.to_controller.close()
        self.to_agent.close()
        for fd in (self.reports, self.pidfd):
            os.close(fd)
        # The last hold on the run's tmpfs may be ours: freeing its pages is the closer's wait.
        for fd in self.scratch:
            _TO_CLOSE.append(fd)
            _TO_CLOSE_COUNT.release()


def _closer():
    """Closes, in a thread of the relay's, what may take long to close."""
    while True:
        _TO_CLOSE_COUNT.acquire()
        os.close(_TO_CLOSE.popleft())


_TO_CLOSE = collections.deque()
_TO_CLOSE_COUNT = threading.Semaphore(0)


class _Relay:
    """Carries every run's request to its agent and its reports back, in one loop of a
    light process of its own (forked before the preload): a fork in the zygote, or one
    run's flood, never holds up another run's messages.

    The zygote hands it each new agent (its sockets, its report pipe and a pidfd) and,
    once it has reaped one, the agent's status.
    """

    def __init__(self, zygote):
        self.zygote = zygote
        self.selector = selectors.DefaultSelector()
        self.children = {}  # agent pid (as the zygote sees it) -> _Child, till the zygote reaps it
        self.watched = {}  # file -> events, of every child's files the selector holds

    def serve(self):
        threading.Thread(target=_closer, name="closer", daemon=True).start()
        self.selector.register(self.zygote, selectors.EVENT_READ, None)
        while True:
            for key, events in self.selector.select():
                if key.data is None:
                    if not self._from_zygote():
                        return
                    continue
                role, child = key.data
                if child.finished() or key.fileobj not in self.watched:
                    continue  # closed earlier in this batch
                child.on(role, events)
                self._watch(child)

    def _watch(self, child):
        """Make the selector wait for what ``child`` wants now; close it once it is done."""
        wanted = {} if child.finished() else child.interest()
        for (role, fileobj), events in wanted.items():
            current = self.watched.get(fileobj, 0)
            if events and not current:
                self.selector.register(fileobj, events, (role, child))
            elif events and events != current:
                self.selector.modify(fileobj, events, (role, child))
            elif current and not events:
                self.selector.unregister(fileobj)
            if events:
                self.watched[fileobj] = events
            else:
                self.watched.pop(fileobj, None)
        if child.finished():
            for fileobj in (child.to_controller.sock, child.to_agent.sock, child.reports):
                if self.watched.pop(fileobj, 0):
                    self.selector.unregister(fileobj)
            child.close()

    def _from_zygote(self):
        data, ancdata, _, _ = self.zygote.recvmsg(MAX_MESSAGE, socket.CMSG_SPACE(4 * 4))
        if not data:
            return False
        body, fds = json.loads(data.decode()), _rights(ancdata)
        if body["op"] == Handoff.CHILD:
            controller, agent, reports, pidfd = fds
            child = _Child(socket.socket(fileno=controller), socket.socket(fileno=agent), reports, pidfd,
                           body["host_pid"])
            self.children[body["pid"]] = child
        elif body["op"] == Handoff.REAPED:
            child = self.children.pop(body["pid"])
            child.end(body["status"], body["cpu_s"], body["maxrss_kb"])
        self._watch(child)
        return True


class _Zygote:
    """The fork server: one agent per ``spawn``, straight into its own pid namespace; it reaps
    them and tells the relay."""

    def __init__(self, ctl, cfg, relay):
        self.ctl, self.cfg, self.relay = ctl, cfg, relay
        self.selector = selectors.DefaultSelector()
        self.agents = {}  # pid -> its init's pid (or None)
        self.inits = set()  # killed, not yet reaped
        self.own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC) if cfg["namespaces"] else None
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)

    def serve(self):
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.selector.register(self.ctl, selectors.EVENT_READ, "ctl")
        self.selector.register(self.wake_r, selectors.EVENT_READ, "wake")
        self.selector.register(self.relay, selectors.EVENT_READ, "relay")
        while True:
            for key, _ in self.selector.select():
                if key.data == "ctl" and not self._command():
                    return
                if key.data == "relay":
                    return  # the relay died: no run can be carried, so the pool starts a new zygote
                if key.data == "wake":
                    os.read(self.wake_r, 4096)
                    self._reap()

    def _command(self):
        try:
            data = self.ctl.recv(MAX_MESSAGE)
        except InterruptedError:
            return True
        if not data:
            return False
        op = _op(data)
        if op == Command.SPAWN:
            self._spawn()
        return op != Command.STOP

    def _reap(self):
        """Reap what exited; tell the relay each agent's status."""
        for pid in list(self.agents):
            try:
                done, status, usage = os.wait4(pid, os.WNOHANG)
            except ChildProcessError:
                done, status, usage = pid, None, None
            if not done:
                continue
            init = self.agents.pop(pid)
            if init is not None:
                os.kill(init, signal.SIGKILL)  # the namespace, and all the agent left in it, dies with its init
                self.inits.add(init)
            _send(self.relay, {"op": Handoff.REAPED, "pid": pid, "status": status,
                               "cpu_s": usage.ru_utime + usage.ru_stime if usage else 0.0,
                               "maxrss_kb": usage.ru_maxrss if usage else 0})
        for pid in list(self.inits):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                self.inits.discard(pid)

    def _spawn(self):
        """Fork one agent, straight into a pid namespace of its own (one fork per run).

        A failure (unshare, the init, fork, setns) is raised: the zygote exits, and the
        pool, which counted on this spare, starts a new one."""
        channel, peer = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        reports_r, reports_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        pid, init = self._fork()
        if pid == 0:
            try:
                self._in_child()
                channel.close()
                mine.close()
                os.close(reports_r)
                _send_with_fds(self.ctl, {"op": Report.HELLO}, [peer.fileno(), out_r, err_r])
                self.ctl.close()
                peer.close()
                os.close(out_r)
                os.close(err_r)
                _agent(theirs, reports_w, self.cfg, out_w, err_w)
            except BaseException:
                os.write(2, traceback.format_exc().encode(errors="replace"))
                try:
                    _tell(reports_w, {"op": Report.SANDBOX_ERROR, "text": traceback.format_exc()[-TRACEBACK_CAP:]})
                finally:
                    os._exit(71)
        for fd in (out_r, out_w, err_r, err_w, reports_w):
            os.close(fd)
        peer.close()
        theirs.close()
        self.agents[pid] = init
        pidfd = os.pidfd_open(pid)
        handoff = {"op": Handoff.CHILD, "pid": pid, "host_pid": None if self.cfg["namespaces"] else pid}
        _send_with_fds(self.relay, handoff, [channel.fileno(), mine.fileno(), reports_r, pidfd])
        channel.close()
        mine.close()
        os.close(reports_r)
        os.close(pidfd)

    def _fork(self):
        """(agent pid, init pid or None); in the agent, the pid is 0."""
        if self.own_pid_ns is None:
            return os.fork(), None
        # The zygote is root of a user namespace of its own (see main), so it may make a pid
        # namespace for its next children and then go back to its own for the ones after.
        _unshare(CLONE_NEWPID)
        init = None
        try:
            if self.cfg.get("init"):
                init = _start_init(self.cfg["init"])
            pid = os.fork()
        except BaseException:
            if init is not None:
                os.kill(init, signal.SIGKILL)
                os.waitpid(init, 0)
            self._back_to_own_pid_namespace()
            raise
        if pid:
            self._back_to_own_pid_namespace()
        return pid, init

    def _back_to_own_pid_namespace(self):
        _check(_libc.setns(self.own_pid_ns, CLONE_NEWPID), "setns")

    def _in_child(self):
        """Close in a new agent what it must not hold: the zygote's own descriptors."""
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        self.selector.close()
        self.relay.close()
        for fd in (self.wake_r, self.wake_w, self.own_pid_ns):
            if fd is not None:
                os.close(fd)


def _start_relay(ctl):
    """Fork the relay (still a bare interpreter: the preload comes after); returns the
    zygote's socket to it, which reads as closed once the relay is gone."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid:
        theirs.close()
        return ours
    try:
        ctl.close()
        ours.close()
        _Relay(theirs).serve()
    except BaseException:
        traceback.print_exc()
    os._exit(0)


def _enter_own_namespaces(ctl):
    """Become root of a user namespace of our own, as pid 1 of a pid namespace of our own.

    Root there, the zygote may make a pid namespace for each agent it forks, and
    the agent may make its other namespaces itself: no second fork per run.  This
    process stays behind, waits for the zygote and exits with it; it is the jail's
    pid 1, so killing it takes the zygote and every run with it.
    """
    _enter_user_namespace(CLONE_NEWPID)
    pid = os.fork()
    if pid == 0:
        return
    ctl.close()
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def main():
    cfg = json.loads(sys.argv[1])
    os.set_inheritable(cfg["fd"], False)  # no run's init (an exec) may hold it
    ctl = socket.socket(fileno=cfg["fd"])
    started = time.monotonic()
    if cfg["namespaces"]:
        _enter_own_namespaces(ctl)
    relay = _start_relay(ctl)
    # Import only: running any OpenMP or CUDA work here would make every
    # forked child hang or fail in its own.
    errors = _preload(cfg["preload"])
    # Once here rather than in every run: each child inherits them (about 1.5 ms of CPU a run).
    _forget_zygote_exit_handlers()
    _fresh_signals()
    gc.collect()
    if hasattr(gc, "freeze"):
        gc.freeze()
    preloaded = time.monotonic()
    huge_mb = collapse_heap(COLLAPSE_BUDGET_S)
    _send(ctl, {
        "op": Report.READY,
        "preload_errors": errors,
        "preload_s": preloaded - started,
        "huge_pages_mb": huge_mb,
        "collapse_s": time.monotonic() - preloaded,
        "python": sys.version.split()[0],
    })
    try:
        _Zygote(ctl, cfg, relay).serve()
    except OSError as exc:
        if exc.errno not in (errno.ECONNRESET, errno.EPIPE):
            raise


if __name__ == "__main__":
    main()
