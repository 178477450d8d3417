import { describe, expect, it } from 'vitest';
import { createTableInput, isLocalEndpoint, javaArgs } from '#infra/local/dynamodb.ts';
import { TABLE } from '#lib/store/table.ts';

describe('DynamoDB Local launcher', () => {
  it('runs the jar with the fast JVM flags, a shared db, and in memory unless a path is given', () => {
    expect(javaArgs('/d', 8000)).toEqual([
      '-XX:TieredStopAtLevel=1',
      '-XX:+UseSerialGC',
      '-Djava.library.path=/d/DynamoDBLocal_lib',
      '-jar',
      '/d/DynamoDBLocal.jar',
      '-sharedDb',
      '-disableTelemetry',
      '-port',
      '8000',
      '-inMemory',
    ]);
    expect(javaArgs('/d', 8000, '/data/dynamodb').slice(-2)).toEqual(['-dbPath', '/data/dynamodb']);
  });

  it('accepts only loopback endpoints', () => {
    expect(isLocalEndpoint('http://127.0.0.1:8000')).toBe(true);
    expect(isLocalEndpoint('http://localhost:8000')).toBe(true);
    expect(isLocalEndpoint('https://dynamodb.us-east-1.amazonaws.com')).toBe(false);
    expect(isLocalEndpoint('http://127.0.0.1.evil.example')).toBe(false);
    expect(isLocalEndpoint('not a url')).toBe(false);
  });

  it('creates the table from the one table description', () => {
    const input = createTableInput('t1');
    expect(input.TableName).toBe('t1');
    expect(input.KeySchema).toEqual([
      { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
    ]);
    expect(input.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual([TABLE.gsi1.name, TABLE.gsi2.name]);
    expect(input.BillingMode).toBe('PAY_PER_REQUEST');
  });
});
