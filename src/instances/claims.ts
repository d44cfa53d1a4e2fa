/**
 * Name and path claims, as postmulti's register_claim(): every instance name
 * and every private or shared directory has one owner, "CONFIG_DIR, PARAM".
 * Re-claiming by the same owner is not a conflict (postmulti tolerates a
 * directory listed twice the same way).
 */
export interface Claim {
  readonly param: string;
  readonly value: string;
}

export class ClaimTable {
  private readonly owners = new Map<string, string>();

  /** A copy to plan on: claims made on it do not reach this table. */
  clone(): ClaimTable {
    const copy = new ClaimTable();
    for (const [value, owner] of this.owners) copy.owners.set(value, owner);
    return copy;
  }

  /** The owner ("DIR, PARAM") of a value, if claimed. */
  ownerOf(value: string): string | undefined {
    return this.owners.get(value);
  }

  /**
   * Claims all values for one instance, or none: returns the conflict message
   * (postmulti's wording) for the first value owned by someone else.
   */
  claimAll(instancePath: string, claims: readonly Claim[]): string | undefined {
    for (const c of claims) {
      const requestor = `${instancePath}, ${c.param}`;
      const owner = this.owners.get(c.value);
      if (owner !== undefined && owner !== requestor) {
        return `instance ${instancePath}, ${c.param}=${c.value} conflicts with instance ${owner}=${c.value}`;
      }
    }
    for (const c of claims) {
      if (!this.owners.has(c.value)) this.owners.set(c.value, `${instancePath}, ${c.param}`);
    }
    return undefined;
  }
}

export function instanceClaims(i: {
  name: string | undefined;
  configDirectory: string;
  queueDirectory: string;
  dataDirectory: string;
}): Claim[] {
  const claims: Claim[] = [];
  if (i.name !== undefined) claims.push({ param: 'multi_instance_name', value: i.name });
  claims.push({ param: 'config_directory', value: i.configDirectory });
  claims.push({ param: 'queue_directory', value: i.queueDirectory });
  claims.push({ param: 'data_directory', value: i.dataDirectory });
  return claims;
}
