/** Hard limits of the engine. Each is enforced with a clear 4xx error and listed in the README. */
export const LIMITS = {
  /** Largest request body the API accepts, in bytes (413 above). */
  MAX_REQUEST_BODY_BYTES: 1024 * 1024,
  /** Largest flow document, serialized, in bytes. */
  MAX_FLOW_BYTES: 256 * 1024,
  /** Most actions in one flow. */
  MAX_ACTIONS_PER_FLOW: 100,
  /** Most triggers in one flow. */
  MAX_TRIGGERS_PER_FLOW: 20,
  /** Most conditions / schedules in one flow. */
  MAX_CONDITIONS_PER_FLOW: 100,
  /** Longest flow or action name. */
  MAX_NAME_LENGTH: 200,
  /** Largest page a list endpoint returns. */
  MAX_PAGE_SIZE: 100,
  /** Default page size. */
  DEFAULT_PAGE_SIZE: 25,
  /** Most ids in one batch get. */
  MAX_BATCH_GET: 100,
  /** Largest record, serialized, in bytes. */
  MAX_RECORD_BYTES: 256 * 1024,
  /** Most API keys per organization. */
  MAX_API_KEYS_PER_ORG: 100,
} as const;
