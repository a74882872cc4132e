// Starts a real `relais serve` on a free loopback port with a fresh data directory,
// waits until it is ready, and stops it.
//
//   RELAIS_BIN                path of the binary (default: ../target/debug/relais, from e2e/)
//   RELAIS_READY_TIMEOUT_MS   how long to wait for GET /readyz to answer 200 (default 30000)
//
// startServer({ seed, logName }): `seed(relais)` runs before the server starts, with
// `relais(args, env)` running the same binary on the same --dossier-donnees (e.g. `relais admin …`);
// the server's output goes to artifacts/<logName> (default server.log). With
// `selfPublicUrl: true`, the server is started with `--url-publique` set to its own address
// (the links in its e-mails then lead to it). The returned `dataDir` is removed by stop().
//
// createAccount(relais, person) and createStructure(relais, structure), for `seed`, give the
// `relais admin …` commands the fixtures of the tests ({ email, givenName, familyName,
// password, admin } and { siret, nom, kind, adresse, commune }).

import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const E2E_DIR = resolve(here, '..');

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function relaisBin() {
  const bin = resolve(E2E_DIR, process.env.RELAIS_BIN || '../target/debug/relais');
  if (!existsSync(bin)) {
    throw new Error(`relais binary not found at ${bin}: build it with 'cargo build -p relais-cli' or set RELAIS_BIN`);
  }
  return bin;
}

// Runs `relais --dossier-donnees <dataDir> <args…>` to completion; rejects with its output if it fails.
export function runRelais(dataDir, args, env = {}) {
  const bin = relaisBin();
  return new Promise((ok, fail) => {
    execFile(bin, ['--dossier-donnees', dataDir, ...args], {
      cwd: dataDir,
      env: { ...process.env, NO_COLOR: '1', ...env },
      timeout: 120000,
    }, (err, stdout, stderr) => {
      if (err) fail(new Error(`relais ${args.join(' ')} failed (${err.code ?? err.signal}):\n${stdout}${stderr}`));
      else ok({ stdout, stderr });
    });
  });
}

// `env(baseUrl)`, when given, returns more environment for `relais serve`, once its address
// is known (a test OpenID Connect provider needs it for its redirect URI).
export async function startServer({ seed, logName = 'server.log', selfPublicUrl = false, env = null } = {}) {
  const bin = relaisBin();
  const dataDir = mkdtempSync(join(tmpdir(), 'relais-e2e-'));
  if (seed) {
    try {
      await seed((args, env) => runRelais(dataDir, args, env));
    } catch (e) {
      rmSync(dataDir, { recursive: true, force: true });
      throw e;
    }
  }
  const port = await freePort();
  const ecoute = `127.0.0.1:${port}`;
  const baseUrl = `http://${ecoute}`;

  let log = '';
  const serveArgs = ['serve', '--ecoute', ecoute, '--dossier-donnees', dataDir];
  if (selfPublicUrl) serveArgs.push('--url-publique', baseUrl);
  const child = spawn(bin, serveArgs, {
    cwd: dataDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', ...(env ? await env(baseUrl) : {}) },
  });
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  let exited = null;
  const exitPromise = new Promise((r) => child.on('exit', (code, signal) => { exited = { code, signal }; r(exited); }));

  const timeoutMs = Number(process.env.RELAIS_READY_TIMEOUT_MS || 30000);
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer yet';
  for (;;) {
    if (exited) {
      rmSync(dataDir, { recursive: true, force: true });
      throw new Error(`relais serve exited early (${JSON.stringify(exited)}); its output:\n${log}`);
    }
    try {
      const res = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) break;
      lastError = `GET /readyz answered ${res.status}`;
    } catch (e) {
      lastError = String(e.cause?.code || e.message);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
      throw new Error(`relais serve not ready after ${timeoutMs} ms (${lastError}); its output:\n${log}`);
    }
    await sleep(200);
  }

  return {
    baseUrl,
    dataDir,
    url: (path) => new URL(path, baseUrl).href,
    log: () => log,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const done = await Promise.race([exitPromise, sleep(5000).then(() => null)]);
        if (!done) {
          child.kill('SIGKILL');
          await exitPromise;
        }
      }
      rmSync(dataDir, { recursive: true, force: true });
      const artifacts = join(E2E_DIR, 'artifacts');
      mkdirSync(artifacts, { recursive: true });
      writeFileSync(join(artifacts, logName), log);
    },
  };
}

// An account, with its password passed as `relais admin creer-compte` reads it.
export function createAccount(relais, p) {
  return relais([
    'admin', 'creer-compte',
    '--courriel', p.email, '--prenom', p.givenName, '--nom', p.familyName,
    ...(p.admin ? ['--admin'] : []),
  ], { RELAIS_NOUVEAU_MOT_DE_PASSE: p.password });
}

export function createStructure(relais, s) {
  return relais([
    'admin', 'creer-structure',
    '--siret', s.siret, '--nom', s.nom, '--type', s.kind,
    '--adresse', s.adresse, '--commune', s.commune,
  ]);
}
