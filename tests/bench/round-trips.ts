import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Counts the sequential DynamoDB round trips of whatever runs between `start()` and `stop()`:
 * requests that overlap in time count as one round (they were sent in parallel), a request that
 * starts after every earlier one finished starts a new round.
 */
export const roundTripCounter = (client: DynamoDBDocumentClient) => {
  let spans: { start: number; end: number; command: string }[] | undefined;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const start = performance.now();
      try {
        return await next(args);
      } finally {
        spans?.push({ start, end: performance.now(), command: String(context.commandName) });
      }
    },
    { step: 'initialize', name: 'roundTripCounter' },
  );
  return {
    start: () => {
      spans = [];
    },
    /** Rounds and the commands of each. */
    stop: (): { rounds: number; commands: string[][] } => {
      const done = (spans ?? []).sort((a, b) => a.start - b.start);
      spans = undefined;
      const rounds: { end: number; commands: string[] }[] = [];
      for (const span of done) {
        const last = rounds.at(-1);
        if (last && span.start < last.end) {
          last.end = Math.max(last.end, span.end);
          last.commands.push(span.command);
        } else rounds.push({ end: span.end, commands: [span.command] });
      }
      return { rounds: rounds.length, commands: rounds.map((r) => r.commands) };
    },
  };
};
