/** The FIXTURES service binding's handler (fixture-writer.mjs): writes replay fixtures when `enabled`. */
export function fixtureWriter(enabled: boolean): (request: Request) => Promise<Response>;
