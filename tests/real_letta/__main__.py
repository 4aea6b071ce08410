"""``python -m tests.real_letta up|down|install`` (from the repository root): see the package docstring."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import RealLettaError, cache_dir, down, install, up


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.real_letta", description=__doc__)
    parser.add_argument("action", choices=("up", "down", "install"))
    parser.add_argument("--cache", type=Path, default=None, help=f"state directory (default: {cache_dir()})")
    args = parser.parse_args(argv)
    try:
        if args.action == "up":
            server = up(args.cache)
            print(f"REAL_LETTA_URL={server.url}")
            print(f"REAL_LETTA_LOGS={server.logs}")
        elif args.action == "install":
            found = install(args.cache)
            print(f"REAL_LETTA_VENV={found.venv}")
            print(f"REAL_LETTA_SDIST={found.sdist}")
        else:
            for line in down(args.cache):
                print(line)
    except RealLettaError as error:
        print(f"real-letta: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
