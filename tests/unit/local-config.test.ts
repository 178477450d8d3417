import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkLocalConfig } from '#infra/local/local-config.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const LOG_LEVEL_PROBLEM = 'LOG_LEVEL: Invalid option: expected one of "debug"|"info"|"warn"|"error"|"silent"';
const PORT_PROBLEM = 'PORT: expected a port number 0-65535 (0: any free port)';

describe('checkLocalConfig', () => {
  it('accepts an empty environment (every variable has a default, TABLE_NAME the local table)', async () => {
    expect(await checkLocalConfig({})).toBeNull();
    expect(await checkLocalConfig({ PORT: '0', DATA_DIR: '/tmp/x', LOG_LEVEL: 'debug', MAX_GROUP_MEMBERS: '3000' })).toBeNull();
  });

  it('names a bad Lambda variable in one line', async () => {
    expect(await checkLocalConfig({ LOG_LEVEL: 'bogus' })).toBe(`invalid configuration: ${LOG_LEVEL_PROBLEM}`);
    expect(await checkLocalConfig({ MAX_GROUP_MEMBERS: 'many' })).toMatch(/^invalid configuration: MAX_GROUP_MEMBERS: /);
  });

  it('names a bad PORT or an empty DATA_DIR', async () => {
    for (const PORT of ['abc', '70000', '-1', '', '3000.5']) {
      expect(await checkLocalConfig({ PORT }), PORT).toBe(`invalid configuration: ${PORT_PROBLEM}`);
    }
    for (const DATA_DIR of ['', '  ']) {
      expect(await checkLocalConfig({ DATA_DIR })).toBe('invalid configuration: DATA_DIR: expected a directory, got an empty value');
    }
  });

  it('names every bad variable at once, on one line', async () => {
    const problem = await checkLocalConfig({ LOG_LEVEL: 'bogus', PORT: 'x', DATA_DIR: '' });
    expect(problem).toBe(`invalid configuration: ${LOG_LEVEL_PROBLEM}; ${PORT_PROBLEM}; DATA_DIR: expected a directory, got an empty value`);
    expect(problem).not.toContain('\n');
  });
});

describe('npm start with a bad configuration', () => {
  it('stops with exit code 1 and one line naming the variable, before Java starts', () => {
    const parent = mkdtempSync(join(tmpdir(), 'local-config-'));
    const dataDir = join(parent, 'data');
    const started = Date.now();
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'infra/local/start.ts'], {
      cwd: repoRoot,
      env: { ...process.env, LOG_LEVEL: 'bogus', PORT: '0', DATA_DIR: dataDir },
      encoding: 'utf8',
      timeout: 20_000,
    });
    rmSync(parent, { recursive: true, force: true });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`invalid configuration: ${LOG_LEVEL_PROBLEM}\n`);
    expect(run.stdout).toBe('');
    expect(existsSync(dataDir)).toBe(false);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
