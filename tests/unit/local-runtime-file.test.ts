import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isAlive, localLocation, processInfo, readRuntime, removeRuntime, runtimeFile, writeRuntime, type LocalRuntime } from '#infra/local/runtime-file.ts';

/** A pid that existed and is gone now. */
const deadPid = (): number => {
  const child = spawnSync(process.execPath, ['-e', '0']);
  return child.pid as number;
};

describe('the runtime file', () => {
  let temp: string;
  beforeEach(() => {
    temp = mkdtempSync(join(tmpdir(), 'runtime-file-'));
    vi.stubEnv('TMPDIR', temp); // os.tmpdir() follows TMPDIR: the test never sees a real server's file
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    rmSync(temp, { recursive: true, force: true });
  });

  const runtime = (overrides: Partial<LocalRuntime> = {}): LocalRuntime => ({
    pid: process.pid,
    port: 4567,
    url: 'http://127.0.0.1:4567',
    dataDir: '/data',
    secretFile: '/data/local-jwt-secret',
    ...overrides,
  });

  it('lives at <tmpdir>/sealtalk-group-local/runtime-<port>.json, readable by its owner only', () => {
    const file = writeRuntime(runtime({ javaPid: 42, busEndpoint: 'http://127.0.0.1:9', busName: 'local' }));
    expect(file).toBe(join(temp, 'sealtalk-group-local', 'runtime-4567.json'));
    expect(runtimeFile(4567)).toBe(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readRuntime(4567)).toEqual(runtime({ javaPid: 42, busEndpoint: 'http://127.0.0.1:9', busName: 'local' }));
  });

  it('finds nothing on another port', () => {
    writeRuntime(runtime());
    expect(readRuntime(4568)).toBeNull();
  });

  it('ignores and removes a stale file (its server is dead) and a garbled one', () => {
    const file = writeRuntime(runtime({ pid: deadPid() }));
    expect(readRuntime(4567)).toBeNull();
    expect(() => statSync(file)).toThrow();
    writeFileSync(file, '{"pid":');
    expect(readRuntime(4567)).toBeNull();
    expect(() => statSync(file)).toThrow();
  });

  it('is removed only by the server that wrote it', () => {
    const file = writeRuntime(runtime());
    removeRuntime(4567, process.pid + 1);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid });
    removeRuntime(4567, process.pid);
    expect(() => statSync(file)).toThrow();
    expect(() => removeRuntime(4567)).not.toThrow();
  });

  it('tells live processes from dead ones, and who started them', () => {
    expect(isAlive(process.pid)).toBe(true);
    expect(isAlive(deadPid())).toBe(false);
    expect(processInfo(process.pid)?.ppid).toBe(process.ppid);
    expect(processInfo(deadPid())).toBeUndefined();
  });
});

describe('PORT and DATA_DIR', () => {
  it('default to 3000 and .data (made absolute)', () => {
    expect(localLocation({})).toEqual({ port: 3000, dataDir: resolve('.data') });
    expect(localLocation({ PORT: '0', DATA_DIR: '/tmp/d' })).toEqual({ port: 0, dataDir: '/tmp/d' });
  });

  it('throw one line naming a bad value', () => {
    expect(() => localLocation({ PORT: '99999' })).toThrow(/^invalid configuration: PORT: expected a port number/);
    expect(() => localLocation({ DATA_DIR: '' })).toThrow('invalid configuration: DATA_DIR: expected a directory, got an empty value');
  });
});
