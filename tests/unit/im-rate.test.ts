import { describe, expect, it } from 'vitest';
import { RATE_LIMITS, createRateLimits, createTokenBucket, rateCost, type Clock } from '#lib/im/rate.ts';

/** A virtual clock: sleeping moves time forward at once. */
const virtualClock = (start = 0): Clock & { slept: number[] } => {
  let time = start;
  const slept: number[] = [];
  return {
    now: () => time,
    sleep: async (ms) => {
      slept.push(ms);
      time += ms;
    },
    slept,
  };
};

/** Acquires one after another, returning the virtual time each acquire returned at. */
const admissionTimes = async (acquire: (cost?: number) => Promise<void>, clock: Clock, n: number): Promise<number[]> => {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    await acquire();
    times.push(clock.now());
  }
  return times;
};

const countPerSecond = (times: number[]): Record<number, number> => {
  const counts: Record<number, number> = {};
  for (const t of times) counts[Math.floor(t / 1000)] = (counts[Math.floor(t / 1000)] ?? 0) + 1;
  return counts;
};

describe('rate limits', () => {
  it('the 20/s group message family shared by 2 containers lets 10 through per second', async () => {
    const clock = virtualClock();
    const limits = createRateLimits(2, clock);
    const times = await admissionTimes((cost) => limits.groupMessage.acquire(cost), clock, 35);
    expect(countPerSecond(times)).toEqual({ 0: 10, 1: 10, 2: 10, 3: 5 });
  });

  it('never admits more than the limit in a second, even for a container started mid-second', async () => {
    const clock = virtualClock(12_345);
    const limits = createRateLimits(1, clock);
    const times = await admissionTimes((cost) => limits.groupManagement.acquire(cost), clock, 350);
    expect(Object.values(countPerSecond(times)).every((n) => n <= RATE_LIMITS.groupManagement.limit)).toBe(true);
    expect(times.at(-1)).toBeLessThan(16_000);
  });

  it('a cost above the capacity waits for the deficit, and later callers wait behind it', async () => {
    const clock = virtualClock();
    const bucket = createTokenBucket(10, 1000, clock);
    await bucket.acquire(25);
    expect(clock.now()).toBe(2000);
    await bucket.acquire(5);
    expect(clock.now()).toBe(2000);
    await bucket.acquire(1);
    expect(clock.now()).toBe(3000);
  });

  it('counts private messages per recipient against 6000 a minute', async () => {
    const clock = virtualClock();
    const limits = createRateLimits(1, clock);
    for (let i = 0; i < 6; i++) await limits.privateMessage.acquire(1000);
    expect(clock.now()).toBe(0);
    await limits.privateMessage.acquire(1000);
    expect(clock.now()).toBe(60_000);
  });

  it('serves concurrent callers in arrival order', async () => {
    let time = 0;
    const wakeups: number[] = [];
    const clock: Clock = {
      now: () => time,
      sleep: async (ms) => {
        wakeups.push(time + ms);
      },
    };
    const bucket = createTokenBucket(2, 1000, clock);
    await Promise.all(Array.from({ length: 7 }, () => bucket.acquire()));
    expect(wakeups).toEqual([1000, 1000, 2000, 2000, 3000]);
    time = 500;
    await bucket.acquire();
    expect(wakeups.at(-1)).toBe(3000);
  });

  it('maps each path to its family and cost', () => {
    expect(rateCost('/group/create.json', { userId: ['a', 'b'] })).toEqual({ family: 'groupManagement', cost: 1 });
    expect(rateCost('/group/user/ban/whitelist/add.json', {})).toEqual({ family: 'groupManagement', cost: 1 });
    expect(rateCost('/message/group/publish.json', { toGroupId: 'g' })).toEqual({ family: 'groupMessage', cost: 1 });
    expect(rateCost('/message/private/publish.json', { toUserId: ['a', 'b', 'c'] })).toEqual({ family: 'privateMessage', cost: 3 });
    expect(rateCost('/message/system/publish.json', { toUserId: 'a' })).toEqual({ family: 'systemMessage', cost: 1 });
    expect(rateCost('/conversation/message/history/clean.json', {})).toEqual({ family: 'historyClean', cost: 1 });
  });

  it('lowers a family by an override (REGULAR_CLEAR_RATE): 40/s shared by 2 containers lets 20 through per second', async () => {
    const clock = virtualClock();
    const limits = createRateLimits(2, clock, { historyClean: 40 });
    const times = await admissionTimes((cost) => limits.historyClean.acquire(cost), clock, 50);
    expect(countPerSecond(times)).toEqual({ 0: 20, 1: 20, 2: 10 });
  });

  it("never raises a family above RongCloud's limit, and refuses a non-positive override", async () => {
    const clock = virtualClock();
    const limits = createRateLimits(1, clock, { historyClean: 500 });
    const times = await admissionTimes((cost) => limits.historyClean.acquire(cost), clock, 150);
    expect(countPerSecond(times)).toEqual({ 0: 100, 1: 50 });
    expect(() => createRateLimits(1, clock, { historyClean: 0 })).toThrow(/historyClean rate/);
    expect(() => createRateLimits(1, clock, { historyClean: Number.NaN })).toThrow(/historyClean rate/);
  });

  it('rejects a share below 1', () => {
    expect(() => createRateLimits(0)).toThrow(/share/);
    expect(() => createRateLimits(Number.NaN)).toThrow(/share/);
  });
});
