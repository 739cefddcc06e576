/**
 * X's error answers: RFC 7807 problems (`{errors?, title, detail, type, status}`) with types under
 * `https://api.x.com/2/problems/` (OpenAPI 2.166 `Problem`), thrown by route handlers as HttpProblem.
 */

export const problemType = {
  invalidRequest: 'https://api.x.com/2/problems/invalid-request',
  notFound: 'https://api.x.com/2/problems/resource-not-found',
  forbidden: 'https://api.x.com/2/problems/client-forbidden',
  usageCapped: 'https://api.twitter.com/2/problems/usage-capped',
  /** The app's OAuth 1.0a permissions do not cover the endpoint (X answers it with the api.twitter.com host). */
  oauth1Permissions: 'https://api.twitter.com/2/problems/oauth1-permissions',
  unsupportedAuthentication: 'https://api.twitter.com/2/problems/unsupported-authentication',
} as const;

const statusTitles: Record<number, string> = {
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(String(body.detail ?? body.title));
    this.name = 'HttpProblem';
  }
}

export function errorBody(status: number, detail?: string): Record<string, unknown> {
  const title = statusTitles[status] ?? 'Error';
  return { title, detail: detail ?? title, type: 'about:blank', status };
}

export function invalidRequest(message: string, parameters?: Record<string, string[]>): HttpProblem {
  return new HttpProblem(400, {
    errors: [{ ...(parameters ? { parameters } : {}), message }],
    title: 'Invalid Request',
    detail: 'One or more parameters to your request was invalid.',
    type: problemType.invalidRequest,
    status: 400,
  });
}

/** A failure reason X documents by name: 400, "Reason: details" in `errors[].message` (inferred shape). */
export function reasonProblem(reason: string, details: string): HttpProblem {
  return new HttpProblem(400, {
    errors: [{ message: `${reason}: ${details}` }],
    title: 'Invalid Request',
    detail: 'One or more parameters to your request was invalid.',
    type: problemType.invalidRequest,
    status: 400,
  });
}

export function notFound(what: string, id: string): HttpProblem {
  return new HttpProblem(404, {
    errors: [{ value: id, detail: `Could not find ${what} with id: [${id}].`, title: 'Not Found Error', resource_type: what, parameter: 'id', type: problemType.notFound }],
    title: 'Not Found Error',
    detail: `Could not find ${what} with id: [${id}].`,
    type: problemType.notFound,
    status: 404,
  });
}

export function forbidden(detail: string, type?: string): HttpProblem {
  return new HttpProblem(403, { ...errorBody(403, detail), ...(type ? { type } : {}) });
}

/** X's answer to the wrong kind of authentication on a route (its wording, as X answers it to an app-only token on a user-context route). */
export function unsupportedAuthentication(used: string, supported: string): Record<string, unknown> {
  return {
    ...errorBody(403, `Authenticating with ${used} is forbidden for this endpoint.  Supported authentication types are [${supported}].`),
    title: 'Unsupported Authentication',
    type: problemType.unsupportedAuthentication,
  };
}

/** X's rate-limit answer (code 88, "Rate limit exceeded"). */
export const rateLimited = { errors: [{ code: 88, message: 'Rate limit exceeded' }] };
