"""Command line: ``python -m bnpl_model train|serve``."""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bnpl_model", description="BNPL scorecard model")
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a scorecard and write the artifact directory")
    t.add_argument("--data", required=True, help="training CSV")
    t.add_argument("--spec", required=True, help="data-set spec (YAML)")
    t.add_argument("--out", required=True, help="artifact directory to write")
    t.add_argument("--name", default="credit-scorecard", help="model version prefix")
    t.add_argument("--folds", type=int, default=5, help="stratified CV folds")
    t.add_argument("--seed", type=int, default=0)

    s = sub.add_parser("serve", help="serve an artifact with the SageMaker contract")
    s.add_argument(
        "--artifact",
        default=os.environ.get("MODEL_ARTIFACT_DIR"),
        help="artifact directory (default: $MODEL_ARTIFACT_DIR)",
    )
    s.add_argument("--host", default=os.environ.get("MODEL_HOST", "127.0.0.1"))
    s.add_argument("--port", type=int, default=int(os.environ.get("MODEL_PORT", "8080")))

    args = parser.parse_args(argv)
    if args.command == "train":
        from bnpl_model.train import train

        train(args.data, args.spec, args.out, name=args.name, folds=args.folds, seed=args.seed)
        return 0

    if not args.artifact:
        parser.error("serve needs --artifact or MODEL_ARTIFACT_DIR")
    import uvicorn

    from bnpl_model.server import create_app

    uvicorn.run(create_app(args.artifact), host=args.host, port=args.port, log_level="info")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
