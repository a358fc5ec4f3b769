"""Command line: ``python -m bnpl_model train|evaluate|package|serve|retrain|promote|rollback|registry``."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bnpl_model", description="BNPL credit model")
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="select the champion, calibrate, write the artifact + REPORT.md + plots")
    t.add_argument("--data", required=True, help="training CSV")
    t.add_argument("--spec", required=True, help="data-set spec (YAML)")
    t.add_argument("--out", required=True, help="artifact directory to write (model.json, REPORT.md, *.png)")
    t.add_argument("--name", default="credit-scorecard", help="model version prefix")
    t.add_argument("--family", choices=("scorecard", "gbt"), help="train this family only (no champion selection)")
    t.add_argument("--cutoff-pd", type=float, help="policy cut-off for the fairness table (default: spec, 0.20)")
    t.add_argument("--folds", type=int, help="selection CV folds (default: spec, 5)")
    t.add_argument("--seed", type=int, help="selection CV seed (default: spec, 0)")
    t.add_argument("--report-dir", help="also copy REPORT.md and the plots here (e.g. model/report)")
    t.add_argument("--evaluation", help="JSON written by `evaluate --out`, embedded in model.json and REPORT.md")
    t.add_argument("--no-baselines", action="store_true", help="skip the baseline models in the report")
    t.add_argument("--no-plots", action="store_true", help="skip the PNG plots")

    e = sub.add_parser("evaluate", help="repeated stratified CV of the whole training procedure; prints JSON")
    e.add_argument("--data", required=True)
    e.add_argument("--spec", required=True)
    e.add_argument("--cv", default="5x2", help="FOLDSxREPEATS, default 5x2 (5-fold CV repeated twice)")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--no-baselines", action="store_true")
    e.add_argument("--out", help="also write the JSON to this file")

    p = sub.add_parser("package", help="write model.tar.gz for the SageMaker scikit-learn container")
    p.add_argument("--artifact", required=True, help="artifact directory (with model.json)")
    p.add_argument("--out", required=True, help="tarball to write, e.g. model.tar.gz")

    s = sub.add_parser("serve", help="serve an artifact with the SageMaker contract")
    s.add_argument(
        "--artifact",
        default=os.environ.get("MODEL_ARTIFACT_DIR"),
        help="artifact directory (default: $MODEL_ARTIFACT_DIR)",
    )
    s.add_argument("--host", default=os.environ.get("MODEL_HOST", "127.0.0.1"))
    s.add_argument("--port", type=int, default=int(os.environ.get("MODEL_PORT", "8080")))

    s.add_argument("--registry", default=os.environ.get("MODEL_REGISTRY_DIR"), help="serve this registry's champion")

    r = sub.add_parser("retrain", help="train a challenger from the data lake and compare it with the champion")
    r.add_argument("--lake", required=True, help="data lake folder (the credit service's LAKE_DIR)")
    r.add_argument("--registry", required=True, help="model registry folder")
    r.add_argument("--spec", required=True, help="the champion's data-set spec (YAML)")
    r.add_argument("--champion", help="champion artifact to register first (default: the registry's champion)")
    r.add_argument("--oot-fraction", type=float, default=0.3, help="newest share of outcomes held out (default 0.3)")
    r.add_argument("--as-of", help="label outcomes as known at this ISO date-time (default: now)")
    r.add_argument("--min-rows", type=int, default=50, help="fewest labelled rows to train on (default 50)")

    pr = sub.add_parser("promote", help="make a registered version the champion (recorded)")
    pr.add_argument("--registry", required=True)
    pr.add_argument("version")
    pr.add_argument("--reason", required=True)

    rb = sub.add_parser("rollback", help="return to the champion before the current one (recorded)")
    rb.add_argument("--registry", required=True)
    rb.add_argument("--reason", required=True)

    ls = sub.add_parser("registry", help="print the registry's index (versions, champion, history)")
    ls.add_argument("--registry", required=True)

    args = parser.parse_args(argv)
    if args.command in ("retrain", "promote", "rollback", "registry"):
        return _registry_command(args, parser)
    if args.command == "train":
        from bnpl_model.train import train

        evaluation = None
        if args.evaluation:
            with open(args.evaluation, encoding="utf-8") as fh:
                evaluation = json.load(fh)
        train(
            args.data,
            args.spec,
            args.out,
            name=args.name,
            family=args.family,
            cutoff_pd=args.cutoff_pd,
            folds=args.folds,
            seed=args.seed,
            baselines=not args.no_baselines,
            plots=not args.no_plots,
            report_dir=args.report_dir,
            evaluation=evaluation,
        )
        return 0

    if args.command == "evaluate":
        from bnpl_model.train import evaluate

        def progress(*a):
            print(*a, file=sys.stderr, flush=True)

        try:
            result = evaluate(
                args.data, args.spec, cv=args.cv, seed=args.seed, baselines=not args.no_baselines, log=progress
            )
        except ValueError as exc:
            parser.error(str(exc))
        text = json.dumps(result, indent=1)
        if args.out:
            with open(args.out, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
        print(text)
        return 0

    if args.command == "package":
        from bnpl_model.package import package

        path = package(args.artifact, args.out)
        print(path)
        return 0

    if args.registry:
        from bnpl_model.registry import champion_dir

        args.artifact = str(champion_dir(args.registry))
    if not args.artifact:
        parser.error("serve needs --artifact or MODEL_ARTIFACT_DIR (or --registry)")
    import uvicorn

    from bnpl_model.server import create_app

    # JSON logs are the app's (set up in its lifespan): uvicorn configures none, writes no access log.
    # Idle connections are kept longer than the credit service's client keeps them (30 s against
    # 10 s, bnpl_common.http): a call is never sent on a connection the server is closing.
    uvicorn.run(
        create_app(args.artifact),
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
        timeout_keep_alive=30,
    )
    return 0


def _registry_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from bnpl_model import registry

    try:
        if args.command == "retrain":
            from bnpl_model.retrain import retrain

            report = retrain(
                args.lake,
                registry=args.registry,
                spec_path=args.spec,
                champion_dir=args.champion,
                oot_fraction=args.oot_fraction,
                as_of=dt.datetime.fromisoformat(args.as_of) if args.as_of else None,
                min_rows=args.min_rows,
                log=lambda *a: print(*a, file=sys.stderr, flush=True),
            )
            print(json.dumps({k: report[k] for k in ("outcomes", "window", "verdict", "promote")}, indent=1))
        elif args.command == "promote":
            index = registry.promote(args.registry, args.version, reason=args.reason)
            print(f"champion: {index['champion']}")
        elif args.command == "rollback":
            index = registry.rollback(args.registry, reason=args.reason)
            print(f"champion: {index['champion']}")
        else:
            print(json.dumps(registry.load(args.registry), indent=1))
    except ValueError as exc:  # RegistryError, NotEnoughOutcomes: say what is wrong, no stack trace
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
