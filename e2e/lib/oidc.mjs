// The test OpenID Connect provider (testsupport/oidc/provider.mjs, npm oidc-provider) as a
// child process, playing FranceConnect or ProConnect for a Relais started by lib/server.mjs.
//
//   const fc = await startProvider({ redirectUri, profile: 'franceconnect' });
//   fc.issuer … await fc.stop();

import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const PROVIDER = resolve(dirname(fileURLToPath(import.meta.url)), '../../testsupport/oidc/provider.mjs');

export const CLIENT_ID = 'relais-e2e';
export const CLIENT_SECRET = 'un-secret-de-test-e2e';

export async function startProvider({ redirectUri, profile = 'proconnect' }) {
  const child = spawn(process.execPath, [
    PROVIDER, '--port', '0', '--client-id', CLIENT_ID, '--client-secret', CLIENT_SECRET,
    '--redirect-uri', redirectUri, '--profile', profile,
  ], { stdio: ['ignore', 'pipe', 'ignore'] });
  const line = await new Promise((resolveLine, reject) => {
    const timer = setTimeout(() => reject(new Error('the test OpenID Connect provider did not start within 30 s')), 30000);
    createInterface({ input: child.stdout }).once('line', (l) => { clearTimeout(timer); resolveLine(l); });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the test OpenID Connect provider exited (${code}): is 'npm ci' done in testsupport/oidc?`)); });
  });
  const { issuer } = JSON.parse(line);
  return {
    issuer,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    },
  };
}
