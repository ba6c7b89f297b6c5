/**
 * The CLI's session socket on the loopback sends with a zero WebSocket mask (data.maskingNeeded):
 * read from the wire by a bare TCP server that answers the upgrade itself, so what ws put in the
 * frame header is seen as sent.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { wsDialer } from '@airlock/cli/session/ws-socket';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

test('on the loopback the CLI masks with zeros: the payload goes as it is', async (t) => {
  const firstFrame = new Promise<Buffer>((resolve, reject) => {
    const server = createServer((socket: Socket) => {
      let buffered = Buffer.alloc(0);
      let upgraded = false;
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (!upgraded) {
          const end = buffered.indexOf('\r\n\r\n');
          if (end < 0) return;
          const key = /sec-websocket-key: (\S+)/i.exec(buffered.subarray(0, end).toString('latin1'))?.[1] ?? '';
          const accept = createHash('sha1').update(key + GUID).digest('base64');
          socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
          upgraded = true;
          buffered = buffered.subarray(end + 4);
        }
        // A short binary frame: 2 header bytes, a 4-byte mask key, 5 payload bytes.
        if (buffered.length >= 11) resolve(buffered.subarray(0, 11));
      });
      socket.on('error', reject);
    });
    t.after(() => server.close());
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('no port'));
        return;
      }
      const socket = wsDialer(60_000)(
        `ws://127.0.0.1:${address.port}/session/stream/s-1`,
        {
          onOpen: () => {
            socket.send(Uint8Array.from([1, 2, 3, 4, 5]));
          },
          onMessage: () => undefined,
          onClose: () => undefined,
          onError: (message) => reject(new Error(message)),
        },
        { handshakeTimeoutMs: 5_000 },
      );
      t.after(() => socket.terminate());
    });
  });
  const frame = await firstFrame;
  assert.equal(frame[0], 0x82, 'a final binary frame');
  assert.equal(frame[1], 0x80 | 5, 'masked (as a client must say), 5 bytes');
  assert.deepEqual([...frame.subarray(2, 6)], [0, 0, 0, 0], 'the mask key is zero');
  assert.deepEqual([...frame.subarray(6, 11)], [1, 2, 3, 4, 5], 'the payload is on the wire as sent');
});
