// Cognito's own JSON API, called directly from the browser: SignUp, ConfirmSignUp,
// ResendConfirmationCode, InitiateAuth and RespondToAuthChallenge are unauthenticated calls
// of a public app client, so the same code runs against the local moto server and a real
// user pool. Nothing here is secret.
//
// Sign-in uses the flow /config.json names: USER_SRP_AUTH (AWS) proves the password without
// sending it (srp.js); USER_PASSWORD_AUTH (local) sends it to Cognito, because the local
// stand-in (moto) accepts any SRP proof and so could not refuse a wrong password.

import { newEphemeral, passwordVerifier } from "./srp.js";

export class AuthError extends Error {
  constructor(type, message) {
    super(message);
    this.type = type;
  }
}

const MESSAGES = {
  UsernameExistsException: "An account with this e-mail already exists. Sign in instead.",
  NotAuthorizedException: "The e-mail or the password is not correct.",
  UserNotFoundException: "The e-mail or the password is not correct.",
  CodeMismatchException: "That code is not correct. Check the e-mail and try again.",
  ExpiredCodeException: "That code has expired. Ask for a new one.",
  LimitExceededException: "Too many attempts. Wait a few minutes and try again.",
  TooManyRequestsException: "Too many attempts. Wait a few minutes and try again.",
  TooManyFailedAttemptsException: "Too many attempts. Wait a few minutes and try again.",
};

export const PASSWORD_RULES = "At least 8 characters, with upper- and lower-case letters and a number.";

function messageFor(type, message) {
  if (type === "InvalidPasswordException" || (type === "InvalidParameterException" && /password/i.test(message))) {
    // A real pool names the rule that failed ("Password must have uppercase characters").
    const detail = /did not conform with policy:\s*(.+)/i.exec(message || "");
    return `This password is not allowed: ${detail ? detail[1].replace(/\.?$/, ".") : PASSWORD_RULES}`;
  }
  if (type === "InvalidParameterException" && /username|email/i.test(message || "")) {
    return "Enter a valid e-mail address.";
  }
  return MESSAGES[type] || "Sign-in is not available right now. Try again in a moment.";
}

export class Cognito {
  constructor({ endpoint, clientId, userPoolId = "", authFlow = "USER_SRP_AUTH" }) {
    this.endpoint = endpoint.replace(/\/$/, "") + "/";
    this.clientId = clientId;
    this.userPoolId = userPoolId;
    this.authFlow = authFlow;
  }

  async call(action, body) {
    let response;
    try {
      response = await fetch(this.endpoint, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-amz-json-1.1",
          "X-Amz-Target": `AWSCognitoIdentityProviderService.${action}`,
        },
        body: JSON.stringify({ ClientId: this.clientId, ...body }),
        credentials: "omit",
        cache: "no-store",
      });
    } catch {
      throw new AuthError("NetworkError", "Cannot reach the sign-in service. Check your connection and try again.");
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      // "__type" is "UsernameExistsException" or "com.amazonaws...#UsernameExistsException".
      const type = String(data.__type || "UnknownError").split("#").pop();
      throw new AuthError(type, messageFor(type, data.message || data.Message));
    }
    return data;
  }

  signUp(email, password) {
    return this.call("SignUp", {
      Username: email,
      Password: password,
      UserAttributes: [{ Name: "email", Value: email }],
    });
  }

  confirmSignUp(email, code) {
    return this.call("ConfirmSignUp", { Username: email, ConfirmationCode: code });
  }

  resendCode(email) {
    return this.call("ResendConfirmationCode", { Username: email });
  }

  /** Returns { accessToken, expiresIn } or throws AuthError (UserNotConfirmedException included). */
  async signIn(email, password) {
    const data = this.authFlow === "USER_PASSWORD_AUTH"
      ? await this.call("InitiateAuth", {
        AuthFlow: "USER_PASSWORD_AUTH",
        AuthParameters: { USERNAME: email, PASSWORD: password },
      })
      : await this.signInWithSrp(email, password);
    const result = data.AuthenticationResult;
    if (!result) {
      throw new AuthError(data.ChallengeName || "Challenge", "This account needs a step this page does not support.");
    }
    return { accessToken: result.AccessToken, expiresIn: result.ExpiresIn || 3600 };
  }

  /** USER_SRP_AUTH: send A, answer the PASSWORD_VERIFIER challenge with the proof. */
  async signInWithSrp(email, password) {
    const ephemeral = newEphemeral();
    const challenge = await this.call("InitiateAuth", {
      AuthFlow: "USER_SRP_AUTH",
      AuthParameters: { USERNAME: email, SRP_A: ephemeral.srpA },
    });
    if (challenge.ChallengeName !== "PASSWORD_VERIFIER") return challenge;
    let responses;
    try {
      ({ responses } = await passwordVerifier({
        userPoolId: this.userPoolId,
        password,
        ephemeral,
        challenge: challenge.ChallengeParameters || {},
      }));
    } catch {
      // A malformed challenge (or a page without a pool id): nothing the shopper can fix.
      throw new AuthError("SrpError", messageFor("SrpError"));
    }
    return this.call("RespondToAuthChallenge", {
      ChallengeName: "PASSWORD_VERIFIER",
      ChallengeResponses: responses,
      ...(challenge.Session ? { Session: challenge.Session } : {}),
    });
  }
}
