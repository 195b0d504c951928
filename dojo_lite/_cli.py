"""``dojo-lite``: the command line of dojo_lite."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from importlib import resources

import sandbox


def _demo(as_json: bool) -> int:
    """Check the host, then run a real ML script (LightGBM + torch) in a fresh jail."""
    report = sandbox.doctor()
    script = resources.files("dojo_lite").joinpath("samples/fit_lightgbm.py").read_bytes()
    result = sandbox.run(script, limits=sandbox.Limits(timeout=300, memory="4G", cpus=2))
    if as_json:
        print(json.dumps({"doctor": report.to_json(), "run": result.to_json()}))
    else:
        print(report.render())
        print("\n--- jailed run of samples/fit_lightgbm.py ---")
        sys.stdout.write(result.stdout.text)
        sys.stdout.write(result.stderr.text)
        print(f"status={result.status.value} wall={result.wall_s:.2f}s cpu={result.cpu_s}s "
              f"peak_memory={result.peak_memory_bytes} files={[f.path for f in result.files]}")
    return 0 if result.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dojo-lite", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="check the host and run a sample ML script in a jail")
    demo.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    return _demo(args.json)


if __name__ == "__main__":
    sys.exit(main())
