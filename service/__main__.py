"""Run the service: `python -m service --artifact artifacts/credit --host 127.0.0.1 --port 8000`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

import uvicorn

from service.app import ARTIFACT_ENV, create_app


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m service", description="credit-scoring model service"
    )
    parser.add_argument(
        "--artifact",
        default=os.environ.get(ARTIFACT_ENV),
        help=f"artifact directory (default: ${ARTIFACT_ENV})",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    if not args.artifact:
        parser.error(f"--artifact is required when ${ARTIFACT_ENV} is not set")
    logging.basicConfig(
        stream=sys.stderr,
        level=args.log_level.upper(),
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    try:
        app = create_app(args.artifact)
    except ValueError as error:
        print(f"service: {error}", file=sys.stderr)
        return 2
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
