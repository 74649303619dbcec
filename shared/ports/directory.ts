/** An account in the directory, as the policy needs it. Never carries a password. */
export interface DirectoryUser {
  readonly dn: string;
  readonly sAMAccountName: string;
  readonly mail?: string;
  readonly userPrincipalName?: string;
  readonly displayName?: string;
  /** userAccountControl bit 2 (ACCOUNTDISABLE) clear. */
  readonly enabled: boolean;
}

/** Which attribute identifies a person: their e-mail, or their user principal name. */
export type UserLookupAttribute = 'mail' | 'userPrincipalName';

/**
 * The directory as jit-access needs it: find a person, and tell whether they belong to a group,
 * directly or through nested groups (Active Directory's in-chain matching rule).
 */
export interface Directory {
  /**
   * The single account whose `attribute` equals `value` exactly; undefined when there is none.
   * Throws AmbiguousUserError when several accounts match: refusing is safer than guessing.
   */
  findUser(attribute: UserLookupAttribute, value: string): Promise<DirectoryUser | undefined>;
  /** The first of `groupDns`, in the order given, that the user belongs to, directly or nested. */
  firstGroupOf(userDn: string, groupDns: readonly string[]): Promise<string | undefined>;
}

export class DirectoryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Several accounts share the identifying value: a permanent refusal, told to the user. */
export class AmbiguousUserError extends DirectoryError {
  constructor(
    readonly attribute: UserLookupAttribute,
    readonly matches: number,
  ) {
    super(`${matches} directory accounts share this ${attribute}`);
  }
}

/** The directory could not be asked (down, timed out, bind refused): transient, retry later. */
export class DirectoryUnavailableError extends DirectoryError {}
