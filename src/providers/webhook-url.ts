/**
 * Incoming-webhook providers (Discord, Teams): the webhook URL is the credential. Its origin is the API root
 * (a connection's base_url replaces it) and its path and query are what the engine calls.
 */
export const webhookOrigin = (webhookUrl: string): string => new URL(webhookUrl).origin;
export function webhookPath(webhookUrl: string): string {
  const u = new URL(webhookUrl);
  return `${u.pathname}${u.search}`;
}
