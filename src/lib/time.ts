/** ISO-8601 UTC string of an instant in milliseconds (defaults to now). */
export const isoNow = (ms: number = Date.now()): string => new Date(ms).toISOString();
