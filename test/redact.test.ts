/**
 * The one redaction rule: credentials go, the words around them stay, and a value that may be a
 * secret is described in messages rather than quoted. Checked on strings and on a real 401 from
 * the JupiterOne simulator over HTTP.
 */
import assert from 'node:assert/strict';
import { JupiterOneAuthenticationError, JupiterOneSyncClient } from '../src/jupiterone';
import { startJupiterOneSimulator } from '../src/simulators/jupiterone';
import { isLoopbackHost } from '../src/util/loopback';
import { describeValue, looksLikeSecret, redactSecrets } from '../src/util/redact';
import { stopAtEnd } from './harness/root-hooks';

const SENTINEL = 'Zq7sentinelSECRET0x9KpLmN4vB8';

describe('redaction', () => {
  it('keeps the words around what it removes', () => {
    assert.equal(redactSecrets('Missing or invalid bearer token.'), 'Missing or invalid bearer token.');
    assert.equal(redactSecrets('Bearer authentication is required.'), 'Bearer authentication is required.');
    assert.equal(redactSecrets(`invalid bearer token ${SENTINEL}.`, [SENTINEL]), 'invalid bearer token [REDACTED].');
    assert.equal(redactSecrets('sent Bearer 0123abcd-ef45.ghij; then gave up'), 'sent Bearer [REDACTED]; then gave up');
    assert.equal(
      redactSecrets('{"authorization":"Bearer other-token-99","ok":true}'),
      '{"authorization":"Bearer [REDACTED]","ok":true}',
    );
    assert.equal(
      redactSecrets('Authorization: Basic RElYWFhYOmFiYw== sig=ok'),
      'Authorization: Basic [REDACTED] sig=ok',
    );
  });

  it('removes listed secrets of eight characters or more, and nothing shorter', () => {
    assert.equal(redactSecrets('key abcdefgh here', ['abcdefgh']), 'key [REDACTED] here');
    assert.equal(redactSecrets('the word token stays', ['token']), 'the word token stays');
  });

  it('describes a value that may be a secret instead of quoting it', () => {
    assert.equal(describeValue('example.com'), '"example.com"');
    assert.ok(looksLikeSecret(SENTINEL));
    assert.ok(!describeValue(SENTINEL).includes(SENTINEL));
    assert.match(describeValue(SENTINEL), /29-character value that looks like a key or secret, not shown/);
    assert.match(describeValue('x'.repeat(100_000)), /100,000-character value, not shown/);
    assert.ok(!describeValue('shortpw1', ['shortpw1']).includes('shortpw1'), 'a known secret is never shown');
  });

  it('knows this machine in every spelling, and nothing else', () => {
    for (const host of ['localhost', '127.0.0.1', '127.8.9.10', '::1', '[::1]', '::ffff:127.0.0.1', '[::ffff:7f00:1]'])
      assert.ok(isLoopbackHost(host), host);
    for (const host of ['10.0.0.1', 'localhost.example.com', '::ffff:10.0.0.1', '128.0.0.1', '[::2]'])
      assert.ok(!isLoopbackHost(host), host);
    assert.ok(isLoopbackHost(new URL('http://[::ffff:127.0.0.1]:80').hostname));
  });

  it('a wrong JupiterOne key fails with JupiterOne’s own words, and without the key', async () => {
    const simulator = await startJupiterOneSimulator();
    stopAtEnd(() => simulator.close());
    const client = new JupiterOneSyncClient({
      baseUrl: simulator.url,
      apiKey: SENTINEL,
      account: simulator.account,
      retry: { maxAttempts: 1 },
    });
    await assert.rejects(
      () => client.startJob({ source: 'api', scope: 'redaction' }),
      (error: unknown) => {
        assert.ok(error instanceof JupiterOneAuthenticationError, String(error));
        assert.match(error.message, /Missing or invalid bearer token\./);
        assert.ok(!error.message.includes(SENTINEL));
        return true;
      },
    );
  });
});
