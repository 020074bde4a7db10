/**
 * `webhook_deliveries` (migration 0020): verified deliveries of signature schemes without a signed timestamp, by a
 * hash of signature and body, so a replay under a new delivery id is recognised (services/inbound-webhooks.ts).
 */

/**
 * Records a delivery, or finds the one recorded since `notBefore` with the same digest: returns the event id that
 * owns the digest (`eventId` when this call is the first). An older row is taken over: its window has passed.
 */
export async function claimDelivery(
  db: D1Database,
  d: { flowId: string; orgId: string; digest: string; eventId: string; at: number; notBefore: number },
): Promise<string> {
  const [, owner] = await db.batch([
    db
      .prepare(
        `INSERT INTO webhook_deliveries (flow_id, digest, org_id, event_id, received_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (flow_id, digest) DO UPDATE SET org_id = excluded.org_id, event_id = excluded.event_id,
           received_at = excluded.received_at
         WHERE webhook_deliveries.received_at < ?`,
      )
      .bind(d.flowId, d.digest, d.orgId, d.eventId, d.at, d.notBefore),
    db.prepare(`SELECT event_id FROM webhook_deliveries WHERE flow_id = ? AND digest = ?`).bind(d.flowId, d.digest),
  ]);
  return (owner.results[0] as { event_id: string } | undefined)?.event_id ?? d.eventId;
}

/** Deletes up to `limit` deliveries received before `before` (ms); returns how many. */
export async function pruneWebhookDeliveries(db: D1Database, before: number, limit: number): Promise<number> {
  const res = await db
    .prepare(`DELETE FROM webhook_deliveries WHERE rowid IN (SELECT rowid FROM webhook_deliveries WHERE received_at < ? LIMIT ?)`)
    .bind(before, limit)
    .run();
  return res.meta.changes;
}
