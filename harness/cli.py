"""The ``harness`` command: parses arguments and calls the library; nothing more."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from harness.config import load_config
from harness.engine import run_check
from harness.errors import HarnessError
from harness.verdict import summarize

EXIT_GATES_FAILED = 1


def _cmd_check(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    run = run_check(config, args.profile, Path(args.reports), stream=args.verbose)
    print(summarize(run.verdict, f"harness check --profile {args.profile}"))
    print(f"  reports: {', '.join(str(p) for p in run.junit) or run.reports_dir}")
    print(f"  log:     {run.log}")
    return 0 if run.verdict.passed else EXIT_GATES_FAILED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harness", description="Test a model service and gate its promotion."
    )
    parser.add_argument(
        "--config",
        default=os.environ.get("HARNESS_CONFIG", "harness.yaml"),
        help="configuration file (default: $HARNESS_CONFIG or ./harness.yaml)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="run a profile's checks and decide the verdict")
    check.add_argument("--profile", required=True, help="profile in the config, e.g. pr")
    check.add_argument("--reports", default="reports", help="report folder (default: reports)")
    check.add_argument("-v", "--verbose", action="store_true", help="stream pytest's output")
    check.set_defaults(func=_cmd_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except HarnessError as exc:
        print(f"harness: error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
