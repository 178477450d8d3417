import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TABLE } from '#lib/store/table.ts';

/**
 * Meters the DynamoDB calls a document client makes between `start()` and `stop()`:
 *
 * - **round trips**: calls that overlap in time count as one round (they were sent in parallel); a
 *   call issued after every earlier one finished starts a new round (times from when the client
 *   issued each call, so the meter's own reads before a write never split a round);
 * - **consumed capacity**, split into read and write units. Reads: as DynamoDB Local reports them
 *   (`ReturnConsumedCapacity`; 0.5 unit per 4 KB eventually consistent, 1 strongly consistent, a
 *   query's items summed before rounding). Writes: by DynamoDB's rules, per item, because DynamoDB
 *   Local sums a transaction's items before rounding (three 100-byte puts report 2 units, not 6):
 *   1 unit per KB (rounded up per item) of the larger of the item before and after, the same again
 *   for each index whose keys the item carries, twice that in a transaction; a transaction's
 *   `ConditionCheck` counts like a write of its item to the table (the cautious reading of the docs). With
 *   `capacity: 'writes'`, the meter reads each written item before and after the write through a
 *   client of its own; that time is not part of `ioMs` but happens while the handler waits
 *   (`busyMs` covers both);
 * - **I/O time**: the union of the calls' spans (without the meter's own reads).
 */

const READS = new Set(['GetItemCommand', 'QueryCommand', 'ScanCommand', 'BatchGetItemCommand', 'TransactGetItemsCommand']);
const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand', 'TransactWriteItemsCommand']);
const INDEX_KEYS = [TABLE.gsi1.partitionKey, TABLE.gsi2.partitionKey];

type Item = Record<string, unknown>;
type Key = { pk: string; sk: string };

interface Call {
  readonly command: string;
  /** When the client issued the call: before the meter's own read of the items a write changes. */
  readonly issued: number;
  /** When the call went to DynamoDB (after that read). */
  readonly start: number;
  readonly end: number;
  readonly readUnits: number;
  readonly writeUnits: number;
}

export interface Metered {
  /** Sequential rounds of DynamoDB calls. */
  readonly rounds: number;
  /** The commands of each round (`GetItemCommand`, `TransactWriteItemsCommand`, ...). */
  readonly commands: string[][];
  readonly readUnits: number;
  readonly writeUnits: number;
  /** Time with at least one call in flight, ms (the meter's own reads taken out). */
  readonly ioMs: number;
  /**
   * Time with a call or the meter's own reads in flight, ms: `busyMs - ioMs` is what the meter
   * added to the caller's wait (take it from end-to-end times), `busyMs` what to take from a
   * handler's time to keep its own work.
   */
  readonly busyMs: number;
}

interface ConsumedCapacityLike {
  readonly CapacityUnits?: number;
}

const reportedUnits = (output: unknown): number => {
  const consumed = (output as { ConsumedCapacity?: ConsumedCapacityLike | ConsumedCapacityLike[] } | undefined)?.ConsumedCapacity;
  if (consumed === undefined) return 0;
  return (Array.isArray(consumed) ? consumed : [consumed]).reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
};

/** DynamoDB's item size: attribute names plus values (strings in UTF-8, numbers ~1 byte per 2 digits + 1). */
export const itemBytes = (item: Item | undefined): number => {
  const value = (v: unknown): number => {
    if (typeof v === 'string') return Buffer.byteLength(v);
    if (typeof v === 'number') return Math.ceil(String(Math.abs(v)).replace(/[.e+-]/g, '').replace(/^0+/, '').length / 2) + 1;
    if (typeof v === 'boolean' || v === null) return 1;
    if (v instanceof Set) return [...(v as Set<unknown>)].reduce((s: number, x) => s + value(x), 0);
    if (v instanceof Uint8Array) return v.byteLength;
    if (Array.isArray(v)) return 3 + v.reduce((s: number, x) => s + 1 + value(x), 0);
    if (typeof v === 'object') return 3 + Object.entries(v as object).reduce((s, [k, x]) => s + 1 + Buffer.byteLength(k) + value(x), 0);
    return 0;
  };
  return Object.entries(item ?? {}).reduce((s, [k, v]) => s + Buffer.byteLength(k) + value(v), 0);
};

/**
 * Write units of one item written once: per KB of the larger image, for the table and each index
 * it is in (a condition check writes no index).
 */
const itemWriteUnits = (kind: WriteOp['kind'], before: Item | undefined, after: Item | undefined): number => {
  const kb = Math.max(1, Math.ceil(Math.max(itemBytes(before), itemBytes(after)) / 1024));
  if (kind === 'ConditionCheck') return kb;
  const indexes = INDEX_KEYS.filter((k) => (before && k in before) || (after && k in after)).length;
  return kb * (1 + indexes);
};

interface WriteOp {
  kind: 'Put' | 'Update' | 'Delete' | 'ConditionCheck';
  key: Key;
  item?: Item;
}

const keyOf = (item: Item): Key => ({ pk: item.pk as string, sk: item.sk as string });
const keyString = (key: Key) => `${key.pk}\u0000${key.sk}`;

/** The items a write command writes (document-client input). */
const writeOps = (command: string, input: Item): { ops: WriteOp[]; factor: number } => {
  if (command === 'TransactWriteItemsCommand') {
    const ops = (input.TransactItems as Item[]).map((entry): WriteOp => {
      const [kind, body] = Object.entries(entry)[0] as [WriteOp['kind'], Item];
      return kind === 'Put' ? { kind, key: keyOf(body.Item as Item), item: body.Item as Item } : { kind, key: body.Key as Key };
    });
    return { ops, factor: 2 };
  }
  if (command === 'BatchWriteItemCommand') {
    const ops = Object.values(input.RequestItems as Record<string, Item[]>).flat().map((request): WriteOp => {
      const put = request.PutRequest as { Item: Item } | undefined;
      return put ? { kind: 'Put', key: keyOf(put.Item), item: put.Item } : { kind: 'Delete', key: (request.DeleteRequest as { Key: Key }).Key };
    });
    return { ops, factor: 1 };
  }
  if (command === 'PutItemCommand') return { ops: [{ kind: 'Put', key: keyOf(input.Item as Item), item: input.Item as Item }], factor: 1 };
  return { ops: [{ kind: command === 'DeleteItemCommand' ? 'Delete' : 'Update', key: input.Key as Key }], factor: 1 };
};

/** The length of the union of `spans`, ms. */
const unionMs = (spans: readonly { start: number; end: number }[]): number => {
  let total = 0;
  let open: { start: number; end: number } | undefined;
  for (const span of [...spans].sort((a, b) => a.start - b.start)) {
    if (open && span.start <= open.end) open.end = Math.max(open.end, span.end);
    else {
      if (open) total += open.end - open.start;
      open = { ...span };
    }
  }
  return open ? total + (open.end - open.start) : total;
};

export interface IoMeterOptions {
  /** Count write units by DynamoDB's per-item rules (reads the written items; see above). */
  readonly capacity?: 'writes';
  readonly tableName?: string;
}

export const ioMeter = (client: DynamoDBDocumentClient, options: IoMeterOptions = {}) => {
  let calls: Call[] | undefined;
  /** Spans of the meter's own reads. */
  let meterSpans: { start: number; end: number }[] = [];
  /** Whether this window counts write units (`start({ capacity: false })` only times). */
  let counting = true;
  const side = options.capacity === 'writes' ? DynamoDBDocumentClient.from(new DynamoDBClient({})) : undefined;
  const tableName = options.tableName ?? process.env.TABLE_NAME ?? '';

  /** The current items at `keys` (strongly consistent), by key string. */
  const snapshot = async (keys: Key[]): Promise<Map<string, Item>> => {
    const found = new Map<string, Item>();
    if (!side || keys.length === 0) return found;
    const span = { start: performance.now(), end: Number.POSITIVE_INFINITY };
    meterSpans.push(span);
    const unique = [...new Map(keys.map((k) => [keyString(k), k])).values()];
    for (let i = 0; i < unique.length; i += 100) {
      let request: Record<string, { Keys: Key[]; ConsistentRead: boolean }> | undefined = { [tableName]: { Keys: unique.slice(i, i + 100), ConsistentRead: true } };
      while (request && Object.keys(request).length > 0) {
        const out = await side.send(new BatchGetCommand({ RequestItems: request }));
        for (const item of out.Responses?.[tableName] ?? []) found.set(keyString(keyOf(item)), item);
        request = out.UnprocessedKeys as typeof request;
      }
    }
    span.end = performance.now();
    return found;
  };

  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName);
      const isWrite = WRITES.has(command);
      const input = args.input as Item;
      const request = (READS.has(command) || isWrite) && input.ReturnConsumedCapacity === undefined ? { ...args, input: { ...input, ReturnConsumedCapacity: 'INDEXES' } } : args;
      const issued = performance.now();
      const writes = calls !== undefined && counting && isWrite && side !== undefined ? writeOps(command, input) : undefined;
      const before = writes ? await snapshot(writes.ops.map((op) => op.key)) : undefined;
      const start = performance.now();
      let output: unknown;
      let failed = false;
      try {
        const result = await next(request);
        output = result.output;
        return result;
      } catch (error) {
        failed = true;
        throw error;
      } finally {
        const end = performance.now();
        let writeUnits = isWrite ? reportedUnits(output) : 0;
        if (writes && before && !failed) {
          const after = await snapshot(writes.ops.filter((op) => op.kind === 'Update').map((op) => op.key));
          writeUnits = writes.ops.reduce((sum, op) => {
            const old = before.get(keyString(op.key));
            const now = op.kind === 'Put' ? op.item : op.kind === 'Update' ? after.get(keyString(op.key)) : undefined;
            return sum + writes.factor * itemWriteUnits(op.kind, old, now);
          }, 0);
        }
        calls?.push({ command, issued, start, end, readUnits: READS.has(command) ? reportedUnits(output) : 0, writeUnits });
      }
    },
    { step: 'initialize', name: 'benchIoMeter' },
  );
  return {
    /** Opens a window; `capacity: false` leaves the written items unread (exact times, no write units). */
    start: (window: { capacity?: boolean } = {}): void => {
      calls = [];
      meterSpans = [];
      counting = window.capacity ?? true;
    },
    stop: (): Metered => {
      const done = (calls ?? []).sort((a, b) => a.issued - b.issued);
      calls = undefined;
      // Rounds by when the client issued each call: a write the meter held back for its own read was
      // still sent alongside the calls issued meanwhile.
      const rounds: { start: number; end: number; commands: string[] }[] = [];
      for (const call of done) {
        const last = rounds.at(-1);
        if (last && call.issued < last.end) {
          last.end = Math.max(last.end, call.end);
          last.commands.push(call.command);
        } else rounds.push({ start: call.issued, end: call.end, commands: [call.command] });
      }
      return {
        rounds: rounds.length,
        commands: rounds.map((r) => r.commands),
        readUnits: done.reduce((s, c) => s + c.readUnits, 0),
        writeUnits: done.reduce((s, c) => s + c.writeUnits, 0),
        ioMs: unionMs(done),
        busyMs: unionMs([...done, ...meterSpans]),
      };
    },
    destroy: (): void => side?.destroy(),
  };
};
