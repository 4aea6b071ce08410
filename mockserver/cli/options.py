"""Options more than one command takes, defined once."""

from __future__ import annotations

import argparse

__all__ = ["add_header_option"]


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected 'Name: value', got {text!r}")
    return name.strip(), value.strip()


def add_header_option(parser: argparse.ArgumentParser) -> None:
    """``--header 'Name: value'`` (repeatable): ``args.header`` is a list of (name, value) pairs."""
    parser.add_argument("--header", metavar="'Name: value'", type=_header, action="append", default=[],
                        help="a header for every request (repeatable)")  # fmt: skip
