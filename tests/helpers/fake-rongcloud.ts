import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake RongCloud server API on 127.0.0.1: verifies every signature like the real one, keeps the IM
 * state the group calls produce, records message publishes, enforces the per-call limits, and can be
 * told to fail (status/code answers, slow answers, dropped connections) to exercise the client.
 */

export interface RecordedCall {
  path: string;
  form: URLSearchParams;
  /** The form with repeated keys as arrays. */
  params: Record<string, string | string[]>;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** Epoch ms of arrival. */
  at: number;
}

export type FailAnswer = { status?: number; code?: number; errorMessage?: string } | { delayMs: number } | 'drop';

export interface FakeGroup {
  name: string;
  members: Set<string>;
  banned: boolean;
  whitelist: Set<string>;
}

export interface FakeRongCloud {
  /** http://127.0.0.1:<port> */
  url: string;
  appKey: string;
  appSecret: string;
  /** Accepted calls only (signature valid, answered 200), in arrival order. */
  calls: RecordedCall[];
  /** Every request received, including rejected and failed ones. */
  attempts: RecordedCall[];
  /**
   * Queues canned answers for a path (or '*' for any path): each is used by one request, in order,
   * path-specific entries first. `{delayMs}` holds the request that long, then handles it normally
   * unless the client has hung up meanwhile (then it has no effect); `'drop'` destroys the socket.
   * A `{status, code}` answer defaults the other: 429 ↔ 1008, 401 ↔ 1004, 5xx ↔ 1000, else 400.
   */
  fail(path: string, ...answers: FailAnswer[]): void;
  groups: Map<string, FakeGroup>;
  /** Resolves with the accepted calls (for `path`) once there are at least `n`; rejects after `timeoutMs` (2 s). */
  waitForCalls(n: number, opts?: { path?: string; timeoutMs?: number }): Promise<RecordedCall[]>;
  /** Forgets calls, attempts, queued failures and groups. */
  reset(): void;
  close(): Promise<void>;
}

export interface FakeRongCloudOptions {
  appKey?: string;
  appSecret?: string;
  /** Unit of the `Timestamp` header it accepts. @default 's' */
  timestampUnit?: 's' | 'ms';
  /** How far the Timestamp may be from the server's clock. @default 300 */
  maxSkewSeconds?: number;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

const ok = (extra: Record<string, unknown> = {}): Answer => ({ status: 200, body: { code: 200, ...extra } });
const error = (status: number, code: number, errorMessage: string): Answer => ({ status, body: { code, errorMessage } });

const PER_CALL_LIMITS: Record<string, { key: string; max: number }> = {
  '/group/create.json': { key: 'userId', max: 1000 },
  '/group/join.json': { key: 'userId', max: 1000 },
  '/group/quit.json': { key: 'userId', max: 1000 },
  '/group/user/ban/whitelist/add.json': { key: 'userId', max: 20 },
  '/group/user/ban/whitelist/rollback.json': { key: 'userId', max: 20 },
  '/message/private/publish.json': { key: 'toUserId', max: 1000 },
  '/message/system/publish.json': { key: 'toUserId', max: 100 },
};

/** Required fields per known path; a missing one is answered 1002. */
const REQUIRED: Record<string, readonly string[]> = {
  '/group/create.json': ['userId', 'groupId', 'groupName'],
  '/group/join.json': ['userId', 'groupId'],
  '/group/quit.json': ['userId', 'groupId'],
  '/group/dismiss.json': ['userId', 'groupId'],
  '/group/refresh.json': ['groupId', 'groupName'],
  '/group/ban/add.json': ['groupId'],
  '/group/ban/rollback.json': ['groupId'],
  '/group/user/ban/whitelist/add.json': ['groupId', 'userId'],
  '/group/user/ban/whitelist/rollback.json': ['groupId', 'userId'],
  '/message/group/publish.json': ['fromUserId', 'toGroupId', 'objectName', 'content'],
  '/message/private/publish.json': ['fromUserId', 'toUserId', 'objectName', 'content'],
  '/message/system/publish.json': ['fromUserId', 'toUserId', 'objectName', 'content'],
  '/conversation/message/history/clean.json': ['conversationType', 'fromUserId', 'targetId', 'msgTimestamp'],
};

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

const paramsOf = (form: URLSearchParams): Record<string, string | string[]> => {
  const params: Record<string, string | string[]> = {};
  for (const key of new Set(form.keys())) {
    const values = form.getAll(key);
    params[key] = values.length === 1 ? (values[0] as string) : values;
  }
  return params;
};

const headersOf = (req: IncomingMessage): Record<string, string> => {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
};

const cannedAnswer = (answer: { status?: number; code?: number; errorMessage?: string }): Answer => {
  const status =
    answer.status ??
    (answer.code === 1008 ? 429 : answer.code === 1004 || answer.code === 1001 ? 401 : answer.code === 1000 || answer.code === 1050 ? 500 : 400);
  const code = answer.code ?? (status === 429 ? 1008 : status === 401 ? 1004 : status >= 500 ? 1000 : 1002);
  return error(status, code, answer.errorMessage ?? `canned failure ${code}`);
};

export const startFakeRongCloud = async (opts: FakeRongCloudOptions = {}): Promise<FakeRongCloud> => {
  const appKey = opts.appKey ?? 'fake-app-key';
  const appSecret = opts.appSecret ?? 'fake-app-secret';
  const unitMs = opts.timestampUnit === 'ms' ? 1 : 1000;
  const maxSkewMs = (opts.maxSkewSeconds ?? 300) * 1000;

  const calls: RecordedCall[] = [];
  const attempts: RecordedCall[] = [];
  const groups = new Map<string, FakeGroup>();
  const failures = new Map<string, FailAnswer[]>();
  const timers = new Set<NodeJS.Timeout>();
  let waiters: Array<() => void> = [];

  const notify = (): void => {
    const pending = waiters;
    waiters = [];
    for (const wake of pending) wake();
  };

  const signatureProblem = (headers: Record<string, string>): string | undefined => {
    if (headers['app-key'] !== appKey) return 'app key mismatch';
    const nonce = headers.nonce;
    if (nonce === undefined || nonce === '' || nonce.length > 18) return 'bad nonce';
    const timestamp = headers.timestamp;
    if (timestamp === undefined || !/^\d+$/.test(timestamp)) return 'bad timestamp';
    if (Math.abs(Number(timestamp) * unitMs - Date.now()) > maxSkewMs) return 'timestamp out of range';
    const expected = createHash('sha1').update(`${appSecret}${nonce}${timestamp}`).digest('hex');
    if (headers.signature !== expected) return 'signature mismatch';
    return undefined;
  };

  const group = (id: string): FakeGroup | undefined => groups.get(id);

  /** Applies an accepted call to the IM state. */
  const apply = (path: string, form: URLSearchParams): Answer => {
    const required = REQUIRED[path];
    if (required === undefined) return error(404, 404, `unknown path ${path}`);
    const missing = required.find((key) => (form.get(key) ?? '') === '');
    if (missing !== undefined) return error(400, 1002, `parameter error: ${missing} is required`);
    const limit = PER_CALL_LIMITS[path];
    if (limit !== undefined && form.getAll(limit.key).length > limit.max) {
      return error(200, 1502, `count over limit: at most ${limit.max} ${limit.key}`);
    }
    const groupId = form.get('groupId') ?? '';
    const userIds = form.getAll('userId');
    switch (path) {
      case '/group/create.json': {
        const existing = group(groupId);
        const name = form.get('groupName') as string;
        if (existing === undefined) groups.set(groupId, { name, members: new Set(userIds), banned: false, whitelist: new Set() });
        else {
          existing.name = name;
          for (const id of userIds) existing.members.add(id);
        }
        break;
      }
      case '/group/join.json': {
        const existing = group(groupId);
        const name = form.get('groupName');
        if (existing === undefined) {
          groups.set(groupId, { name: name ?? '', members: new Set(userIds), banned: false, whitelist: new Set() });
        } else {
          if (name !== null && name !== '') existing.name = name;
          for (const id of userIds) existing.members.add(id);
        }
        break;
      }
      case '/group/quit.json':
        for (const id of userIds) group(groupId)?.members.delete(id);
        break;
      case '/group/dismiss.json':
        groups.delete(groupId);
        break;
      case '/group/refresh.json': {
        const existing = group(groupId);
        if (existing !== undefined) existing.name = form.get('groupName') as string;
        break;
      }
      case '/group/ban/add.json':
      case '/group/ban/rollback.json':
        for (const id of form.getAll('groupId')) {
          const existing = group(id);
          if (existing !== undefined) existing.banned = path === '/group/ban/add.json';
        }
        break;
      case '/group/user/ban/whitelist/add.json':
        for (const id of userIds) group(groupId)?.whitelist.add(id);
        break;
      case '/group/user/ban/whitelist/rollback.json':
        for (const id of userIds) group(groupId)?.whitelist.delete(id);
        break;
      default:
        // Message publishes and history cleaning: recorded only.
        break;
    }
    return ok();
  };

  const nextFailure = (path: string): FailAnswer | undefined => failures.get(path)?.shift() ?? failures.get('*')?.shift();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const form = new URLSearchParams(body);
    const record: RecordedCall = { path, form, params: paramsOf(form), headers: headersOf(req), at: Date.now() };
    attempts.push(record);

    const send = (answer: Answer): void => {
      if (answer.status === 200 && answer.body.code === 200) {
        calls.push(record);
        notify();
      }
      res.writeHead(answer.status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    };

    const answerNormally = (): void => {
      if (req.method !== 'POST') return send(error(405, 1003, 'POST required'));
      if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
        return send(error(400, 1003, 'no POST data: form content type required'));
      }
      const problem = signatureProblem(record.headers);
      if (problem !== undefined) return send(error(401, 1004, `signature error: ${problem}`));
      send(apply(path, form));
    };

    const failure = nextFailure(path);
    if (failure === undefined) return answerNormally();
    if (failure === 'drop') {
      req.socket.destroy();
      return;
    }
    if ('delayMs' in failure) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!res.destroyed && !req.socket.destroyed) answerNormally();
      }, failure.delayMs);
      timers.add(timer);
      return;
    }
    send(cannedAnswer(failure));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ code: 1000, errorMessage: String(err) }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const matching = (path: string | undefined): RecordedCall[] => (path === undefined ? calls : calls.filter((c) => c.path === path));

  return {
    url: `http://127.0.0.1:${port}`,
    appKey,
    appSecret,
    calls,
    attempts,
    groups,
    fail: (path, ...answers) => {
      const queue = failures.get(path) ?? [];
      queue.push(...answers);
      failures.set(path, queue);
    },
    waitForCalls: (n, { path, timeoutMs = 2000 } = {}) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== check);
          reject(new Error(`fake RongCloud: ${matching(path).length} of ${n} calls${path ? ` to ${path}` : ''} after ${timeoutMs} ms`));
        }, timeoutMs);
        const check = (): void => {
          const found = matching(path);
          if (found.length >= n) {
            clearTimeout(timer);
            resolve([...found]);
          } else waiters.push(check);
        };
        check();
      }),
    reset: () => {
      calls.length = 0;
      attempts.length = 0;
      failures.clear();
      groups.clear();
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
};
