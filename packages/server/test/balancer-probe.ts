/**
 * Run by balancers.test.ts as a child process, so that NODE_EXTRA_CA_CERTS (read at start only)
 * makes it trust the test CA of the balancer's and the nodes' certificates: API calls through the
 * balancer, a simulated agent registering and holding its control channel (a WebSocket) through
 * it, then a session started through the balancer whose data channels go to the node carrying
 * it (its advertised URL), with output from the agent reaching the client.
 * Prints one JSON line of what it saw. Arguments: the balancer's URL, the root token.
 */
import { AirlockClient } from '@airlock/client';
import { data, fleet, identitystore, sessions } from '@airlock/protocol';
import { DataPeer, SimulatedAgent } from '@airlock/testkit';

const [url = '', token = ''] = process.argv.slice(2);
const client = (bearer?: string): AirlockClient => new AirlockClient({ endpointUrl: url, ...(bearer === undefined ? {} : { token: bearer }) });
const root = client(token);

let apiCalls = 0;
for (let i = 0; i < 6; i++) {
  await root.call(identitystore.ListUsers, {});
  apiCalls++;
}
const agent = await SimulatedAgent.register({ root, client });
await agent.connect({ url });
// Bounded: the node holding the channel marks the instance Online within a flush interval.
let ping = '';
for (let tries = 0; tries < 75 && ping !== 'Online'; tries++) {
  if (tries > 0) await new Promise((resolve) => setTimeout(resolve, 200));
  const { InstanceInformationList } = await root.call(fleet.DescribeInstanceInformation, { Filters: [{ Key: 'InstanceIds', Values: [agent.instanceId] }] });
  ping = InstanceInformationList[0]?.PingStatus ?? '';
}

const started = await root.call(sessions.StartSession, { Target: agent.instanceId });
const viewer = new DataPeer();
await viewer.connect(started.StreamUrl, { role: 'client', token: started.TokenValue });
const opened = await agent.sessionOpen(started.SessionId);
const host = new DataPeer();
const agentUrl = opened.endpointUrl ?? url;
await host.connect(`${agentUrl.replace(/^http/, 'ws')}${data.DATA_PATH_AGENT}`, { role: 'agent', sessionId: started.SessionId, instanceId: agent.instanceId, nonce: opened.nonce, privateKey: agent.privateKey });
host.sendText('output through the cluster\r\n');
await viewer.waitFor(() => viewer.text().includes('output through the cluster'), 'the output at the client', 15_000);
await root.call(sessions.TerminateSession, { SessionId: started.SessionId });
viewer.close();
host.close();
agent.disconnect();
console.log(JSON.stringify({ apiCalls, instanceId: agent.instanceId, ping, streamUrl: started.StreamUrl, agentUrl, output: viewer.text() }));
