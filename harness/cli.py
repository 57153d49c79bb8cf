"""The ``harness`` command: parses arguments and calls the library; nothing more."""

from __future__ import annotations

import argparse
import math
import os
import shlex
import signal
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, NoReturn

from harness.errors import GoldenIntegrityError, HarnessError

EXIT_GATES_FAILED = 1

if TYPE_CHECKING:
    from harness.candidate.identity import Candidate
    from harness.config import HarnessConfig
    from harness.deploy.protection import BreakGlass

# Each command imports what it uses when it runs: `harness --help` loads none of it.


def _config(args: argparse.Namespace) -> HarnessConfig:
    from harness.config import load_config

    return load_config(args.config)


def _cmd_check(args: argparse.Namespace) -> int:
    from harness.run.engine import run_check
    from harness.run.verdict import summarize

    config = _config(args)
    if args.remote_workers is not None or args.master_bind is not None:
        # Only here: the load package reads data with pandas, which a check need not load.
        from harness.load.worker import distributed

        config = distributed(config, args.remote_workers, args.master_bind)
    run = run_check(config, args.profile, Path(args.reports), stream=args.verbose,
                    target_url=args.target_url)
    print(summarize(run.verdict, f"harness check --profile {args.profile}"))
    print(f"  reports: {', '.join(str(p) for p in run.junit) or run.reports_dir}")
    print(f"  log:     {run.log}")
    print(f"  history: run {run.run_id}, candidate "
          f"{run.candidate_id or 'none (no model.artifact: nothing to deploy or promote)'}")
    if run.candidate_id:
        print(f"  promote: harness promote --candidate {run.candidate_id} --approver NAME "
              "(once its release checks have passed)")
    if run.report is not None:
        print(f"  report:  {run.report.page}")
        print(f"  summary: {run.report.summary}")
    return 0 if run.verdict.passed else EXIT_GATES_FAILED


def _cmd_init(args: argparse.Namespace) -> int:
    from harness.init import InitRequest, init_project

    request = InitRequest(
        data=Path(args.data), label=args.label, positive=args.positive,
        entrypoint=args.entrypoint, artifact=Path(args.model_artifact), folder=Path(args.dir),
        name=args.name, dataset=args.dataset, golden_fraction=args.golden_fraction,
        seed=args.seed, managers=args.manager or [],
        ports=(args.staging_port, args.production_port),
        build=shlex.split(args.build) if args.build else None)
    print("\n".join(init_project(request)))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from harness.history import HistoryStore
    from harness.run.report import write_report

    config = _config(args)
    config.profile(args.profile)  # an unknown profile is named, with the known ones
    store = HistoryStore(config.history_url())
    try:
        files = write_report(config, args.profile, Path(args.reports) / args.profile, store)
    finally:
        store.close()
    print(f"report:  {files.page}")
    print(f"summary: {files.summary}")
    return 0


def _cmd_golden_verify(args: argparse.Namespace) -> int:
    from harness import golden_commands

    good, bad = golden_commands.verify_all(_config(args))
    print("\n".join(good))
    if bad:
        raise GoldenIntegrityError("\n".join(bad))
    return 0


def _cmd_golden_add(args: argparse.Namespace) -> int:
    from harness import golden_commands

    config = _config(args)
    lines = golden_commands.add(config, args.dataset, args.version,
                                [Path(f) for f in args.files], args.source)
    print("\n".join(lines))
    return 0


def _cmd_golden_plan(args: argparse.Namespace) -> int:
    from harness import golden_commands

    print("\n".join(golden_commands.plan(_config(args), args.margin, args.metric)))
    return 0


def _cmd_golden_bless(args: argparse.Namespace) -> int:
    from harness import golden_commands

    lines = golden_commands.bless(_config(args), args.by, args.reason,
                                  production=args.production)
    print("\n".join(lines))
    return 0


def _cmd_history(args: argparse.Namespace) -> int:
    from harness import golden_commands
    from harness.history import HistoryStore

    store = HistoryStore(_config(args).history_url())
    try:
        if args.compare:
            print(golden_commands.compare_runs(store, *args.compare))
        elif args.passports:
            print(golden_commands.passports_table(store))
        else:
            print(golden_commands.history_table(store, args.profile, args.limit))
    finally:
        store.close()
    return 0


def _cmd_benchmark(args: argparse.Namespace) -> int:
    from harness.gates.checks.benchmark import benchmark_report

    config = _config(args)
    report = benchmark_report(config, Path(args.reports) / "benchmark", args.save_baseline)
    print(report.text)
    return 0 if report.passed else EXIT_GATES_FAILED


def _publishing() -> ModuleType:
    """``harness.candidate.publish``, imported by the commands that use a registry: its client (oras,
    then jsonschema's format grammars) costs about a second at import, every command."""
    from harness.candidate import publish

    return publish


def _break_glass(args: argparse.Namespace) -> BreakGlass | None:
    """The break-glass the options ask for (``BreakGlass`` or None), or a refusal."""
    from harness.deploy.protection import BreakGlass
    from harness.errors import ProtectedEnvironment

    if not args.break_glass:
        if args.reason is not None or args.by is not None:
            raise ProtectedEnvironment("--reason and --by go with --break-glass",
                                       key="--break-glass")
        return None
    if not args.reason or not args.by:
        raise ProtectedEnvironment("--break-glass needs --reason TEXT (why) and --by NAME "
                                   "(the release manager breaking it)", key="--break-glass")
    return BreakGlass(args.by, args.reason)


def _cmd_deploy(args: argparse.Namespace) -> int:
    from harness.deploy import operations
    from harness.deploy.protection import guard
    from harness.deploy.target import describe

    config = _config(args)
    glass = _break_glass(args)
    guard(config, args.env, "deploy", glass)  # refused before anything is pulled
    if args.candidate:
        candidate = _publishing().candidate_from_reference(config, args.candidate, args.image)
    else:
        candidate = operations.candidate_for(config, args.artifact, args.image)
    print(describe(args.env, operations.deploy(config, args.env, candidate, glass)))
    return 0


def _candidate_argument(config: HarnessConfig, given: str) -> Candidate:
    """``--candidate REF|ARTIFACT`` of shadow and canary: a published reference (pulled and
    checked by digest) or an artifact folder."""
    from harness.deploy import operations

    if "@sha256:" in given:
        return _publishing().candidate_from_reference(config, given, None)
    return operations.candidate_for(config, Path(given).absolute())


def _cmd_shadow(args: argparse.Namespace) -> int:
    from harness.release.shadow import run_shadow

    config = _config(args)
    candidate = _candidate_argument(config, args.candidate)
    result = run_shadow(config, args.env, candidate, args.max_requests, args.max_duration,
                        args.replay_golden, Path(args.reports), noise_floor=args.noise_floor)
    for case in result.cases:
        print(f"  {case.outcome.value:<8} {case.name}: {case.message}")
    print(f"shadow of candidate {candidate.id} beside {args.env}: {result.verdict.value} on "
          f"{result.pairs} joined requests; JUnit {result.junit}")
    if result.evidence_note:
        print(f"  evidence: {result.evidence_note}")
    return result.exit_code


def _canary_mode_problem(args: argparse.Namespace) -> str | None:
    """Which of canary's options do not go together: a new canary needs --candidate and
    (unless it holds before its last step) --approver; --resume the approver only; --abort
    who gives it up, and which candidate's hold it may end."""
    if args.abort:
        given = [o for o, v in (("--approver", args.approver), ("--steps", args.steps),
                                ("--replay-golden", args.replay_golden),
                                ("--hold-before-last", args.hold_before_last)) if v]
        return f"--abort takes no {', '.join(given)}" if given else None
    if args.if_held:
        return "--if-held goes with --abort only"
    if args.by is not None and not args.hold_before_last:
        return ("--by names who runs --hold-before-last or --abort; here the approver "
                "(--approver) is who runs it")
    if args.resume:
        if args.hold_before_last or args.steps:
            return "--resume runs the held canary's last step: no --hold-before-last, --steps"
        return None if args.approver else "--resume needs --approver NAME, a release manager"
    if not args.candidate:
        return "a new canary needs --candidate REF|ARTIFACT (or --resume, --abort)"
    if args.hold_before_last:
        return ("--hold-before-last asks the approval before the last step: give --approver "
                "to `harness canary --resume`, and who runs the steps as --by"
                if args.approver else None)
    return None if args.approver else ("--approver NAME is needed (or --hold-before-last, "
                                       "to ask the approval before the last step)")


def _cmd_canary(args: argparse.Namespace) -> int:
    from harness.errors import PromotionRefused
    from harness.release import canary

    problem = _canary_mode_problem(args)
    if problem:
        raise PromotionRefused(problem)
    config = _config(args)
    held = args.candidate
    if (args.abort or args.resume) and held and "@sha256:" in held:
        # A published reference: the id it was canaried as.
        held = _publishing().candidate_from_reference(config, held, None).id
    if args.abort:
        print(canary.abort_canary(config, args.env, args.by or "harness", held, args.if_held))
        return 0
    if args.resume:
        result = canary.resume_canary(config, args.env, args.approver, held,
                                      args.replay_golden, args.max_requests, Path(args.reports))
    else:
        result = canary.run_canary(config, args.env, _candidate_argument(config, args.candidate),
                                   args.approver or args.by or "harness", args.steps,
                                   args.replay_golden, args.max_requests, Path(args.reports),
                                   hold_before_last=args.hold_before_last)
    for case in result.steps:
        print(f"  {case.outcome.value:<8} {case.name}: {case.message}")
    print(result.promotion.message)
    if result.junit:
        print(f"  canary report: {result.junit}")
    print(f"  promotion report: {result.promotion.junit}")
    return result.exit_code


def _cmd_build(args: argparse.Namespace) -> int:
    from harness.candidate.build import build

    config = _config(args)
    built = build(config)
    how = "built by model.build" if built.command else "model.build is not set; found"
    print(f"artifact: {built.path} ({how})")
    print(f"  sha256: {built.sha256}")
    if built.lineage is not None:
        print(f"  lineage: {built.lineage}")
    return 0


def _cmd_publish(args: argparse.Namespace) -> int:
    config = _config(args)
    if config.registry is None and args.if_configured:
        print(f"not published: {config.source} has no 'registry' section, so this candidate "
              "stays on this machine (a promotion by digest needs a registry; see "
              "docs/registry.md)")
        return 0
    published = _publishing().publish(config, Path(args.artifact) if args.artifact else None,
                                      args.tag)
    if args.write:
        Path(args.write).write_text(published.pinned + "\n", encoding="utf-8")
    print(published.pinned)
    return 0


def _cmd_pull(args: argparse.Namespace) -> int:
    config = _config(args)
    if args.env is not None and config.protected(args.env):
        from harness.attest.release import pull_verified

        print(pull_verified(config, args.reference, Path(args.out), args.env, args.as_of))
        return 0
    print(_publishing().pull(config, args.reference, Path(args.out)))
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from harness.attest import keys
    from harness.attest.release import collected, describe, trust
    from harness.attest.verify import decide
    from harness.release.attested import attested_digest

    config = _config(args)
    digest, reference = attested_digest(config, args.ref)
    decision = decide(collected(config, digest, reference), trust(config), digest)
    print("\n".join(describe(decision, digest, keys.local_mode(config))))
    return 0 if decision.allowed else 2


def _cmd_rbac(args: argparse.Namespace) -> int:
    from harness.deploy.rbac import write_rbac

    print(write_rbac(_config(args), args.env, args.service_account, args.account_namespace,
                     Path(args.out)))
    return 0


def _cmd_route(args: argparse.Namespace) -> int:
    from harness.deploy.httproute import write_route

    print(write_route(_config(args), args.env, Path(args.out), shadow=args.shadow,
                      canary_share=args.canary))
    return 0


def _cmd_keygen(args: argparse.Namespace) -> int:
    from harness.attest.keys import fingerprint, generate
    from harness.errors import AttestationError

    out = Path(args.out)
    if out.exists():
        raise AttestationError(f"{out} exists; keygen never overwrites a key")
    key = generate(out)
    print(f"private key: {out} (keep it out of the repository: a CI credential)")
    print(f"public key:  {out}.pub ({fingerprint(key.public_key())}); name it under "
          "release.attestations.keys")
    return 0


def _cmd_load_render(args: argparse.Namespace) -> int:
    from harness.load.manifests import LoadCluster, load_manifests, write_load_manifests

    config = _config(args)
    cluster = LoadCluster(args.image, args.namespace, args.workers, args.profile,
                          args.target_url, args.reports_claim)
    for path in write_load_manifests(load_manifests(config, cluster), Path(args.out)):
        print(path)
    return 0


def _cmd_load_worker(args: argparse.Namespace) -> int:
    from harness.load.worker import run_worker

    config = _config(args)
    run_worker(config, args.master, Path(args.reports) / "load-worker", args.source,
               args.wait_s)
    print(f"load worker for master {args.master}: done")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import logging

    import uvicorn

    from harness.candidate.identity import MODEL_REFERENCE_ENV
    from harness.server import create_app

    config = _config(args)
    artifact = Path(args.artifact).resolve() if args.artifact else None
    logging.basicConfig(stream=sys.stderr, level=args.log_level.upper(),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = create_app(config, artifact, max_body_bytes=args.max_body_bytes,
                     model_reference=os.environ.get(MODEL_REFERENCE_ENV) or None,
                     freeze_heap=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    from harness.deploy import operations
    from harness.deploy.protection import last_break_glass
    from harness.deploy.target import describe
    from harness.release.recovery import held_canary, interrupted_promotion

    config = _config(args)
    deployments = operations.status(config, [args.env] if args.env else None)
    for env, deployment in deployments.items():
        print(describe(env, deployment))
        glass = last_break_glass(config, env) if config.protected(env) else None
        if glass:
            print(f"  {glass}")
    found = interrupted_promotion(config)
    if found:
        print(found)
    held = None if found else held_canary(config)  # not a fault: it awaits its approval
    if held:
        print(held)
    healthy = all(d is None or d.healthy for d in deployments.values())
    return 0 if healthy and not found else EXIT_GATES_FAILED


def _cmd_rollback(args: argparse.Namespace) -> int:
    from harness.deploy import operations
    from harness.deploy.target import describe

    config = _config(args)
    print(describe(args.env, operations.rollback(config, args.env, _break_glass(args))))
    return 0


def _cmd_stop(args: argparse.Namespace) -> int:
    from harness.deploy import operations

    config = _config(args)
    operations.stop(config, args.env, _break_glass(args))
    print(f"{args.env}: stopped")
    return 0


def _cmd_promote(args: argparse.Namespace) -> int:
    from harness.release.promotion import promote

    config = _config(args)
    candidate_id = args.candidate
    if "@" in candidate_id:  # a published reference: the id its deploy to staging had
        candidate_id = _publishing().candidate_from_reference(config, candidate_id,
                                                              args.image).id
    result = promote(config, candidate_id, args.approver, Path(args.reports))
    print(result.message)
    print(f"  report: {result.junit}")
    return 0 if result.promoted else EXIT_GATES_FAILED


def _cmd_recover(args: argparse.Namespace) -> int:
    from harness.history import HistoryStore
    from harness.release.recovery import held_canary, recover

    config = _config(args)
    store = HistoryStore(config.history_url())
    try:
        found = recover(config, store, args.by) or held_canary(config)
    finally:
        store.close()
    print(found or "no interrupted promotion: nothing to recover")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from harness.release.pipeline import run_release

    promoted = run_release(_config(args), args.approver, Path(args.reports),
                           publish_first=args.publish)
    return 0 if promoted else EXIT_GATES_FAILED


def _cmd_audit(args: argparse.Namespace) -> int:
    from harness.history import HistoryStore
    from harness.history.release import audit_trail

    store = HistoryStore(_config(args).history_url())
    try:
        for entry in audit_trail(store, args.limit):
            print(f"{entry.at[:19]}  {entry.actor:<12} {entry.action:<8} "
                  f"{entry.candidate_id:<13} {entry.outcome:<11} {entry.detail}")
    finally:
        store.close()
    return 0


def _cmd_deepchecks_install(args: argparse.Namespace) -> int:
    from harness.gates.deepchecks_env import install

    print(install(announce=print))
    return 0


def _add_deepchecks_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    deepchecks = commands.add_parser("deepchecks", help="deepchecks' own environment")
    actions = deepchecks.add_subparsers(dest="deepchecks_command", required=True,
                                        metavar="ACTION")
    install = actions.add_parser(
        "install", help="create deepchecks' cached virtualenv now (e.g. in a CI Install "
        "stage); prints its folder; does nothing if it is ready")
    install.set_defaults(func=_cmd_deepchecks_install)


def _add_release_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]

    promote_ = commands.add_parser(
        "promote", help="promote a candidate to production on a release manager's approval")
    promote_.add_argument("--candidate", required=True,
                          help="candidate id, or its published reference REGISTRY/REPO@sha256:...")
    promote_.add_argument("--image", help="with a reference: the service image it was deployed "
                          "with, name@sha256:<digest> (kubernetes)")
    promote_.add_argument("--approver", required=True, help="the release manager approving it")
    promote_.add_argument("--reports", default="reports", help="report folder (default: reports)")
    promote_.set_defaults(func=_cmd_promote)

    recover_ = commands.add_parser(
        "recover", help="find a promotion that was killed midway and restore production")
    recover_.add_argument("--by", default="harness", help="who recovers, for the audit trail")
    recover_.set_defaults(func=_cmd_recover)

    run = commands.add_parser(
        "run", help="the whole release: checks, staging, evidence, promotion, verification")
    run.add_argument("--approver", required=True, help="the release manager approving it")
    run.add_argument("--reports", default="reports", help="report folder (default: reports)")
    run.add_argument("--publish", action="store_true",
                     help="publish the candidate to the registry and deploy it by digest")
    run.set_defaults(func=_cmd_run)

    audit = commands.add_parser("audit", help="show the audit trail of promotions")
    audit.add_argument("--limit", type=int, default=50)
    audit.set_defaults(func=_cmd_audit)


def _add_deploy_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    deploy = commands.add_parser("deploy", help="deploy a candidate to an environment")
    deploy.add_argument("--env", required=True, help="environment in the config, e.g. staging")
    source = deploy.add_mutually_exclusive_group()
    source.add_argument("--artifact", help="model artifact folder (default: model.artifact)")
    source.add_argument("--candidate", help="a published candidate, REGISTRY/REPO@sha256:... "
                        "(as harness publish printed it): pulled by digest, every layer checked")
    deploy.add_argument("--image", help="container image, name@sha256:<digest> (kubernetes)")
    _add_break_glass(deploy)
    deploy.set_defaults(func=_cmd_deploy)

    shadow = commands.add_parser(
        "shadow", help="judge a candidate on production's own requests: nginx mirrors them "
        "to it beside production, and the two answers are compared request by request")
    shadow.add_argument("--env", required=True, help="the environment shadowed, e.g. production")
    shadow.add_argument("--candidate", required=True, metavar="REF|ARTIFACT",
                        help="a published candidate (REGISTRY/REPO@sha256:...) or an "
                        "artifact folder")
    shadow.add_argument("--max-requests", type=_positive_int, required=True, metavar="N",
                        help="judge at most N joined requests (the sequential tests may "
                        "decide sooner)")
    shadow.add_argument("--max-duration", type=_positive_float, required=True, metavar="S",
                        help="and mirror for at most S seconds")
    shadow.add_argument("--replay-golden", action="store_true",
                        help="send the traffic too: Locust replays golden rows at the "
                        "environment's router (loopback only), bounded by N and S")
    shadow.add_argument("--noise-floor", action="store_true",
                        help="mirror to a second copy of production too, and judge the "
                        "candidate's excess over production's own disagreement with itself "
                        "(for a nondeterministic model)")
    shadow.add_argument("--reports", default="reports", help="report folder (default: reports)")
    shadow.set_defaults(func=_cmd_shadow)

    canary = commands.add_parser(
        "canary", help="step production's traffic to a candidate (10, 50, 100 %% by default), "
        "judge each step against the stable revision, abort by itself, promote at the end")
    canary.add_argument("--env", required=True, help="the environment, release.production")
    canary.add_argument("--candidate", metavar="REF|ARTIFACT",
                        help="a published candidate (REGISTRY/REPO@sha256:...) or an "
                        "artifact folder, with passing release-check evidence (with "
                        "--resume or --abort: the reference, id or artifact digest the held "
                        "canary must be)")
    canary.add_argument("--approver",
                        help="the release manager approving it (checked before the first "
                        "step, or with --resume before the last)")
    canary.add_argument("--hold-before-last", action="store_true",
                        help="run the steps before the last on the evidence alone, then hold "
                        "there (the canary keeps its share) and exit, for --resume")
    canary.add_argument("--resume", action="store_true",
                        help="the held canary's last step, on --approver's approval, then the "
                        "switch")
    canary.add_argument("--abort", action="store_true",
                        help="give up the held canary: all traffic back on stable, stopped")
    canary.add_argument("--if-held", action="store_true",
                        help="with --abort: exit 0 when no canary is held (a build's clean-up)")
    canary.add_argument("--by", help="who runs --hold-before-last or --abort, for the audit "
                        "trail (default: harness)")
    canary.add_argument("--steps", type=_shares, metavar="P,P,...",
                        help="the canary's shares in percent, rising (default: "
                        "release.canary.steps)")
    canary.add_argument("--replay-golden", action="store_true",
                        help="send the traffic too: Locust replays golden rows at the "
                        "environment's router (loopback only), bounded by --max-requests")
    canary.add_argument("--max-requests", type=_positive_int, default=5000, metavar="N",
                        help="with --replay-golden: at most N requests in all (default 5000)")
    canary.add_argument("--reports", default="reports", help="report folder (default: reports)")
    canary.set_defaults(func=_cmd_canary)

    publish_ = commands.add_parser(
        "publish", help="push the model artifact to the OCI registry; prints its reference")
    publish_.add_argument("--artifact", help="model artifact folder (default: model.artifact)")
    publish_.add_argument("--tag", help="also tag it (a tag may move; deploys use the digest)")
    publish_.add_argument("--write", metavar="FILE", help="also write the reference to FILE")
    publish_.add_argument("--if-configured", action="store_true",
                          help="without a 'registry' section, say so and exit 0 instead of "
                          "refusing (pipelines that publish when a team has a registry)")
    publish_.set_defaults(func=_cmd_publish)

    pull = commands.add_parser(
        "pull", help="pull a published candidate by digest into a folder, every layer checked")
    pull.add_argument("--reference", required=True, help="REGISTRY/REPO@sha256:...")
    pull.add_argument("--out", required=True, help="folder to create with the artifact")
    pull.add_argument("--env", help="the environment it is pulled for: a protected one "
                      "(production) verifies the model's signed attestations first")
    pull.add_argument("--as-of", metavar="TIME", help="with --env: judge the attestations' "
                      "freshness at TIME (ISO 8601), the deploy's time, not now")
    pull.set_defaults(func=_cmd_pull)

    verify = commands.add_parser(
        "verify", help="print a candidate's signed attestations; exit 2 when they would not "
        "let it into production")
    verify.add_argument("ref", nargs="?", help="REGISTRY/REPO@sha256:..., an artifact sha256 "
                        "or a candidate id (default: model.artifact)")
    verify.set_defaults(func=_cmd_verify)

    keygen = commands.add_parser(
        "keygen", help="make an Ed25519 signing key (FILE) and its public key (FILE.pub)")
    keygen.add_argument("--out", required=True, help="where to write the private key")
    keygen.set_defaults(func=_cmd_keygen)

    rbac = commands.add_parser(
        "rbac", help="write the RBAC that lets only the promote job's service account write "
        "a protected environment's namespace (kubernetes; a cluster admin applies it)")
    rbac.add_argument("--env", default="production", help="the protected environment")
    rbac.add_argument("--service-account", default="harness-promote",
                      help="the promote job's service account (default harness-promote)")
    rbac.add_argument("--account-namespace", required=True,
                      help="the namespace the promote job runs in (e.g. jenkins)")
    rbac.add_argument("--out", required=True, help="folder to write rbac-<env>.yaml in")
    rbac.set_defaults(func=_cmd_rbac)

    route = commands.add_parser(
        "route", help="write the Gateway API HTTPRoute that fronts an environment's Service "
        "(kubernetes)")
    route.add_argument("--env", default="production", help="the environment")
    routed = route.add_mutually_exclusive_group()
    routed.add_argument("--shadow", action="store_true",
                        help="with the RequestMirror filter copying predictions to the "
                        "shadow's Service (<service>-shadow)")
    routed.add_argument("--canary", type=_share, metavar="SHARE",
                        help="weighted: SHARE of the requests (0.1 for 10%%) to the canary's "
                        "Service (<service>-canary), the rest to the stable one")
    route.add_argument("--out", required=True,
                       help="folder to write httproute-<env>[-shadow|-canary].yaml in")
    route.set_defaults(func=_cmd_route)

    serve = commands.add_parser(
        "serve", help="serve the config's model over the harness's HTTP contract")
    serve.add_argument("--artifact", help="model artifact folder (default: model.artifact)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--max-body-bytes", type=int, default=1 << 20,
                       help="larger request bodies are refused with 413 (default: 1 MiB)")
    serve.add_argument("--log-level", default="warning",
                       choices=["critical", "error", "warning", "info", "debug"])
    serve.set_defaults(func=_cmd_serve)

    status = commands.add_parser("status", help="show what is deployed where, and its health")
    status.add_argument("--env", help="one environment (default: all)")
    status.set_defaults(func=_cmd_status)

    rollback = commands.add_parser("rollback", help="run an environment's previous revision")
    rollback.add_argument("--env", required=True)
    _add_break_glass(rollback)
    rollback.set_defaults(func=_cmd_rollback)

    stop = commands.add_parser("stop", help="stop serving in an environment")
    stop.add_argument("--env", required=True)
    _add_break_glass(stop)
    stop.set_defaults(func=_cmd_stop)


def _add_break_glass(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--break-glass", action="store_true",
                        help="a protected environment (production) outside `harness promote`: "
                        "for a release manager, audited")
    parser.add_argument("--reason", help="with --break-glass: why")
    parser.add_argument("--by", help="with --break-glass: the release manager breaking it")


class _Version(argparse.Action):
    """``--version``, looked up in the package metadata only when asked for."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(f"harness {_version()}")
        parser.exit()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("harness")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return "(not installed)"


# Options that name files or folders: relative to the current folder, as in every CLI,
# whatever folder the command then runs things in (paths in harness.yaml are relative
# to the config's folder instead).
def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


def _shares(text: str) -> list[float]:
    try:
        shares = [float(part) for part in text.split(",")]
    except ValueError:
        shares = []
    if not shares or any(not 0 < share <= 100 for share in shares) \
            or shares != sorted(set(shares)):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a rising list of percents in (0, 100], such as 10,50,100")
    return shares


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")
    return value


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a share of the traffic above 0 and at most 1 (0.1 for 10 %)")
    return value


_PATH_OPTIONS = ("reports", "artifact", "write", "out", "data", "dir")


def _absolute_paths(args: argparse.Namespace) -> argparse.Namespace:
    for name in _PATH_OPTIONS:
        value = getattr(args, name, None)
        if isinstance(value, str) and value:
            setattr(args, name, str(Path(value).absolute()))
    if getattr(args, "files", None):
        args.files = [str(Path(f).absolute()) for f in args.files]
    return args


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harness", description="Test a model service and gate its promotion."
    )
    parser.add_argument(
        "--config",
        default=os.environ.get("HARNESS_CONFIG", "harness.yaml"),
        help="configuration file (default: $HARNESS_CONFIG or ./harness.yaml)",
    )
    parser.add_argument("--version", action=_Version, nargs=0,
                        help="show the harness's version and exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser(
        "build", help="run the team's build (model.build) and check the artifact it made")
    build.set_defaults(func=_cmd_build)

    check = commands.add_parser("check", help="run a profile's checks and decide the verdict")
    check.add_argument("--profile", required=True, help="profile in the config, e.g. pr")
    check.add_argument("--reports", default="reports", help="report folder (default: reports)")
    check.add_argument("-v", "--verbose", action="store_true", help="stream pytest's output")
    check.add_argument("--target-url", default=None,
                       help="URL of the running service the load check targets "
                       "(default: load.url, else model.url)")
    check.add_argument("--remote-workers", type=int, metavar="N",
                       help="the load check also waits for N workers on other hosts "
                       "(harness load worker); default: load.remote_workers")
    check.add_argument("--master-bind", metavar="HOST:PORT",
                       help="where the load check's master listens for them "
                       "(default: load.master_bind)")
    check.set_defaults(func=_cmd_check)

    init = commands.add_parser(
        "init", help="scaffold a project from a CSV in an empty folder: harness.yaml with an "
        "inferred schema, a training file and a golden split")
    init.add_argument("--data", required=True, help="the labelled data, a CSV file")
    init.add_argument("--label", required=True, help="the label column")
    init.add_argument("--positive", help="the label value of the positive class (binary "
                      "classifiers; the model kind is inferred from the label column)")
    init.add_argument("--entrypoint", required=True,
                      help="module:function that loads your model from --artifact")
    init.add_argument("--artifact", required=True, dest="model_artifact",
                      help="the model artifact folder, relative to the project folder")
    init.add_argument("--build", metavar="COMMAND",
                      help="the command that trains your model into --artifact, e.g. "
                      "'python train.py' (model.build: `harness build` runs it)")
    init.add_argument("--dir", default=".", help="the project folder (default: here)")
    init.add_argument("--name", help="project name (default: the folder's name)")
    init.add_argument("--dataset", help="golden dataset name (default: the CSV's name)")
    init.add_argument("--golden-fraction", type=float, default=0.25,
                      help="share of rows held out as golden data (default 0.25)")
    init.add_argument("--seed", type=int, default=0, help="seed of the split (default 0)")
    init.add_argument("--manager", action="append",
                      help="a release manager who may approve promotions (repeat; default: you)")
    init.add_argument("--staging-port", type=int, default=8101)
    init.add_argument("--production-port", type=int, default=8102)
    init.set_defaults(func=_cmd_init)

    golden = commands.add_parser("golden", help="verify, add and bless golden datasets")
    golden_commands_ = golden.add_subparsers(dest="golden_command", required=True,
                                             metavar="ACTION")
    verify = golden_commands_.add_parser("verify", help="check every golden file's sha256")
    verify.set_defaults(func=_cmd_golden_verify)
    add = golden_commands_.add_parser(
        "add", help="record a new golden dataset version under the golden root "
        "(golden_root, default golden/ beside the config)")
    add.add_argument("--dataset", required=True, help="dataset name, e.g. credit")
    add.add_argument("--version", required=True, help="new version name, e.g. v2")
    add.add_argument("--source", help="where the data came from (default: the file names)")
    add.add_argument("files", nargs="+", help="CSV files of the version")
    add.set_defaults(func=_cmd_golden_add)
    bless = golden_commands_.add_parser(
        "bless", help="record a new passport: the golden metrics a model must hold")
    bless.add_argument("--by", required=True, help="who blesses it")
    bless.add_argument("--reason", required=True, help="why")
    bless.add_argument("--production", action="store_true",
                       help="measure the production model instead of the candidate")
    bless.set_defaults(func=_cmd_golden_bless)
    plan = golden_commands_.add_parser(
        "plan", help="how many golden rows (and positives) a comparative gate needs to "
        "decide a drop: the candidate against each golden set's passport")
    plan.add_argument("--margin", type=float,
                      help="the drop to decide (default: each gate's max_drop)")
    plan.add_argument("--metric", action="append",
                      help="a gated metric (repeatable; default: those with a max_drop)")
    plan.set_defaults(func=_cmd_golden_plan)

    history = commands.add_parser("history", help="list and compare recorded runs")
    history.add_argument("--profile", help="only runs of this profile")
    history.add_argument("--limit", type=int, default=20, help="how many runs (default 20)")
    history.add_argument("--compare", nargs=2, type=int, metavar=("RUN", "RUN"),
                         help="metric by metric, what changed between two runs")
    history.add_argument("--passports", action="store_true", help="list passports instead")
    history.set_defaults(func=_cmd_history)

    bench = commands.add_parser("benchmark", help="run the micro-benchmarks and compare them "
                                "with their baseline")
    bench.add_argument("--reports", default="reports", help="report folder (default: reports)")
    bench.add_argument("--save-baseline", action="store_true",
                       help="record this run as the new baseline (gates.benchmark.baseline)")
    bench.set_defaults(func=_cmd_benchmark)
    _add_deploy_commands(commands)
    _add_release_commands(commands)
    _add_deepchecks_commands(commands)

    load = commands.add_parser("load", help="load past one machine: Locust workers on this host")
    load_commands = load.add_subparsers(dest="load_command", required=True, metavar="ACTION")
    worker = load_commands.add_parser(
        "worker", help="run a Locust worker for a load check whose master runs elsewhere")
    worker.add_argument("--master", required=True, metavar="HOST:PORT",
                        help="where the master listens (its load.master_bind)")
    worker.add_argument("--source", metavar="ADDRESS",
                        help="local address to connect from (a host with several)")
    worker.add_argument("--wait-s", type=float, default=60.0,
                        help="how long to wait for the master to start the run (default 60)")
    worker.add_argument("--reports", default="reports", help="report folder (default: reports)")
    worker.set_defaults(func=_cmd_load_worker)
    render = load_commands.add_parser(
        "render", help="write the Kubernetes master Job and worker Deployment of a load run")
    render.add_argument("--image", required=True,
                        help="the service image, name@sha256:<digest>, with harness and config")
    render.add_argument("--namespace", required=True)
    render.add_argument("--workers", type=int, required=True, help="worker pods")
    render.add_argument("--profile", default="load", help="profile whose load check runs")
    render.add_argument("--target-url", help="the service's URL inside the cluster")
    render.add_argument("--reports-claim", help="PersistentVolumeClaim for the JUnit reports")
    render.add_argument("--out", required=True, help="folder for the manifests (kustomize)")
    render.set_defaults(func=_cmd_load_render)

    report = commands.add_parser(
        "report", help="write a profile's HTML report and Markdown summary again")
    report.add_argument("--profile", required=True, help="profile whose last run to report")
    report.add_argument("--reports", default="reports", help="report folder (default: reports)")
    report.set_defaults(func=_cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _absolute_paths(build_parser().parse_args(argv))
    try:
        code = args.func(args)
        sys.stdout.flush()  # a closed reader shows here, not in the interpreter's exit
        return code
    except HarnessError as exc:
        print(f"harness: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        # `harness history | head`: the reader has gone. Point stdout at /dev/null so the
        # final flush at exit does not fail again, and exit as a shell reports SIGPIPE.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + int(signal.SIGPIPE)


def run() -> NoReturn:
    """The ``harness`` command: ``main``, then the process ends without the interpreter's
    teardown of what the command imported (quick_exit.py). ``main`` is for callers in a
    process that goes on."""
    from harness.quick_exit import exit_now

    exit_now(main())


if __name__ == "__main__":
    run()
