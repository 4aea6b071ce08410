"""``letta-mock``: the command line. One row per command in ``COMMANDS``, each a module of this package with
``add_arguments(parser)`` and ``run(args) -> exit status``; a command imports what it needs when it runs, so
``letta-mock --help`` stays fast."""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from mockserver.version import __version__

__all__ = ["COMMANDS", "build_parser", "main"]

DESCRIPTION = """\
A mock Letta server for testing Letta clients: every /v1/agents/{agent_id}/messages endpoint (JSON and SSE),
conversations, runs and message search, valid against Letta's OpenAPI document, with no LLM and no network.
"""

EPILOG = """\
examples:
  letta-mock serve                                  # http://127.0.0.1:8283, any agent-<uuid4> id works
  letta-mock serve --seed 7                         # reproducible ids and dates
  letta-mock serve --scenario tool_call --pace realistic
                                                    # front-end work: timed token streams, a tool call every turn

then point a client at it, e.g. Letta(base_url="http://127.0.0.1:8283", api_key="anything");
`letta-mock COMMAND --help` says more about each command.
"""


@dataclass(frozen=True)
class Command:
    name: str
    module: str  # mockserver.cli.<module>: add_arguments(parser), run(args)
    help: str
    description: str


COMMANDS: tuple[Command, ...] = (
    Command("serve", "serve", "run the mock server", "Run the mock Letta server."),
    Command(
        "record", "record", "record a Letta server's answers as fixtures",
        "Run a recording proxy: point a client at it, it forwards to the upstream Letta server and writes each "
        "exchange (streams chunk by chunk, with their timing) as a fixture file.",
    ),
    Command(
        "fixtures", "fixtures", "check and list fixtures",
        "Check recorded fixtures against the contract (and a live server), or list the curated ones.",
    ),
    Command(
        "fuzz", "fuzz", "fuzz a Letta server with schemathesis",
        "Fuzz any Letta server with schemathesis, with checks that understand agent streams.",
    ),
    Command(
        "conformance", "conformance", "check that the mock still answers like a Letta server",
        "Run one fixed official-SDK session against a Letta server and against the mock's --fidelity server "
        "profile, and report every difference in status and shape, per operation.",
    ),
)  # fmt: skip


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The CLI's parser; ``only`` names the one subcommand to build in full (the others are listed, their modules
    not imported: ``letta-mock serve`` does not pay for importing ``fuzz``'s); ``""`` builds none (the top-level help,
    ``--version``, a mistyped command); None builds every one."""
    parser = argparse.ArgumentParser(
        prog="letta-mock", description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"letta-mock {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        sub = commands.add_parser(
            command.name,
            help=command.help,
            description=command.description,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if only is not None and command.name != only:
            continue
        module = importlib.import_module(f"mockserver.cli.{command.module}")
        sub.epilog = getattr(module, "EPILOG", None)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    asked = next((word for word in words if not word.startswith("-")), None)
    known = {command.name for command in COMMANDS}
    if asked in known:
        # The server process is ours: pydantic need not look for plugins among every installed package (its
        # documented switch; ~30 ms of start-up).
        os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    gc.disable()  # what start-up allocates (modules, classes, tables) lives as long as the process: nothing to collect
    try:
        parser = build_parser(asked if asked in known else "")
        args = parser.parse_args(argv)
    finally:
        gc.enable()
    if args.command is None:
        parser.print_help()
        return 0 if argv is not None and not argv else 2
    status: int = args.run(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
