/** A user's TOTP factor as stored (RFC 6238); the seed stays encrypted. */
export interface StoredSecondFactor {
  readonly principalId: string;
  readonly orgId: string;
  readonly seedCipher: Buffer;
  /** Null until a first code proves the authenticator holds the seed. */
  readonly confirmedAt: Date | null;
  /** The newest time step accepted; a code of this step or older is refused (RFC 6238 §5.2). */
  readonly lastStep: number | null;
  /** Keyed hashes of the recovery codes not used yet. */
  readonly recoveryHashes: readonly string[];
  readonly createdAt: Date;
}

/** Storage of second factors (part of the Store port). */
export interface SecondFactorRepository {
  get(principalId: string): Promise<StoredSecondFactor | undefined>;
  /** Starts (or restarts) an enrolment; refused by the caller while a confirmed factor exists. */
  begin(factor: { principalId: string; orgId: string; seedCipher: Buffer; createdAt: Date }): Promise<void>;
  confirm(principalId: string, at: Date, step: number, recoveryHashes: readonly string[]): Promise<void>;
  /** Records an accepted step only if it is newer than the stored one; false if another request took it. */
  useStep(principalId: string, step: number): Promise<boolean>;
  /** Removes one unused recovery code; false if it was already used. */
  useRecoveryCode(principalId: string, hash: string): Promise<boolean>;
  remove(principalId: string): Promise<boolean>;
}
