/** The Cloudflare Access application the console and operator APIs may sit behind. */
export interface AccessSettings {
  /** `https://<team>.cloudflareaccess.com`: the issuer, and where its keys are published. */
  teamDomain: string;
  /** The Access application's audience tag. */
  audience: string;
}

/** `ACCESS_TEAM_DOMAIN` and `ACCESS_AUD`, when both are set; Access is off otherwise. */
export function accessSettings(env: Env): AccessSettings | undefined {
  const teamDomain = env.ACCESS_TEAM_DOMAIN?.trim();
  const audience = env.ACCESS_AUD?.trim();
  return teamDomain && audience ? { teamDomain, audience } : undefined;
}
