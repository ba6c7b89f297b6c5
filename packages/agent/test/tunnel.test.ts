import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AGENT_VERSION,
  collectInventory,
  ControlChannel,
  loadPrivateKey,
  loadState,
  register,
  type ChannelEvent,
  type ControlChannelOptions,
} from '@airlock/agent';
import { control } from '@airlock/protocol';
import { FakeAirlock, type FakeServerOptions } from './fake-server.js';
import { capturedLogger, sleep, temporaryDirectory, waitFor, type CapturedLogger } from './helpers.js';

interface Harness {
  readonly fake: FakeAirlock;
  readonly instanceId: string;
  readonly channel: ControlChannel;
  readonly events: ChannelEvent[];
  readonly log: CapturedLogger;
  readonly run: Promise<string>;
  count(type: ChannelEvent['type']): number;
  close(): Promise<void>;
}

/** A fake server, an agent registered with it, and its control channel running. */
async function harness(server: FakeServerOptions = {}, channel: Partial<ControlChannelOptions> = {}): Promise<Harness> {
  const fake = await FakeAirlock.start(server);
  const dir = await temporaryDirectory();
  const { registration } = await register({ endpointUrl: fake.url, activationId: fake.activationId, activationCode: fake.activationCode, stateDir: dir.path });
  const state = await loadState(dir.path);
  const events: ChannelEvent[] = [];
  const log = capturedLogger();
  const agent = new ControlChannel({
    endpointUrl: registration.endpointUrl,
    instanceId: registration.instanceId,
    privateKey: loadPrivateKey(state.privateKeyPem),
    agentVersion: AGENT_VERSION,
    inventory: () => collectInventory({ agentVersion: AGENT_VERSION }),
    log,
    random: () => 0,
    backoffBaseMs: 20,
    backoffCapMs: 200,
    handshakeTimeoutMs: 3_000,
    minHeartbeatIntervalMs: 10,
    onEvent: (event) => events.push(event),
    ...channel,
  });
  const run = agent.run();
  return {
    fake,
    instanceId: registration.instanceId,
    channel: agent,
    events,
    log,
    run,
    count: (type) => events.filter((event) => event.type === type).length,
    close: async () => {
      agent.stop();
      await Promise.race([run, sleep(5_000)]);
      await fake.stop();
      await dir.remove();
    },
  };
}

test('handshake: the hello carries a valid signature over the nonce, version 1, capabilities and the inventory', async () => {
  const h = await harness();
  try {
    await waitFor(() => h.count('welcome') === 1, 'welcome');
    assert.equal(h.fake.hellos.length, 1);
    const hello = h.fake.hellos[0];
    assert.ok(hello !== undefined);
    assert.equal(hello.signatureValid, true, 'the fake server verified the Ed25519 signature with node:crypto');
    assert.equal(hello.message.instanceId, h.instanceId);
    assert.equal(hello.message.protocolVersion, control.CONTROL_PROTOCOL_VERSION);
    assert.equal(hello.message.agentVersion, AGENT_VERSION);
    assert.deepEqual(hello.message.capabilities, ['shell', 'port']);
    assert.equal(hello.message.inventory.agentVersion, AGENT_VERSION);
    assert.ok(h.channel.connected);
    assert.equal(h.fake.online, 1);
    assert.match(h.log.text(), /Connected to http:\/\/127\.0\.0\.1:\d+ as mi-/);

    h.channel.stop();
    assert.equal(await h.run, 'stopped');
    await waitFor(() => h.fake.closes.length === 1, 'the close at the server');
    assert.equal(h.fake.closes[0]?.code, 1000, 'a clean close');
  } finally {
    await h.close();
  }
});

test("heartbeats at the welcome's interval, acknowledged, with the inventory now and then", async () => {
  const h = await harness({ heartbeatIntervalMs: 100 }, { inventoryIntervalMs: 250 });
  try {
    await waitFor(() => h.fake.heartbeats.length >= 6, 'six heartbeats');
    const times = h.fake.heartbeats.map((beat) => beat.at);
    const gaps = times.slice(1).map((at, i) => at - (times[i] ?? 0));
    for (const gap of gaps) assert.ok(gap >= 80 && gap < 1_000, `a heartbeat gap of ${gap} ms for an interval of 100 ms`);
    const first = times[0] ?? 0;
    const welcomedAt = h.fake.hellos[0]?.at ?? 0;
    assert.ok(first - welcomedAt >= 80, 'the first heartbeat comes an interval after the welcome');
    const withInventory = h.fake.heartbeats.filter((beat) => beat.inventory !== undefined);
    assert.ok(withInventory.length >= 1 && withInventory.length < h.fake.heartbeats.length, 'some heartbeats carry the inventory, not all');
    assert.equal(h.count('retry'), 0, 'acknowledged heartbeats keep the connection');
  } finally {
    await h.close();
  }
});

test('the agent reconnects after the server drops the connection, with a jittered delay within the base', async () => {
  const h = await harness({}, { random: () => 0.5 });
  try {
    await waitFor(() => h.count('welcome') === 1, 'welcome');
    h.fake.dropAll();
    await waitFor(() => h.count('welcome') === 2, 'a second welcome');
    assert.equal(h.fake.hellos.length, 2);
    assert.ok(h.fake.hellos.every((hello) => hello.signatureValid));
    const retry = h.events.find((event) => event.type === 'retry');
    assert.deepEqual(retry, { type: 'retry', delayMs: 10, attempt: 1 }, 'half of min(cap, base·2^0) = 10 ms');
    assert.match(h.log.text(), /Lost the control channel/);

    // Again: the welcome reset the backoff, so the next delay is drawn from [0, base] again.
    h.fake.dropAll();
    await waitFor(() => h.count('welcome') === 3, 'a third welcome');
    const retries = h.events.filter((event) => event.type === 'retry');
    assert.deepEqual(retries[1], { type: 'retry', delayMs: 10, attempt: 1 });
  } finally {
    await h.close();
  }
});

test('a deregistered message stops the agent for good', async () => {
  const h = await harness();
  try {
    await waitFor(() => h.count('welcome') === 1, 'welcome');
    h.fake.deregister(h.instanceId);
    assert.equal(await h.run, 'deregistered');
    await sleep(150);
    assert.equal(h.fake.connectionCount, 1, 'no reconnect after deregistration');
    assert.equal(h.count('retry'), 0);
    assert.match(h.log.text(), /was deregistered/);
  } finally {
    await h.close();
  }
});

test('close 4403 alone (at the handshake) also stops the agent for good', async () => {
  const h = await harness({}, {});
  try {
    await waitFor(() => h.count('welcome') === 1, 'welcome');
    // The server deregisters the instance while it is away; on its return it gets 4403.
    h.fake.deregistered.add(h.instanceId);
    h.fake.dropAll();
    assert.equal(await h.run, 'deregistered');
    assert.equal(h.fake.connectionCount, 2);
    await sleep(100);
    assert.equal(h.fake.connectionCount, 2);
  } finally {
    await h.close();
  }
});

test('4401 (key refused): the agent keeps retrying with growing backoff and says the key was refused', async () => {
  const h = await harness({}, { random: () => 0.999_999, backoffBaseMs: 10, backoffCapMs: 40 });
  try {
    await waitFor(() => h.count('welcome') === 1, 'welcome');
    h.fake.revoked.add(h.instanceId);
    h.fake.dropAll();
    await waitFor(() => h.fake.hellos.length >= 6, 'five refused hellos');
    const delays = h.events.flatMap((event) => (event.type === 'retry' ? [event.delayMs] : []));
    assert.deepEqual(delays.slice(0, 5), [10, 20, 40, 40, 40], 'the delay doubles up to the cap');
    const closes = h.events.flatMap((event) => (event.type === 'closed' ? [event.code] : []));
    assert.deepEqual(closes.slice(1, 5), [4401, 4401, 4401, 4401]);
    assert.match(h.log.text(), /ERROR .*refused this agent's key \(close 4401/);

    // Once the key is accepted again, the welcome resets the backoff.
    h.fake.revoked.delete(h.instanceId);
    await waitFor(() => h.count('welcome') === 2, 'a welcome after the refusals');
    h.fake.dropAll();
    await waitFor(() => h.count('welcome') === 3, 'a third welcome');
    const last = h.events.filter((event) => event.type === 'retry').at(-1);
    assert.deepEqual(last, { type: 'retry', delayMs: 10, attempt: 1 });
  } finally {
    await h.close();
  }
});

test('a malformed frame from the server closes that connection (4400) and the agent comes back', async () => {
  const h = await harness();
  try {
    h.fake.replyToHello = '{"type":"welcome","heartbeatIntervalMs":"soon"}';
    await waitFor(() => h.fake.closes.some((close) => close.code === 4400), 'a 4400 close from the agent');
    assert.match(h.log.text(), /not a control message; closing this connection \(4400\)/);
    h.fake.replyToHello = undefined;
    await waitFor(() => h.count('welcome') === 1, 'a welcome on a later connection');
    assert.ok(h.fake.connectionCount >= 2);
  } finally {
    await h.close();
  }
});

test('a server that stops answering heartbeats is dropped and dialled again', async () => {
  const h = await harness({ heartbeatIntervalMs: 30 });
  try {
    await waitFor(() => h.count('welcome') === 1, 'welcome');
    h.fake.ackHeartbeats = false;
    await waitFor(() => h.count('welcome') === 2, 'a reconnect after silence', 5_000);
    assert.match(h.log.text(), /No word from .* dropping the connection/);
  } finally {
    await h.close();
  }
});

test('stop() while the server is unreachable ends at once', async () => {
  const h = await harness({}, { random: () => 0.999_999, backoffBaseMs: 60_000, backoffCapMs: 60_000 });
  try {
    await waitFor(() => h.count('welcome') === 1, 'welcome');
    h.fake.dropAll();
    await waitFor(() => h.count('retry') === 1, 'a long retry wait');
    const started = Date.now();
    h.channel.stop();
    assert.equal(await h.run, 'stopped');
    assert.ok(Date.now() - started < 1_000);
  } finally {
    await h.close();
  }
});

test('session-open and session-close go to the session handler; session-failed goes back, after the welcome if the channel was down', async () => {
  const opened: string[] = [];
  const closed: string[] = [];
  const seen: ChannelEvent['type'][] = [];
  let reportWhileDown = false;
  const h = await harness(
    {},
    {
      onEvent: (event) => {
        seen.push(event.type);
        // Reported while the channel is down: it goes after the next welcome.
        if (event.type === 'closed' && reportWhileDown) {
          reportWhileDown = false;
          h.channel.report({ type: 'session-failed', sessionId: 'alice-0123456789abcdef1', reason: 'later' });
        }
      },
      sessions: {
        open: (message) => {
          opened.push(`${message.sessionId} ${message.work.kind}`);
          h.channel.report({ type: 'session-failed', sessionId: message.sessionId, reason: 'Run As user "x" does not exist on this instance' });
        },
        close: (sessionId, reason) => closed.push(`${sessionId} ${reason}`),
      },
    },
  );
  try {
    await waitFor(() => seen.includes('welcome'), 'welcome');
    const work: control.SessionWork = { kind: 'shell', runAs: { user: 'x', named: true }, profile: '' };
    assert.ok(h.fake.send(h.instanceId, { type: 'session-open', sessionId: 'alice-0123456789abcdef0', nonce: 'n0', work }));
    await waitFor(() => h.fake.sessionFailures.length === 1, 'session-failed');
    assert.deepEqual(h.fake.sessionFailures[0], { instanceId: h.instanceId, sessionId: 'alice-0123456789abcdef0', reason: 'Run As user "x" does not exist on this instance' });
    assert.deepEqual(opened, ['alice-0123456789abcdef0 shell']);
    h.fake.send(h.instanceId, { type: 'session-close', sessionId: 'alice-0123456789abcdef0', reason: 'terminated' });
    await waitFor(() => closed.length === 1, 'session-close');
    assert.deepEqual(closed, ['alice-0123456789abcdef0 terminated']);

    reportWhileDown = true;
    h.fake.dropAll();
    await waitFor(() => h.fake.sessionFailures.length === 2, 'the report after the reconnect');
    assert.equal(h.fake.sessionFailures[1]?.reason, 'later');
  } finally {
    await h.close();
  }
});

test('an agent without a session handler refuses sessions with session-failed', async () => {
  const h = await harness();
  try {
    await waitFor(() => h.count('welcome') === 1, 'welcome');
    h.fake.send(h.instanceId, { type: 'session-open', sessionId: 'bob-0123456789abcdef0', nonce: 'n', work: { kind: 'port', host: 'localhost', port: 22 } });
    await waitFor(() => h.fake.sessionFailures.length === 1, 'session-failed');
    assert.equal(h.fake.sessionFailures[0]?.reason, 'this agent does not run sessions');
  } finally {
    await h.close();
  }
});
