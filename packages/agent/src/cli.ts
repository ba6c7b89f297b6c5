/** The airlock-agent command: `register`, `run`, `--version`, `--help`. Returns the exit code. */
import { readFile } from 'node:fs/promises';
import { DEFAULT_CONFIG_FILE, DEFAULT_STATE_DIR, ENV, parseCommandLine, registerSettings, runSettings, UsageError, type CommandLine } from './config.js';
import { EndpointError, isHttps, normalizeEndpoint } from './endpoint.js';
import { collectInventory } from './inventory.js';
import { loadPrivateKey } from './keys.js';
import { messageOf, streamLogger, type LineSink, type Logger } from './log.js';
import { DEFAULT_METADATA_URL } from './metadata.js';
import { register, RegistrationError } from './registration.js';
import { deregisteredAt, loadState, markDeregistered, privateKeyMode, StateError } from './state.js';
import { parseCaBundle } from './tls.js';
import { SessionManager } from './session/session.js';
import { ControlChannel } from './tunnel.js';
import { AGENT_VERSION } from './version.js';

export interface Io {
  readonly stdout: LineSink;
  readonly stderr: LineSink;
}

export const HELP = `airlock-agent ${AGENT_VERSION}: dials out to an Airlock server and keeps one control channel open.

Usage:
  airlock-agent register --endpoint-url URL --id ACTIVATION_ID --code ACTIVATION_CODE
                         [--ca-file PEM] [--state-dir DIR] [--config FILE] [--force]
  airlock-agent register --endpoint-url URL --cloud [--metadata-url URL]
                         [--ca-file PEM] [--state-dir DIR] [--config FILE] [--force]
  airlock-agent run [--state-dir DIR] [--config FILE]
  airlock-agent --version | --help

register  Makes an Ed25519 key pair, registers it with a hybrid activation (from
          \`airlock ssm create-activation\`), and saves the instance id and the private key
          (0600) in the state directory. Once per state directory; --force replaces it.
          --ca-file pins the server's CA for an https endpoint: afterwards it is the only CA
          trusted. The code may come from ${ENV.activationCode} instead of --code.
          --cloud (on an EC2 instance, for a server with cloud join on): registers with
          the instance identity document AWS signs, read from the instance metadata
          service (IMDSv2; --metadata-url, default ${DEFAULT_METADATA_URL}), as the
          instance's own id (i-…), with its tags when the metadata service shows them.
run       Connects to the registered server (never another) and stays connected: signed
          hello, heartbeats, reconnects with backoff. Stops for good when the instance is
          deregistered. Runs the sessions the server opens (shells, commands, port
          forwarding) as ssm-user, made on first use, or the session's Run As user.
          SIGTERM or SIGINT ends the sessions, closes the connection and exits.

Options:
  --state-dir DIR   default ${DEFAULT_STATE_DIR} (or ${ENV.stateDir}); one per agent on a host
  --config FILE     JSON {"endpointUrl", "stateDir", "caFile", "ssmUserSudo"}; default ${DEFAULT_CONFIG_FILE}
                    (or ${ENV.config}). Flags win over the environment, which wins over the file.
`;

export async function main(argv: readonly string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let commandLine: CommandLine;
  try {
    commandLine = parseCommandLine(argv);
  } catch (error) {
    io.stderr.write(`airlock-agent: ${messageOf(error)}\nRun airlock-agent --help for usage.\n`);
    return 2;
  }
  const log = streamLogger(io.stdout);
  try {
    switch (commandLine.command) {
      case 'help':
        if (argv.length === 0) {
          io.stderr.write(HELP);
          return 2;
        }
        io.stdout.write(HELP);
        return 0;
      case 'version':
        io.stdout.write(`airlock-agent ${AGENT_VERSION}\n`);
        return 0;
      case 'register':
        return await registerCommand(commandLine, log);
      case 'run':
        return await runCommand(commandLine, log);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`airlock-agent: ${error.message}\nRun airlock-agent --help for usage.\n`);
      return 2;
    }
    if (error instanceof RegistrationError || error instanceof StateError || error instanceof EndpointError) {
      log.error(error.message);
      return 1;
    }
    log.error(`Failed: ${messageOf(error)}`);
    return 1;
  }
}

async function registerCommand(commandLine: CommandLine, log: Logger): Promise<number> {
  const settings = await registerSettings(commandLine.flags);
  const endpointUrl = normalizeEndpoint(settings.endpointUrl);
  let caPem: string | undefined;
  if (settings.caFile !== undefined) {
    try {
      caPem = await readFile(settings.caFile, 'utf8');
    } catch (error) {
      throw new UsageError(`Cannot read the CA file ${settings.caFile}: ${messageOf(error)}`);
    }
    const ca = parseCaBundle(caPem, settings.caFile);
    for (const fingerprint of ca.fingerprints) log.info(`Pinning the CA with SHA-256 fingerprint ${fingerprint} (compare with the server's "TLS CA fingerprint").`);
  } else if (isHttps(endpointUrl)) {
    log.warn("No --ca-file: the server's certificate is checked against this host's trusted CAs. Pin the server's own CA with --ca-file when it made one.");
  }
  const common = { endpointUrl, stateDir: settings.stateDir, caPem, ...(settings.caFile === undefined ? {} : { caSource: settings.caFile }), force: settings.force };
  let result;
  if (settings.metadataUrl !== undefined) {
    log.info(`Registering with ${endpointUrl} by cloud join: reading the instance identity from ${settings.metadataUrl} (state in ${settings.stateDir}).`);
    result = await register({
      ...common,
      cloud: {
        metadataUrl: settings.metadataUrl,
        onIdentity: (identity) => {
          const tags = identity.tags === undefined ? 'no tags (tags in instance metadata are off)' : `${identity.tags.length} tag${identity.tags.length === 1 ? '' : 's'}`;
          log.info(`This is ${identity.instanceId} (AWS account ${identity.accountId}, ${identity.region}), with ${tags}.`);
          for (const skipped of identity.skippedTags) log.warn(`Tag left out: ${skipped}.`);
        },
      },
    });
  } else if (settings.activationId !== undefined && settings.activationCode !== undefined) {
    log.info(`Registering with ${endpointUrl} using activation ${settings.activationId} (state in ${settings.stateDir}).`);
    result = await register({ ...common, activationId: settings.activationId, activationCode: settings.activationCode });
  } else {
    throw new UsageError('register needs --id and --code, or --cloud.');
  }
  if (result.replaced) log.info(`Replaced the earlier registration in ${settings.stateDir}.`);
  log.info(`Registered as ${result.registration.instanceId}. The private key stays in ${settings.stateDir}/private-key.pem (0600).`);
  log.info(`Start the agent: systemctl enable --now airlock-agent, or airlock-agent run --state-dir ${settings.stateDir}`);
  return 0;
}

async function runCommand(commandLine: CommandLine, log: Logger): Promise<number> {
  const settings = await runSettings(commandLine.flags);
  const gone = await deregisteredAt(settings.stateDir);
  if (gone !== undefined) {
    log.info(`This instance was deregistered (${gone}); not connecting. Register again with airlock-agent register --force.`);
    return 0;
  }
  const state = await loadState(settings.stateDir);
  const { registration } = state;
  const endpointUrl = normalizeEndpoint(registration.endpointUrl);
  if (settings.endpointUrl !== undefined && safeNormalize(settings.endpointUrl) !== endpointUrl) {
    log.warn(`The config file names ${settings.endpointUrl}, but this agent registered with ${endpointUrl}: it connects only there. Register again to move it.`);
  }
  const mode = await privateKeyMode(settings.stateDir);
  if ((mode & 0o077) !== 0) log.warn(`${settings.stateDir}/private-key.pem has mode ${mode.toString(8)}: others can read it; chmod 600 it.`);
  const privateKey = loadPrivateKey(state.privateKeyPem);
  if (isHttps(endpointUrl) && state.caPem === undefined) log.warn("No CA was pinned at registration: the server's certificate is checked against this host's trusted CAs.");

  log.info(`airlock-agent ${AGENT_VERSION} starting: ${registration.instanceId}, server ${endpointUrl}, state ${settings.stateDir}.`);
  if (process.getuid?.() !== 0) log.warn('The agent does not run as root: sessions run as its own user, and Run As other users is refused.');
  const sessions = new SessionManager({
    endpointUrl,
    instanceId: registration.instanceId,
    privateKey,
    caPem: state.caPem,
    agentVersion: AGENT_VERSION,
    log,
    // Called only once sessions run, after the channel below exists.
    report: (message) => {
      channel.report(message);
    },
    users: { ssmUserSudo: settings.ssmUserSudo },
  });
  const channel = new ControlChannel({
    endpointUrl,
    instanceId: registration.instanceId,
    privateKey,
    caPem: state.caPem,
    agentVersion: AGENT_VERSION,
    inventory: () => collectInventory({ agentVersion: AGENT_VERSION }),
    log,
    sessions,
  });
  const onSignal = (signal: NodeJS.Signals): void => {
    log.info(`${signal}: closing the control channel.`);
    channel.stop();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  let outcome;
  try {
    outcome = await channel.run();
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    // The sessions' programs end with the agent, as they would with its systemd unit.
    await sessions.stopAll(outcome === 'deregistered' ? 'the instance was deregistered' : 'the agent stopped');
  }
  if (outcome === 'deregistered') {
    try {
      await markDeregistered(settings.stateDir, new Date());
    } catch (error) {
      log.warn(`Cannot record the deregistration in ${settings.stateDir}: ${messageOf(error)}`);
    }
    log.info(`Stopped for good: ${registration.instanceId} was deregistered. Register again with airlock-agent register --force to rejoin.`);
  } else {
    log.info('Stopped.');
  }
  return 0;
}

function safeNormalize(url: string): string | undefined {
  try {
    return normalizeEndpoint(url);
  } catch {
    return undefined;
  }
}
