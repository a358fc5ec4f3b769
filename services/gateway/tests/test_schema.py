"""The exported schema is the contract: it matches the code and holds the core every client relies on."""

import pytest
from bnpl_gateway.export_schema import EXPORT_COMMAND, SCHEMA_FILE, main, schema_sdl
from graphql import GraphQLSchema, build_schema

# The core every client may rely on (names, arguments, nullability): never renamed.
CORE = """
scalar AWSDate
type Money { amount: Int! currency: String! }
input MoneyInput { amount: Int! currency: String! }
enum PlanType { PAY_IN_4 MONTHLY_3 MONTHLY_6 MONTHLY_12 }
enum DecisionStatus { APPROVED DECLINED REFERRED }
type Customer { id: ID! }
type CreditApplication { id: ID! }
type ApplicationConnection { items: [CreditApplication!]! nextToken: String }
enum RateKind { APRC APR }
type PaymentPlan { id: ID! rateKind: RateKind! annualRate: Float! }
type PlanOffer { apr: Float! rateKind: RateKind! annualRate: Float! }
type VerificationChallenge { destination: String! }
type Payment { id: ID! }
input QuoteInput { amount: MoneyInput! }
input ProfileInput { givenName: String! }
input ProfileUpdateInput { givenName: String }
input CreditApplicationInput { checkoutToken: String! }

type Query {
  me: Customer
  application(id: ID!): CreditApplication
  applications(limit: Int, nextToken: String): ApplicationConnection!
  plan(id: ID!): PaymentPlan
  plans: [PaymentPlan!]!
  quote(input: QuoteInput!): [PlanOffer!]!
}
type Mutation {
  createProfile(input: ProfileInput!): Customer!
  updateProfile(input: ProfileUpdateInput!): Customer!
  startPhoneVerification: VerificationChallenge!
  confirmPhoneVerification(code: String!): Customer!
  applyForCredit(input: CreditApplicationInput!, idempotencyKey: String!): CreditApplication!
  confirmPlan(applicationId: ID!, idempotencyKey: String!): PaymentPlan!
  cancelApplication(id: ID!): CreditApplication!
  makePayment(planId: ID!, amount: MoneyInput!, idempotencyKey: String!): Payment!
}
"""

# The fields of the types the core only names (docs/contracts.md has their REST shapes).
FIELDS = {
    "Customer": "id email givenName familyName dateOfBirth phoneNumber phoneVerified address monthlyIncome "
    "monthlyExpenses housing employment employmentYears assets debt creditLimit availableCredit",
    "ProfileInput": "givenName familyName dateOfBirth phoneNumber address monthlyIncome monthlyExpenses housing "
    "employment employmentYears assets debt email",
    "AddressInput": "line1 line2 city region postalCode country",
    # Issue 10: the order comes from the merchant's checkout session, named by its token.
    "CreditApplicationInput": "checkoutToken planType",
    "CreditApplication": "id status amount merchantId orderReference planType createdAt expiresAt score riskGrade "
    "reasons offer modelVersion policyVersion applicationStatus checkoutId",
    "CheckoutSession": "id merchantId merchantName orderReference amount items planTypes offers status expiresAt "
    "applicationId merchantRedirectUrl",
    "CheckoutItem": "name quantity unitPrice",
    "Reason": "code description",
    "PlanOffer": "planType amountFinanced financeCharge totalOfPayments apr aprBasisPoints rateKind rateLabel "
    "annualRate installments",
    "Installment": "sequence dueDate amount amountPaid status",
    "VerificationChallenge": "destination expiresAt attemptsRemaining",
    "PaymentPlan": "id applicationId status planType principal financeCharge totalOfPayments apr rateKind rateLabel "
    "annualRate amountPaid amountOutstanding installments createdAt",
    "Payment": "id planId amount createdAt allocations",
}


@pytest.fixture(scope="module")
def exported() -> GraphQLSchema:
    return build_schema(SCHEMA_FILE.read_text())


def test_exported_schema_matches_the_code() -> None:
    assert SCHEMA_FILE.exists(), f"{SCHEMA_FILE} is missing; run: {EXPORT_COMMAND}"
    assert SCHEMA_FILE.read_text() == schema_sdl(), f"{SCHEMA_FILE} is out of date with the code; run: {EXPORT_COMMAND}"


def test_check_mode_reports_drift(tmp_path) -> None:
    stale = tmp_path / "schema.graphql"
    stale.write_text("type Query { old: Int }\n")
    assert main(["--check", "--output", str(stale)]) == 1
    assert main(["--output", str(stale)]) == 0
    assert main(["--check", "--output", str(stale)]) == 0


def _signature(schema: GraphQLSchema, type_name: str, field_name: str) -> tuple[str, dict[str, str]]:
    field = schema.get_type(type_name).fields[field_name]
    args = {name: str(arg.type) for name, arg in getattr(field, "args", {}).items()}
    return str(field.type), args


def test_core_operations_have_the_designed_signatures(exported: GraphQLSchema) -> None:
    core = build_schema(CORE)
    for root in ("Query", "Mutation"):
        for name in core.get_type(root).fields:
            assert name in exported.get_type(root).fields, f"{root}.{name} missing"
            want_type, want_args = _signature(core, root, name)
            got_type, got_args = _signature(exported, root, name)
            assert got_type == want_type, f"{root}.{name}: {got_type} != {want_type}"
            for arg, arg_type in want_args.items():
                assert got_args.get(arg) == arg_type, f"{root}.{name}({arg}): {got_args.get(arg)} != {arg_type}"
            extra = {a: t for a, t in got_args.items() if a not in want_args}
            assert all(not t.endswith("!") for t in extra.values()), f"{root}.{name}: new required args {extra}"


def test_core_types_are_exact(exported: GraphQLSchema) -> None:
    core = build_schema(CORE)
    for name in ("Money", "MoneyInput"):
        shape = {f: str(t.type) for f, t in exported.get_type(name).fields.items()}
        assert shape == {f: str(t.type) for f, t in core.get_type(name).fields.items()}
    for name in ("PlanType", "DecisionStatus"):
        assert list(exported.get_type(name).values) == list(core.get_type(name).values)
    assert exported.get_type("ApplicationConnection").fields.keys() == {"items", "nextToken"}


@pytest.mark.parametrize("type_name", sorted(FIELDS))
def test_contract_fields_exist(exported: GraphQLSchema, type_name: str) -> None:
    fields = exported.get_type(type_name).fields
    missing = [f for f in FIELDS[type_name].split() if f not in fields]
    assert not missing, f"{type_name} lacks {missing}"


def test_dates_use_appsync_scalars(exported: GraphQLSchema) -> None:
    assert str(exported.get_type("Customer").fields["dateOfBirth"].type) == "AWSDate!"
    assert str(exported.get_type("CreditApplication").fields["createdAt"].type) == "AWSDateTime!"
    assert str(exported.get_type("CreditApplication").fields["reasons"].type) == "[Reason!]!"
