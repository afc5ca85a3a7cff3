import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { Connection } from '@temporalio/client';
import { freePort, startDevServer } from '../src/worker/dev-server';
import { stopAtEnd } from './harness/root-hooks';

/**
 * A listener holding a loopback port, as another process would. It hangs up on whoever connects
 * (the start-up's probe, when the server was told to use this port).
 */
async function holdPort(): Promise<{ port: number; server: Server }> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  stopAtEnd(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return { port: address.port, server };
}

describe('embedded Temporal dev server start-up', () => {
  it('starts on newly picked ports when a port it picked was taken before the server bound it', async () => {
    const { port: taken } = await holdPort();
    // The race, made certain: the first port picked (the HTTP API's, the gRPC port being named) is
    // taken by the time the server binds it.
    const picked: number[] = [];
    const pickPort = async () => {
      const port = picked.length === 0 ? taken : await freePort();
      picked.push(port);
      return port;
    };
    const port = await freePort();
    const server = await startDevServer({ port, pickPort });
    stopAtEnd(() => server.stop());
    assert.equal(server.address, `127.0.0.1:${port}`);
    // Two ports a start-up (HTTP API, metrics), and a second start-up after the first exited.
    assert.equal(picked.length, 4, `ports picked: ${picked.join(', ')}`);
    assert.equal(picked[0], taken);
    assert.ok(!picked.slice(1).includes(taken));
    const connection = await Connection.connect({ address: server.address });
    try {
      const answer = await connection.workflowService.describeNamespace({ namespace: server.namespace });
      assert.equal(answer.namespaceInfo?.name, server.namespace);
    } finally {
      await connection.close();
    }
  });

  it('fails at once, naming the port, when the port it was told to use is taken', async () => {
    const { port: taken } = await holdPort();
    const picked: number[] = [];
    const pickPort = async () => {
      const port = await freePort();
      picked.push(port);
      return port;
    };
    await assert.rejects(startDevServer({ port: taken, pickPort }), (error: Error) => {
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${taken}: bind: address already in use`));
      return true;
    });
    // One start-up only: the caller's port is never swapped for another.
    assert.equal(picked.length, 2, `ports picked: ${picked.join(', ')}`);
  });
});
