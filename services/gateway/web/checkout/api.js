// The gateway's GraphQL API, called with the Cognito access token in the Authorization
// header (as AppSync takes it). A 401 means the session is over: SessionExpired.

export class SessionExpired extends Error {}

export class ApiError extends Error {
  /** One AppSync-shaped error: errorType, message, errorInfo.field (e.g. "input.phoneNumber"). */
  constructor(error) {
    super(error.message || "Something went wrong.");
    this.type = error.errorType || "Error";
    this.info = error.errorInfo || {};
    this.field = this.info.field || null;
  }
}

export class Api {
  constructor(url, getToken) {
    this.url = url;
    this.getToken = getToken;
  }

  async request(query, variables = {}) {
    const token = this.getToken();
    if (!token) throw new SessionExpired("not signed in");
    let response;
    try {
      response = await fetch(this.url, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: token },
        body: JSON.stringify({ query, variables }),
        credentials: "omit",
        cache: "no-store",
      });
    } catch {
      throw new ApiError({ errorType: "NetworkError", message: "Cannot reach the server. Check your connection." });
    }
    if (response.status === 401) throw new SessionExpired("the gateway refused the token");
    const body = await response.json().catch(() => null);
    if (!body) throw new ApiError({ errorType: "ServerError", message: "The server answered with an error." });
    if (body.errors && body.errors.length) throw new ApiError(body.errors[0]);
    return body.data;
  }
}
