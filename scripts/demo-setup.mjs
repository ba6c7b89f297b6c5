// The guide's setup for `npm start` (scripts/start.mjs), made with the root token. Every step
// finds what an earlier start made and leaves it: `airlock apply` plans against the server,
// the log group is made once, the preferences are set only while logging is still off.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AirlockApiError, AirlockClient } from '@airlock/client';
import { listOutbox } from '@airlock/server/mail/outbox';

/** The guide's names (its "Enable Session Manager logging" section). */
export const LOG_GROUP = 'SessionManagerLogGroup';
export const BUCKET = 'session-manager-log-bucket123';
const PREFERENCES = 'SSM-SessionManagerRunShell';
/** The guide's file with its on-premises permission sets (agents registered by activation are mi-…), then the demo's administrator. */
const SETUP_FILES = ['examples/guide-walkthrough-on-premises.yaml', 'examples/demo-admin.yaml'];

export function rootClient(endpoint, dataDir) {
  return new AirlockClient({ endpointUrl: endpoint, token: readFileSync(join(dataDir, 'root-token'), 'utf8').trim() });
}

/** `airlock apply` of the guide's file and the administrator's: the CLI itself, so nothing of apply is repeated here. */
export function applyGuide({ root, endpoint, dataDir }) {
  for (const file of SETUP_FILES) {
    const applied = spawnSync(process.execPath, ['packages/cli/bin/airlock.js', 'apply', '-f', file, '--endpoint-url', endpoint, '--token-file', join(dataDir, 'root-token')], { cwd: root, encoding: 'utf8' });
    for (const line of `${applied.stdout}${applied.stderr}`.trimEnd().split('\n')) console.log(`[apply] ${line}`);
    if (applied.status !== 0) throw new Error(`airlock apply -f ${file} failed (exit ${applied.status ?? applied.signal})`);
  }
}

/** The guide's recording: its log group, and the preferences naming it and the bucket (the embedded object store). */
export async function enableLogging(client) {
  try {
    await client.callByName('logs', 'CreateLogGroup', { logGroupName: LOG_GROUP });
    console.log(`[setup] created log group ${LOG_GROUP}`);
  } catch (error) {
    if (!(error instanceof AirlockApiError && error.code === 'ResourceAlreadyExistsException')) throw error;
  }
  const current = JSON.parse((await client.callByName('ssm', 'GetDocument', { Name: PREFERENCES })).Content);
  const inputs = current.inputs ?? {};
  // Once logging is on, the preferences are the administrator's: a restart does not undo their edits.
  if ((inputs.cloudWatchLogGroupName ?? '') !== '' || (inputs.s3BucketName ?? '') !== '') return;
  const content = {
    ...current,
    inputs: {
      ...inputs,
      cloudWatchLogGroupName: LOG_GROUP,
      cloudWatchEncryptionEnabled: false,
      cloudWatchStreamingEnabled: true,
      s3BucketName: BUCKET,
      s3KeyPrefix: 'sessions',
      // The embedded object store encrypts nothing, and a session asking for encryption is refused (docs/objects.md).
      s3EncryptionEnabled: false,
    },
  };
  await client.callByName('ssm', 'UpdateDocument', { Name: PREFERENCES, Content: JSON.stringify(content), DocumentVersion: '$LATEST' });
  console.log(`[setup] Session Manager preferences: sessions logged to ${LOG_GROUP} and s3://${BUCKET}/sessions/`);
}

/** Waits (at most 30 s) until every named instance pings Online, so that the instructions printed next hold. */
export async function waitForAgentsOnline(client, names) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { InstanceInformationList } = await client.callByName('ssm', 'DescribeInstanceInformation', { MaxResults: 50 });
    const online = new Set(InstanceInformationList.filter((instance) => instance.PingStatus === 'Online').map((instance) => instance.Name));
    if (names.every((name) => online.has(name))) return;
    if (Date.now() > deadline) throw new Error(`agents not online after 30 s: ${names.filter((name) => !online.has(name)).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Each user's latest invitation or password-reset link in the outbox (mail goes there without SMTP). */
export async function invitationLinks(dataDir, userNames) {
  const links = new Map();
  for (const entry of await listOutbox(join(dataDir, 'outbox'))) {
    const user = userNames.find((name) => entry.to.includes(`${name}@`));
    if (user !== undefined && /\/portal\/(accept-invitation|reset-password)\?/.test(entry.firstLink ?? '')) links.set(user, entry.firstLink);
  }
  return links;
}
