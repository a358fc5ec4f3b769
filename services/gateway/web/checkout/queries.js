// Every GraphQL document the page sends. The gateway's tests parse this file and validate
// each document against the schema, so a change of the API cannot break the page silently.

const MONEY = "{ amount currency }";
const INSTALLMENTS = `installments { sequence dueDate amount ${MONEY} amountPaid ${MONEY} status }`;
const OFFER = `planType apr aprBasisPoints rateKind rateLabel annualRate amountFinanced ${MONEY} financeCharge ${MONEY}
  totalOfPayments ${MONEY} ${INSTALLMENTS}`;
const APPLICATION = `id status applicationStatus amount ${MONEY} merchantId orderReference planType checkoutId
  createdAt expiresAt reasons { code description } offer { ${OFFER} } planId`;
const PLAN_INSTALLMENTS = `installments { sequence dueDate amount ${MONEY} amountDue ${MONEY} amountPaid ${MONEY} status }`;
const PLAN = `id applicationId status planType merchantId orderReference principal ${MONEY}
  financeCharge ${MONEY} totalOfPayments ${MONEY} apr rateKind rateLabel annualRate amountPaid ${MONEY} amountOutstanding ${MONEY}
  interestCharged ${MONEY} createdAt ${PLAN_INSTALLMENTS} documents { kind title contentHash url expiresAt }`;

export const ME = `query Me { me { id email givenName phoneNumber phoneVerified } }`;

export const CREATE_PROFILE = `mutation CreateProfile($input: ProfileInput!, $key: String) {
  createProfile(input: $input, idempotencyKey: $key) { id email givenName phoneNumber phoneVerified } }`;

export const START_PHONE_VERIFICATION = `mutation StartPhoneVerification {
  startPhoneVerification { destination expiresAt attemptsRemaining } }`;

export const CONFIRM_PHONE_VERIFICATION = `mutation ConfirmPhoneVerification($code: String!) {
  confirmPhoneVerification(code: $code) { id phoneVerified } }`;

export const CHECKOUT_SESSION = `query CheckoutSession($token: String!) { checkoutSession(token: $token) {
  id merchantId merchantName orderReference amount ${MONEY} items { name quantity unitPrice ${MONEY} }
  planTypes offers { ${OFFER} } status expiresAt applicationId merchantRedirectUrl } }`;

export const APPLY = `mutation Apply($input: CreditApplicationInput!, $key: String!) {
  applyForCredit(input: $input, idempotencyKey: $key) { ${APPLICATION} } }`;

export const APPLICATION_BY_ID = `query Application($id: ID!) { application(id: $id) { ${APPLICATION} } }`;

export const REVIEW_STATUS = `query ReviewStatus($id: ID!) { application(id: $id) {
  id reviewStatus { caseId status openedAt expiresAt infoRequest closedAt } } }`;

// a declined shopper asks a person to look again; the same call answers a request for information
export const REQUEST_HUMAN_REVIEW = `mutation RequestHumanReview($id: ID!, $statement: String!) {
  requestHumanReview(applicationId: $id, statement: $statement) { caseId status openedAt expiresAt infoRequest closedAt } }`;

export const CANCEL_APPLICATION = `mutation Cancel($id: ID!) { cancelApplication(id: $id) { id applicationStatus } }`;

export const CONFIRM_PLAN = `mutation ConfirmPlan($id: ID!, $key: String!, $hash: String) {
  confirmPlan(applicationId: $id, idempotencyKey: $key, acceptedDocumentHash: $hash) { ${PLAN} } }`;

export const PRECONTRACT = `query Precontract($id: ID!) { precontractInformation(applicationId: $id) {
  kind title html contentHash pdfUrl expiresAt acceptanceRequired } }`;

export const PLAN_BY_ID = `query Plan($id: ID!) { plan(id: $id) { ${PLAN} } }`;

export const PLANS = `query Plans { plans { ${PLAN} } }`;

export const MAKE_PAYMENT = `mutation Pay($planId: ID!, $amount: MoneyInput!, $key: String!) {
  makePayment(planId: $planId, amount: $amount, idempotencyKey: $key) { id amount ${MONEY} } }`;

export const APPLICATION_DOCUMENTS = `query ApplicationDocuments($id: ID!) { application(id: $id) {
  id documents { kind title url expiresAt } } }`;

export const PAYMENT_METHOD = `query PaymentMethod { paymentMethod { type brand last4 expMonth expYear } }`;

export const START_CARD_SETUP = `mutation StartCardSetup($returnUrl: String!) {
  startPaymentMethodSetup(returnUrl: $returnUrl) { setupId pageUrl clientSecret } }`;

export const COMPLETE_CARD_SETUP = `mutation CompleteCardSetup($id: ID!) {
  completePaymentMethodSetup(setupId: $id) { type brand last4 expMonth expYear } }`;
