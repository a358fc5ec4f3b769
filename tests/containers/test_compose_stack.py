"""The whole journey in containers, then faults injected into the running compose stack, each
with its expected outcome. One stack for the module (built and started once: minutes cold,
about a minute warm); each test makes its own shoppers, and the restart test comes last.

Shoppers use the published gateway only: sign-up and sign-in through its local Cognito
pass-through, then GraphQL. A merchant's server (the seeded demo-shop, with the keys the credit
container wrote) creates each checkout session and captures ("ships") at the merchant API before
installments are paid, as a real integration does. The faults are done with the engine
(`docker stop`, `kill -9`, `docker network disconnect`, `compose down` + `up`), as an operator or
a crash would.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests import journey, plans_queries
from tests.containers.conftest import Shopper, reach_credit

# The whole module shares one stack whose first use builds the images: a generous bound.
pytestmark = pytest.mark.timeout(4200)

SCORER_TIMEOUT = 2.0  # SCORER_TIMEOUT_SECONDS in docker-compose.yml
APPLICATIONS = """
query List($next: String) { applications(limit: 50, nextToken: $next) {
  items { id status applicationStatus orderReference expiresAt offer { totalOfPayments { amount currency } } }
  nextToken } }"""
PLANS = "query { plans { id status amountOutstanding { amount currency } } }"


# application id -> its checkout session's id (what the merchant captures)
_CHECKOUT_OF: dict[str, str] = {}


def order(amount: int = 20_000, reference: str | None = None) -> dict[str, Any]:
    """A checkout session created by the merchant's server (demo-shop): the shopper's apply input."""
    return journey.order(amount, reference=reference)


def apply(
    shopper: Shopper, amount: int = 20_000, reference: str | None = None, *, the_order: dict[str, Any] | None = None
) -> dict[str, Any]:
    the_order = the_order or order(amount, reference)
    decision: dict[str, Any] = shopper.ok(journey.APPLY, {"input": the_order, "key": uuid.uuid4().hex})[
        "applyForCredit"
    ]
    _CHECKOUT_OF[decision["id"]] = journey.session_of(the_order)["id"]
    return decision


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120, check=check)


def all_applications(shopper: Shopper) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    token = None
    while True:
        page = shopper.ok(APPLICATIONS, {"next": token})["applications"]
        items += page["items"]
        token = page["nextToken"]
        if not token:
            return items


def assert_exposure_is_holds_plus_plans(shopper: Shopper) -> int:
    """The credit line's exposure equals what live approvals hold plus what active plans owe."""
    now = datetime.now(UTC)
    holds = sum(
        app["offer"]["totalOfPayments"]["amount"]
        for app in all_applications(shopper)
        if app["status"] == "APPROVED"
        and app["applicationStatus"] == "APPROVED"
        and datetime.fromisoformat(app["expiresAt"].replace("Z", "+00:00")) > now
    )
    owed = sum(p["amountOutstanding"]["amount"] for p in shopper.ok(PLANS)["plans"] if p["status"] == "ACTIVE")
    exposure = shopper.ok(plans_queries.CREDIT)["creditLine"]["exposure"]["amount"]
    assert exposure == holds + owed, f"exposure {exposure} != holds {holds} + plans {owed}"
    return exposure


def confirm_and_pay(shopper: Shopper, application: dict[str, Any]) -> dict[str, Any]:
    """Confirmed by the shopper, shipped (captured in full) by the merchant, one installment paid."""
    authorized = shopper.ok(plans_queries.CONFIRM_PLAN, journey.accepted(shopper, application["id"]))["confirmPlan"]
    assert authorized["status"] == "AUTHORIZED", authorized
    journey.ship(_CHECKOUT_OF[application["id"]])  # the plan starts at the merchant's first capture
    plan = shopper.ok(plans_queries.PLAN, {"id": authorized["id"]})["plan"]
    # pay the next installment not yet paid
    due = next(i for i in plan["installments"] if i["status"] != "PAID")["amount"]
    payment = shopper.ok(plans_queries.PAY, {"plan": plan["id"], "amount": due, "key": uuid.uuid4().hex})
    return {"plan": plan, "payment": payment["makePayment"]}


def test_the_journey_through_the_gateway(compose_stack: Any, shopper: Shopper) -> None:
    me = shopper.ok(journey.ME)["me"]
    assert me["phoneVerified"] is True
    decision = apply(shopper)
    assert decision["status"] == "APPROVED", decision
    assert decision["modelVersion"] and decision["score"] is not None
    assert (
        sum(i["amount"]["amount"] for i in decision["offer"]["installments"])
        == (decision["offer"]["totalOfPayments"]["amount"])
    )
    done = confirm_and_pay(shopper, decision)
    plan, payment = done["plan"], done["payment"]
    assert plan["status"] == "ACTIVE" and plan["applicationId"] == decision["id"]
    assert payment["amountOutstanding"]["amount"] == plan["amountOutstanding"]["amount"] - payment["amount"]["amount"]
    stored = shopper.ok(journey.APPLICATION, {"id": decision["id"]})["application"]
    assert stored["status"] == "APPROVED"
    assert_exposure_is_holds_plus_plans(shopper)


def test_model_stopped_gives_referred_within_the_scorer_timeout_then_approves_again(
    compose_stack: Any, shopper: Shopper
) -> None:
    the_order = order()  # the merchant's session first: the clock is the shopper's apply
    compose_stack.compose("stop", "model")
    try:
        started = time.monotonic()
        decision = apply(shopper, the_order=the_order)
        elapsed = time.monotonic() - started
        assert decision["status"] == "REFERRED", decision
        assert decision["score"] is None and decision["offer"] is None
        # the scorer's timeout plus the gateway's and the services' own work
        assert elapsed < SCORER_TIMEOUT + 3, f"REFERRED after {elapsed:.1f} s"
    finally:
        compose_stack.compose("start", "model")
        compose_stack.wait_healthy()
    assert apply(shopper)["status"] == "APPROVED"


def test_model_hanging_gives_referred_after_the_scorer_timeout(compose_stack: Any, shopper: Shopper) -> None:
    """A paused model accepts connections and never answers: the timeout, not a refusal, decides."""
    model = compose_stack.container("model")
    the_order = order()
    docker("pause", model)
    try:
        started = time.monotonic()
        decision = apply(shopper, the_order=the_order)
        elapsed = time.monotonic() - started
    finally:
        docker("unpause", model)
    assert decision["status"] == "REFERRED", decision
    assert SCORER_TIMEOUT * 0.9 <= elapsed < SCORER_TIMEOUT + 3, f"REFERRED after {elapsed:.1f} s"
    assert apply(shopper)["status"] == "APPROVED"


def test_credit_killed_with_decisions_in_flight_loses_no_answered_decision(
    compose_stack: Any, shopper: Shopper
) -> None:
    confirm_and_pay(shopper, apply(shopper))  # a plan, so exposure has both parts
    answered: list[dict[str, Any]] = []
    failed: list[str] = []
    stop = threading.Event()
    # The merchant's sessions are created before the load: the kill is of decisions in flight,
    # not of the merchant API (the same credit container) refusing new sessions.
    with ThreadPoolExecutor(4) as pool:
        orders = list(pool.map(lambda _: order(3_000), range(150)))
    lock = threading.Lock()

    def keep_applying() -> None:
        while not stop.is_set():
            with lock:
                if not orders:
                    return
                the_order = orders.pop()
            try:
                response = shopper.post(journey.APPLY, {"input": the_order, "key": uuid.uuid4().hex})
                body = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                failed.append(type(exc).__name__)
                continue
            decision = (body.get("data") or {}).get("applyForCredit")
            if response.status_code == 200 and decision and not body.get("errors"):
                answered.append(decision)
            else:
                failed.append(str(body.get("errors", response.status_code))[:200])

    credit = compose_stack.container("credit")
    with ThreadPoolExecutor(3) as pool:
        workers = [pool.submit(keep_applying) for _ in range(3)]
        # kill once decisions are flowing (a couple answered), so others are surely in flight
        deadline = time.monotonic() + 30
        while len(answered) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.3)
        before_kill = len(answered)
        docker("kill", "--signal", "KILL", credit)
        time.sleep(1.5)
        stop.set()
        for worker in workers:
            worker.result()
    docker("start", credit)  # the restart policy may have started it already: then a no-op
    compose_stack.wait_healthy()
    reach_credit(compose_stack)

    print(f"kill -9: {before_kill} answered before the kill, {len(answered)} in all, {len(failed)} failed")
    assert before_kill > 0, "no decision was answered before the kill"
    assert failed, "no request failed: the kill did not hit decisions in flight"
    listed = {app["id"]: app for app in all_applications(shopper)}
    for decision in answered:
        assert decision["id"] in listed, f"decision {decision['id']} answered 200 is gone"
        assert listed[decision["id"]]["status"] == decision["status"]
        again = shopper.ok(journey.APPLICATION, {"id": decision["id"]})["application"]
        assert again["status"] == decision["status"]
    assert_exposure_is_holds_plus_plans(shopper)
    assert apply(shopper, 3_000)["status"] in ("APPROVED", "DECLINED")  # decides again, with a score


def cut_credit_off_dynamodb(compose_stack: Any, shopper: Shopper, reference: str) -> dict[str, Any]:
    """Disconnect the credit container from the data network, apply and list, reconnect."""
    network, credit = compose_stack.network("data"), compose_stack.container("credit")
    the_order = order(20_000, reference)  # the merchant's session, before the cut
    time.sleep(1.0)  # its access-log line (201) lands before the window the statuses are read from
    since = f"{time.time():.3f}"
    docker("network", "disconnect", network, credit)
    try:
        applied = shopper.post(journey.APPLY, {"input": the_order, "key": uuid.uuid4().hex})
        listed = shopper.post(APPLICATIONS, {"next": None})
        until = f"{time.time():.3f}"
    finally:
        docker("network", "connect", network, credit)
    logs = docker("logs", "--since", since, "--until", until, credit)
    return {"applied": applied, "listed": listed, "statuses": credit_statuses(logs.stdout + logs.stderr, "/v1/")}


def credit_statuses(logs: str, prefix: str) -> list[int]:
    """HTTP statuses in the credit service's JSON access log for paths under ``prefix``."""
    statuses = []
    for line in logs.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if str(record.get("path", "")).startswith(prefix) and isinstance(record.get("status"), int):
            statuses.append(record["status"])
    return statuses


def test_credit_cut_off_from_dynamodb_fails_clearly_writes_nothing_and_recovers(
    compose_stack: Any, shopper: Shopper
) -> None:
    apply(shopper)  # a credit line to check afterwards
    exposure_before = assert_exposure_is_holds_plus_plans(shopper)
    reference = f"CUT-{uuid.uuid4().hex[:8]}"
    cut = cut_credit_off_dynamodb(compose_stack, shopper, reference)

    for response in (cut["applied"], cut["listed"]):
        body = response.json()
        assert not (body.get("data") or {}).get("applyForCredit"), body
        errors = body.get("errors") or []
        assert errors and errors[0]["errorType"] == "DependencyFailed", body
        assert "Traceback" not in response.text and "dynamodb" not in response.text.lower(), response.text
    assert cut["statuses"], "the credit service logged no answer while cut off"
    assert all(status >= 500 for status in cut["statuses"]), cut["statuses"]

    recovered = apply(shopper)
    assert recovered["status"] in ("APPROVED", "DECLINED")
    assert reference not in {app["orderReference"] for app in all_applications(shopper)}, "half-written"
    assert assert_exposure_is_holds_plus_plans(shopper) == exposure_before + (
        recovered["offer"]["totalOfPayments"]["amount"] if recovered["status"] == "APPROVED" else 0
    )


def test_credit_cut_off_from_dynamodb_answers_503(compose_stack: Any, shopper: Shopper) -> None:
    cut = cut_credit_off_dynamodb(compose_stack, shopper, f"CUT-{uuid.uuid4().hex[:8]}")
    assert cut["statuses"] and set(cut["statuses"]) == {503}, cut["statuses"]


def test_the_whole_stack_restarted_keeps_users_profiles_decisions_and_plans(
    compose_stack: Any, shopper: Shopper
) -> None:
    decision = apply(shopper)
    assert decision["status"] == "APPROVED"
    done = confirm_and_pay(shopper, decision)
    profile = shopper.ok(journey.ME)["me"]

    compose_stack.down()  # containers removed, volumes kept
    compose_stack.up()
    compose_stack.wait_healthy()
    reach_credit(compose_stack)

    again = Shopper(compose_stack, shopper.email).sign_in()  # the same Cognito user, same sub
    assert again.ok(journey.ME)["me"] == profile
    assert again.ok(journey.APPLICATION, {"id": decision["id"]})["application"]["status"] == "APPROVED"
    plan = again.ok(plans_queries.PLAN, {"id": done["plan"]["id"]})["plan"]
    paid = done["plan"]["amountPaid"]["amount"] + done["payment"]["amount"]["amount"]
    assert plan["amountPaid"]["amount"] == paid
    assert plan["amountOutstanding"] == done["payment"]["amountOutstanding"]
    assert_exposure_is_holds_plus_plans(again)
