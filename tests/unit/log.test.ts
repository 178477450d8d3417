import { describe, expect, it, vi } from 'vitest';
import { captureStdout } from '#tests/helpers/stdout.ts';
import { lambdaContext } from '#infra/local/gateway.ts';
import { createLogger, logContext, logger, withLogContext } from '#lib/log.ts';
import { withInvocation } from '#lib/metrics.ts';

/** Log lines (lib/log.ts) and the invocation context the function wrappers (lib/metrics.ts) give them. */

const written = captureStdout({ LOG_LEVEL: 'debug' });

const entries = () => written().map((line) => JSON.parse(line) as Record<string, unknown>);

describe('log lines', () => {
  it('are one JSON object per line, multi-line values included', () => {
    createLogger({ service: 's' }).error('failed', { error: new Error('two\nlines'), n: 1 });
    expect(written()).toHaveLength(1);
    expect(entries()[0]).toMatchObject({ level: 'error', message: 'failed', service: 's', n: 1, error: { name: 'Error', message: 'two\nlines' } });
  });

  it('respect LOG_LEVEL', () => {
    vi.stubEnv('LOG_LEVEL', 'warn');
    logger.info('hidden');
    logger.warn('shown');
    expect(entries().map((e) => e.message)).toEqual(['shown']);
  });
});

describe('the invocation context', () => {
  it('puts the Lambda request id and the function on every line of a wrapped invocation, whichever logger writes it', async () => {
    const moduleLevel = logger.child({ component: 'store' });
    const handler = withInvocation('janitor', async (_event: unknown, _context: unknown) => {
      moduleLevel.info('one');
      await new Promise((resolve) => setTimeout(resolve, 5));
      createLogger().warn('two');
      logger.child({ function: 'janitor', groupId: 'g1' }).error('three');
    });
    await handler({}, lambdaContext('janitor', 10_000, 'req-A'));
    expect(entries()).toHaveLength(3);
    for (const entry of entries()) expect(entry).toMatchObject({ awsRequestId: 'req-A', function: 'janitor' });
  });

  it('does not leak into the next invocation, nor outside one, also after a throw', async () => {
    const handler = withInvocation('notifier', async (event: { fail: boolean }, _context: unknown) => {
      logger.info('working');
      if (event.fail) throw new Error('boom');
    });
    await expect(handler({ fail: true }, lambdaContext('notifier', 10_000, 'req-1'))).rejects.toThrow('boom');
    await handler({ fail: false }, lambdaContext('notifier', 10_000, 'req-2'));
    logger.info('between');
    await handler({ fail: false }, undefined);
    expect(entries().map((e) => [e.message, e.awsRequestId])).toEqual([
      ['working', 'req-1'],
      ['working', 'req-2'],
      ['between', undefined],
      ['working', undefined],
    ]);
    expect(logContext()).toBeUndefined();
  });

  it('keeps concurrent invocations apart', async () => {
    const handler = withInvocation('group-cleanup', async (delay: number, _context: unknown) => {
      await new Promise((resolve) => setTimeout(resolve, delay));
      logger.info('done', { delay });
    });
    await Promise.all([handler(20, lambdaContext('c', 10_000, 'slow')), handler(1, lambdaContext('c', 10_000, 'fast'))]);
    expect(entries().map((e) => [e.delay, e.awsRequestId])).toEqual([
      [1, 'fast'],
      [20, 'slow'],
    ]);
  });

  it("lets a logger's own fields win over the context's", () => {
    withLogContext({ awsRequestId: 'ctx', function: 'f' }, () => createLogger({ function: 'own' }).info('x'));
    expect(entries()[0]).toMatchObject({ awsRequestId: 'ctx', function: 'own' });
  });
});
