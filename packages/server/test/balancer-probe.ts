/**
 * Run by balancers.test.ts as a child process, so that NODE_EXTRA_CA_CERTS (read at start only)
 * makes it trust the test CA of the balancer's certificate: API calls through the balancer, then
 * a simulated agent registering and holding its control channel (a WebSocket) through it.
 * Prints one JSON line of what it saw. Arguments: the balancer's URL, the root token.
 */
import { AirlockClient } from '@airlock/client';
import { fleet, identitystore } from '@airlock/protocol';
import { SimulatedAgent } from '@airlock/testkit';

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
agent.disconnect();
console.log(JSON.stringify({ apiCalls, instanceId: agent.instanceId, ping }));
