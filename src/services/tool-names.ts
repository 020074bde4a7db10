import { getProvider, getProviderAction, listProviders } from "../providers/registry";

/**
 * Tool names of the catalog (services/tools.ts: `<platform>_<action>`) resolved without I/O, for code above
 * services/ that must not reach providers/ itself (the Arrotech dialect's steps and templates).
 */

export interface ProviderToolName {
  platform: string;
  action: string;
}

/** The provider tool a name stands for (`google_calendar_appointment` → google_calendar / appointment), or null. */
export function splitToolName(name: string): ProviderToolName | null {
  // Longest platform first, so a platform whose id prefixes another's cannot capture its tools.
  const platforms = listProviders()
    .map((p) => p.platform)
    .sort((a, b) => b.length - a.length);
  for (const platform of platforms) {
    if (!name.startsWith(`${platform}_`)) continue;
    const action = name.slice(platform.length + 1);
    const provider = getProvider(platform)!;
    return getProviderAction(provider, action) ? { platform, action } : null;
  }
  return null;
}

/** The catalog name of a provider action. */
export const toolNameOf = (platform: string, action: string): string => `${platform}_${action}`;

/** Every provider tool name (a conversation's `auto_approve_tools` may name any of them). */
export function providerToolNames(): string[] {
  return listProviders().flatMap((p) => Object.keys(p.actions).map((a) => toolNameOf(p.platform, a)));
}
