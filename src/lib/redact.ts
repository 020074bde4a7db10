import { splitTokenPath } from "./webhook-tokens";

/**
 * A request path as the engine logs it: a webhook URL token (`…/{path}.{token}`) and the values of credential-like
 * query parameters are replaced by `[redacted]`, so a log line never carries what authenticates a request.
 */
const SECRET_PARAM = /(token|key|secret|signature|password|auth|code)/i;

export function redactPath(pathAndQuery: string): string {
  const q = pathAndQuery.indexOf("?");
  const path = q < 0 ? pathAndQuery : pathAndQuery.slice(0, q);
  const query = q < 0 ? "" : pathAndQuery.slice(q + 1);
  const segments = path.split("/").map((segment) => {
    const split = splitTokenPath(segment);
    return split ? `${split.path}.[redacted]` : segment;
  });
  const params = query
    .split("&")
    .filter(Boolean)
    .map((pair) => {
      const eq = pair.indexOf("=");
      const name = eq < 0 ? pair : pair.slice(0, eq);
      return eq >= 0 && SECRET_PARAM.test(decodeURIComponent(name)) ? `${name}=[redacted]` : pair;
    });
  return segments.join("/") + (params.length > 0 ? `?${params.join("&")}` : "");
}
