"""The traffic simulator: shoppers with real outcomes, through the public API, into the lake, and a retrain.

    .venv/bin/python scripts/simulate.py --shoppers 400 --report docs/examples/promotion-report.md

1. ``credit_data`` is split once, deterministically: 30 % of the rows (by a hash of the row number)
   are held out. A champion is trained on the other 70 %, so it has never seen a simulated shopper.
2. The whole platform starts (:class:`scripts.devstack.Stack`, free ports, a fresh data folder,
   that champion, the lake on, a clock the simulator moves: ``CLOCK_OFFSET_FILE``).
3. Each simulated shopper is a held-out row: they sign up in the local Cognito, create the profile
   the row describes, verify their phone with the code from the SMS outbox, and apply for the
   order the row describes through GraphQL; an approval is confirmed.
4. The clock moves a week at a time for about five months. A shopper whose row is ``good`` pays
   every installment that has fallen due; a ``bad`` one pays nothing after confirmation, so the
   lateness sweeper marks their installments late.
5. ``bnpl_model retrain`` reads the lake and writes a challenger and its promotion report.

What the platform sees is not the row itself: the row's money is in the data set's units, orders
are a tenth of the row's price (a BNPL basket, not a car) and kept within the product limits,
terms are mapped to the nearest plan, and nobody has a
payment record here yet (``Records`` is ``no`` for everyone). The label is the row's own outcome.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: the repository's packages (scripts.devstack)
    sys.path.insert(0, str(ROOT))

from bnpl_common.testing import free_port  # noqa: E402
from bnpl_credit.testing import MerchantClient  # noqa: E402
from bnpl_user.testing import last_code  # noqa: E402

from scripts.devstack import Ports, Stack  # noqa: E402

DATA = ROOT / "model" / "data" / "credit_data.csv"
SPEC = ROOT / "model" / "specs" / "credit_data.yaml"
PASSWORD = "Passw0rd!sim"
UNIT_MINOR = 600  # EUR cents per model unit (model/specs/credit_data.yaml, money_unit_minor)
HOLDOUT_SHARE = 3  # of 10
HOUSING = {"rent": "RENT", "owner": "OWNER", "parents": "PARENTS"}
EMPLOYMENT = {"fixed": "FIXED", "partime": "PART_TIME", "freelance": "FREELANCE"}
ORDER_SCALE = 10  # the data set's purchases (cars, homes' contents) are ten times a typical BNPL order
PLAN_LIMITS = {"PAY_IN_4": (1_000, 100_000), "MONTHLY_6": (20_000, 500_000), "MONTHLY_12": (20_000, 500_000)}

MONEY = "{ amount currency }"
CREATE_PROFILE = "mutation P($input: ProfileInput!) { createProfile(input: $input) { id } }"
START_VERIFICATION = "mutation { startPhoneVerification { destination } }"
CONFIRM_VERIFICATION = "mutation C($code: String!) { confirmPhoneVerification(code: $code) { phoneVerified } }"
APPLY = """mutation A($input: CreditApplicationInput!, $key: String!) {
  applyForCredit(input: $input, idempotencyKey: $key) { id status } }"""
ACCEPT = "query D($id: ID!) { precontractInformation(applicationId: $id) { contentHash } }"
CONFIRM = """mutation C($id: ID!, $key: String!, $hash: String) {
  confirmPlan(applicationId: $id, idempotencyKey: $key, acceptedDocumentHash: $hash) { id } }"""
START_CARD = "mutation S($u: String!) { startPaymentMethodSetup(returnUrl: $u) { setupId pageUrl clientSecret } }"
COMPLETE_CARD = "mutation F($id: ID!) { completePaymentMethodSetup(setupId: $id) { last4 } }"
CARD_OK, CARD_NO_FUNDS = "4242424242424242", "4000000000009995"  # Stripe's test cards (the sandbox PSP)
PLAN = f"""query P($id: ID!) {{
  plan(id: $id) {{ id status amountOutstanding {MONEY} installments {{ dueDate amountDue {MONEY} }} }} }}"""
PAY = f"""mutation P($plan: ID!, $amount: MoneyInput!, $key: String!) {{
  makePayment(planId: $plan, amount: $amount, idempotencyKey: $key) {{ id amount {MONEY} }} }}"""


def is_held_out(index: int) -> bool:
    return int(hashlib.sha256(f"credit_data:{index}".encode()).hexdigest(), 16) % 10 < HOLDOUT_SHARE


def split(data: Path = DATA) -> tuple[list[str], list[dict[str, str]], list[dict[str, str]]]:
    """The header, the rows the champion trains on and the held-out rows."""
    with open(data, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        header = list(reader.fieldnames or [])
    train = [r for i, r in enumerate(rows) if not is_held_out(i)]
    held = [r for i, r in enumerate(rows) if is_held_out(i)]
    return header, train, held


def train_champion(header: list[str], rows: list[dict[str, str]], out: Path) -> Path:
    from bnpl_model.train import train

    out.mkdir(parents=True, exist_ok=True)
    data = out.parent / "champion-training.csv"
    with open(data, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    train(data, SPEC, out, name="credit-scorecard-sim", folds=3, baselines=False, plots=False, log=lambda *a: None)
    return out


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        return 0.0
    return value if 0 <= value < 99_999_999 else 0.0  # the data set writes 99999999 for "unknown"


def _money(units: float) -> dict[str, Any]:
    return {"amount": round(units * UNIT_MINOR), "currency": "EUR"}


def order_for(row: dict[str, str]) -> tuple[str, int]:
    """The plan and the order total the row's loan becomes, within the product's limits."""
    term = _number(row["Time"])
    plan = "PAY_IN_4" if term <= 12 else "MONTHLY_6" if term <= 36 else "MONTHLY_12"
    low, high = PLAN_LIMITS[plan]
    return plan, max(low, min(high, round(_number(row["Price"]) * UNIT_MINOR / ORDER_SCALE)))


def profile_for(row: dict[str, str], today: date, rng: random.Random) -> dict[str, Any]:
    age = max(18, int(_number(row["Age"])))
    born = date(today.year - age - 1, today.month, min(today.day, 28)) + timedelta(days=rng.randint(1, 300))
    return {
        "givenName": "Sim",
        "familyName": f"Shopper {uuid.uuid4().hex[:6]}",
        "dateOfBirth": born.isoformat(),
        "phoneNumber": f"+3461{rng.randint(0, 9_999_999):07d}",
        "address": {"line1": "1 Calle Mayor", "city": "Madrid", "postalCode": "28013", "country": "ES"},
        "monthlyIncome": _money(_number(row["Income"])),
        "monthlyExpenses": _money(_number(row["Expenses"])),
        "housing": HOUSING.get(row["Home"], "OTHER"),
        "employment": EMPLOYMENT.get(row["Job"], "OTHER"),
        "employmentYears": min(int(_number(row["Seniority"])), age - 14),
        "assets": _money(_number(row["Assets"])),
        "debt": _money(_number(row["Debt"])),
    }


def choose(rows: list[dict[str, str]], n: int, rng: random.Random, bad_share: float | None) -> list[dict[str, str]]:
    """``n`` held-out rows at random; with ``bad_share``, that share of them from the ``bad`` rows
    (over-sampling defaults so that a small run still sees some; the report counts what it saw)."""
    if bad_share is None:
        return rng.sample(rows, min(n, len(rows)))
    bad = [r for r in rows if r["Status"] == "bad"]
    good = [r for r in rows if r["Status"] != "bad"]
    n_bad = min(len(bad), round(n * bad_share))
    chosen = rng.sample(bad, n_bad) + rng.sample(good, min(len(good), n - n_bad))
    rng.shuffle(chosen)
    return chosen


@dataclass
class Shopper:
    row: dict[str, str]
    token: str
    application_id: str | None = None
    status: str | None = None
    plan_id: str | None = None
    payments: int = 0

    @property
    def repays(self) -> bool:
        return self.row["Status"] == "good"


@dataclass
class Simulation:
    stack: Stack
    clock_file: Path
    rng: random.Random
    shoppers: list[Shopper] = field(default_factory=list)
    offset_days: int = 0
    _shop: MerchantClient | None = None

    @property
    def shop(self) -> MerchantClient:
        """demo-shop's server, as a merchant integrates: SigV4-signed calls to the merchant API."""
        if self._shop is None:
            credentials = json.loads((self.stack.data_dir / "local-merchants.json").read_text())["demo-shop"]
            self._shop = MerchantClient(self.stack.url("credit"), credentials)
        return self._shop

    def checkout(self, total: int) -> dict[str, Any]:
        """The merchant's checkout session for the basket (the shopper can change nothing in it)."""
        origin = json.loads((self.stack.data_dir / "local-merchants.json").read_text())["demo-shop"]["origins"][0]
        body = {
            "orderReference": f"SIM-{uuid.uuid4().hex[:10]}",
            "amount": {"amount": total, "currency": "EUR"},
            "returnUrl": f"{origin}/return",
            "cancelUrl": f"{origin}/cancel",
        }
        response = self.shop.create_checkout(body)
        if response.status_code != 201:
            raise RuntimeError(f"checkout: {response.status_code} {response.text[:200]}")
        return dict(response.json())

    def gql(self, token: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """One GraphQL call; a keyed mutation that met a dependency failure is sent again with its key."""
        for attempt in range(3):
            response = httpx.post(
                f"{self.stack.url('gateway')}/graphql",
                json={"query": query, "variables": variables or {}},
                headers={"Authorization": token},
                timeout=30,
            )
            body = response.json()
            errors = body.get("errors") or []
            retry = "key" in (variables or {}) and any(e.get("errorType") == "DependencyFailed" for e in errors)
            if retry and attempt < 2:
                time.sleep(0.2)
                continue
            if response.status_code != 200 or errors:
                raise RuntimeError(f"{query.split('(')[0].strip()}: {errors or response.status_code}")
            return dict(body["data"])
        raise AssertionError("unreachable")

    def today(self) -> date:
        return (datetime.now(UTC) + timedelta(days=self.offset_days)).date()

    def onboard(self, row: dict[str, str]) -> Shopper:
        assert self.stack.cognito is not None
        email = f"sim-{uuid.uuid4().hex[:12]}@example.com"
        self.stack.cognito.sign_up(email, PASSWORD)
        shopper = Shopper(row, self.stack.cognito.access_token(email, PASSWORD))
        profile = profile_for(row, self.today(), random.Random(self.rng.random()))
        self.gql(shopper.token, CREATE_PROFILE, {"input": profile})
        self.gql(shopper.token, START_VERIFICATION)
        code = last_code(self.stack.data_dir / "sms-outbox.jsonl", to=profile["phoneNumber"])
        self.gql(shopper.token, CONFIRM_VERIFICATION, {"code": code})
        plan, total = order_for(row)
        session = self.checkout(total)
        order = {"checkoutToken": session["checkoutToken"], "planType": plan}
        decided = self.gql(shopper.token, APPLY, {"input": order, "key": str(uuid.uuid4())})["applyForCredit"]
        shopper.application_id, shopper.status = decided["id"], decided["status"]
        if shopper.status == "APPROVED":
            self.add_card(shopper.token, CARD_OK)  # confirming charges the first part to it
            # the shopper reads and accepts the pre-contract document, as the page asks
            document = self.gql(shopper.token, ACCEPT, {"id": shopper.application_id})["precontractInformation"]
            variables = {"id": shopper.application_id, "key": str(uuid.uuid4()), "hash": document["contentHash"]}
            confirmed = self.gql(shopper.token, CONFIRM, variables)
            shopper.plan_id = confirmed["confirmPlan"]["id"]
            # the merchant ships at once: the plan's schedule starts at the capture
            shipped = self.shop.capture(session["id"], total, "EUR")
            if shipped.status_code not in (200, 201):
                raise RuntimeError(f"capture: {shipped.status_code} {shipped.text[:200]}")
            if not shopper.repays:  # the scheduler's charges to a bad payer's card are declined
                self.add_card(shopper.token, CARD_NO_FUNDS)
        return shopper

    def add_card(self, token: str, number: str) -> None:
        """Save a test card on the sandbox PSP's page, as the checkout page does."""
        gateway = self.stack.url("gateway")
        setup = self.gql(token, START_CARD, {"u": f"{gateway}/checkout/"})["startPaymentMethodSetup"]
        page = httpx.URL(setup["pageUrl"])
        card = {"number": number, "exp_month": "12", "exp_year": "2034", "cvc": "123"}
        entered = httpx.post(
            f"{page.scheme}://{page.netloc.decode()}/setup/{setup['setupId']}/confirm",
            json={"client_secret": setup["clientSecret"], "type": "card", "card": card},
            timeout=10,
        )
        if entered.status_code != 200:
            raise RuntimeError(f"card: {entered.status_code} {entered.text[:200]}")
        self.gql(token, COMPLETE_CARD, {"id": setup["setupId"]})

    def advance(self, days: int) -> None:
        self.offset_days += days
        self.clock_file.write_text(str(self.offset_days * 86_400))

    def repay_due(self) -> None:
        """Good shoppers pay what has fallen due (one payment); bad ones pay nothing."""
        today = self.today().isoformat()
        for shopper in self.shoppers:
            if not shopper.plan_id or not shopper.repays:
                continue
            plan = self.gql(shopper.token, PLAN, {"id": shopper.plan_id})["plan"]
            due = sum(i["amountDue"]["amount"] for i in plan["installments"] if i["dueDate"] <= today)
            amount = min(due, plan["amountOutstanding"]["amount"])
            if amount > 0:
                money = {"amount": amount, "currency": plan["amountOutstanding"]["currency"]}
                self.gql(shopper.token, PAY, {"plan": shopper.plan_id, "amount": money, "key": str(uuid.uuid4())})
                shopper.payments += 1


@contextmanager
def platform(data_dir: Path, artifact: Path, clock_file: Path) -> Iterator[Stack]:
    clock_file.write_text("0")
    ports = Ports(
        gateway=free_port(),
        user=free_port(),
        credit=free_port(),
        model=free_port(),
        cognito=free_port(),
        demo_merchant=free_port(),
    )
    stack = Stack(
        data_dir=data_dir,
        ports=ports,
        artifact_dir=artifact,
        extra_env={
            "CLOCK_OFFSET_FILE": str(clock_file),
            "SWEEP_INTERVAL_SECONDS": "0.2",
            "RELAY_INTERVAL_SECONDS": "0.2",
        },
    )
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


def simulate(
    *,
    shoppers: int,
    work: Path,
    seed: int = 7,
    bad_share: float | None = None,
    days: int = 154,
    step_days: int = 7,
    workers: int = 4,
    min_rows: int = 50,
    min_bad: int = 5,
    log: Any = print,
) -> dict[str, Any]:
    """Run the whole loop; the retrain's report (with the simulation's own counts under ``simulation``)."""
    from bnpl_model.retrain import retrain

    header, train_rows, held = split()
    champion = train_champion(header, train_rows, work / "champion")
    log(f"champion trained on {len(train_rows)} rows; {len(held)} held out")
    rng = random.Random(seed)
    chosen = choose(held, shoppers, rng, bad_share)
    data_dir = work / "platform"
    with platform(data_dir, champion, work / "clock-offset") as stack:
        sim = Simulation(stack, work / "clock-offset", rng)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            sim.shoppers = list(pool.map(sim.onboard, chosen))
        outcomes = {s: sum(1 for x in sim.shoppers if x.status == s) for s in ("APPROVED", "DECLINED", "REFERRED")}
        log(f"{len(sim.shoppers)} shoppers: {outcomes}")
        for _ in range(days // step_days):
            sim.advance(step_days)
            sim.repay_due()
            time.sleep(0.5)  # the sweeper marks lateness at the new date
        time.sleep(1.5)  # the relay writes the last events to the lake
    report = retrain(
        data_dir / "lake",
        registry=work / "registry",
        spec_path=SPEC,
        champion_dir=champion,
        min_rows=min_rows,
        min_bad=min_bad,
        as_of=datetime.now(UTC) + timedelta(days=sim.offset_days),
        log=log,
    )
    from bnpl_model.lake import outcomes as lake_outcomes

    as_of = datetime.now(UTC) + timedelta(days=sim.offset_days)
    expected = {s.application_id: not s.repays for s in sim.shoppers if s.plan_id}
    labelled = {o.application_id: o.bad for o in lake_outcomes(data_dir / "lake", as_of=as_of)}
    report["simulation"] = {
        "labelled in the lake": len(labelled),
        "labels that differ from the rows' outcomes": sum(1 for a, bad in labelled.items() if expected.get(a) != bad),
        "plans not labelled": sorted(set(expected) - set(labelled)),
        "shoppers": len(sim.shoppers),
        "defaulted rows among them": sum(1 for s in sim.shoppers if not s.repays),
        "bad share requested": bad_share,
        "decisions": outcomes,
        "plans": sum(1 for s in sim.shoppers if s.plan_id),
        "repaying": sum(1 for s in sim.shoppers if s.plan_id and s.repays),
        "payments": sum(s.payments for s in sim.shoppers),
        "days": sim.offset_days,
    }
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--shoppers", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--bad-share", type=float, help="over-sample defaulted rows to this share of shoppers")
    parser.add_argument("--min-rows", type=int, default=50, help="fewest labelled rows retraining trains on")
    parser.add_argument("--work", help="working folder (default: a temporary one, removed after)")
    parser.add_argument("--report", help="also write the promotion report (Markdown) here")
    args = parser.parse_args(argv)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="bnpl-sim-"))
    try:
        report = simulate(
            shoppers=args.shoppers, work=work, seed=args.seed, bad_share=args.bad_share, min_rows=args.min_rows
        )
        from bnpl_model import registry as reg
        from bnpl_model.retrain import markdown

        text = (
            markdown(report)
            + "\n## The simulation\n\n```json\n"
            + json.dumps(report["simulation"], indent=1)
            + "\n```\n"
        )
        if args.report:
            Path(args.report).parent.mkdir(parents=True, exist_ok=True)
            Path(args.report).write_text(text, encoding="utf-8")
        print(text)
        print(f"registry: {work / 'registry'} (champion {reg.load(work / 'registry')['champion']})")
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
