/** airlock-agent as a library: what its tests and tools use. The program is main.ts. */
export { Backoff, systemClock, type BackoffOptions, type Clock } from './backoff.js';
export { main, HELP, type Io } from './cli.js';
export { DEFAULT_CONFIG_FILE, DEFAULT_STATE_DIR, ENV, loadConfigFile, parseCommandLine, registerSettings, runSettings, sessionEnvironment, UsageError } from './config.js';
export { apiUrl, controlUrl, dataUrl, EndpointError, isLoopbackHost, normalizeEndpoint } from './endpoint.js';
export { collectInventory, parseOsRelease, type Inventory, type InventoryOptions, type SystemInfo } from './inventory.js';
export { generateKeyPair, loadPrivateKey, publicKeyOf, signChallenge, signDataChallenge, type KeyPair } from './keys.js';
export { streamLogger, type Logger } from './log.js';
export { DEFAULT_METADATA_URL, MetadataError, normalizeMetadataUrl, readInstanceIdentity, usableTags, type InstanceIdentity, type MetadataOptions } from './metadata.js';
export { register, RegistrationError, type ActivationCredential, type CloudCredential, type RegisterOptions, type RegisterResult } from './registration.js';
export { loadState, readRegistration, statePaths, type AgentState, type Registration } from './state.js';
export { parseCaBundle, type PinnedCa } from './tls.js';
export { DataLink, type DataLinkEvents, type DataLinkOptions } from './session/data-link.js';
export { PortForwarder } from './session/forward.js';
export { sessionMembers, terminateSession, type Program } from './session/programs.js';
export { Session, SessionManager, type SessionManagerOptions } from './session/session.js';
export { lookupUser, resolveRunAs, RunAsError, SSM_USER, SUDOERS_FILE, type Account, type Identity, type UserOptions } from './session/users.js';
export { CAPABILITIES, ControlChannel, type ChannelEvent, type ChannelOutcome, type ControlChannelOptions, type SessionHandler } from './tunnel.js';
export { AGENT_VERSION } from './version.js';
