/**
 * The single table, described once. The CDK stack, the local runtime (which creates the table on
 * DynamoDB Local) and the repositories all derive from this description.
 */

export const TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Inverted index: "groups of a user" (`USER#u` / `GROUP#g`) and notice inboxes. */
  gsi1: { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  /**
   * Sparse index of scheduled work on group items: regular clearing (`CLEAR#shard` / next clear
   * ms) while it is on, the janitor's repairs (`REPAIR#shard` / due ms) while a chunked creation or
   * a dismissal's cleanup is unfinished.
   */
  gsi2: { name: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  /** TTL attribute (epoch seconds). DynamoDB deletes lazily: readers filter on it too. */
  ttlAttribute: 'expiresAt',
} as const;
