import { mintToken, type MintOptions, type TokenClaims } from '#infra/local/tokens.ts';

/** The secret every test gateway verifies with (tests never touch `.data/local-jwt-secret`). */
export const TEST_JWT_SECRET = 'sealtalk-test-secret-do-not-use-outside-tests';

/** A token the test gateway accepts: `testToken('alice', { name: 'Alice' })`. */
export const testToken = (userId: string, claims: TokenClaims = {}, options?: MintOptions): Promise<string> =>
  mintToken(userId, claims, TEST_JWT_SECRET, options);
