/**
 * @airlock/testkit: what Airlock's tests share. Real servers on loopback with random ports, on
 * SQLite or PostgreSQL, each in its own temporary directory (and its own PostgreSQL schema).
 */
export { BACKENDS, testDatabaseUrl, withSchema, type Backend } from './backends.js';
export { temporaryDirectory } from './files.js';
export { MovableClock } from './clock.js';
export { startTestServer, type TestServer, type TestServerOptions } from './server.js';
export { startServerProcess, type Restartable, type ServerProcess } from './server-process.js';
export { startCluster, type Cluster, type ClusterNode, type ClusterOptions } from './cluster.js';
export { quietLogger, type CapturedLog } from './log.js';
export { createPerson, goodPassword, invitedUser, roleSession, signIn, signInToken, TEST_PASSWORD, type Invited } from './people.js';
export { refused, stillMoving } from './refused.js';
export { guidePolicy, setUpGuide, type GuideSetup } from './guide.js';
export { sessionPreferences } from './preferences.js';
export {
  base64Lines,
  identityDocument,
  IdentitySigner,
  MetadataService,
  openssl,
  type IdentitySignerOptions,
  type InstanceIdentityFields,
  type MetadataRequest,
  type MetadataServiceOptions,
  type ServedIdentity,
} from './metadata-service.js';
export { DataPeer, type Credentials, type PeerOptions } from './data-peer.js';
export { agentKeyPair, SimulatedAgent, SIM_INVENTORY, type SessionOpen } from './sim-agent.js';
export { agentDataUrl, joinSession, type SessionTicket, type SimulatedSession } from './sim-session.js';
export { auditVerify, recordedText, type AuditVerifyOptions } from './session-record.js';
export { startNamedNode, type NamedNode, type NamedNodeOptions } from './named-node.js';
export { startNamedCluster, type NamedCluster } from './named-cluster.js';
export { startFailoverProxy, type FailoverProxy } from './failover-proxy.js';
export { eventually, within, whenTrue } from './wait.js';
export { startSshd, SSHD, type TestSshd } from './sshd.js';
export { startS3Server, S3RVER_CREDENTIALS, type S3Request, type TestS3Server } from './s3-server.js';
export { accessibilityViolations, CHROMIUM, launchBrowser, openPage, screenshot, type TestPage } from './browser.js';
export { authenticatorCode } from './authenticator.js';
export { mailedTo } from './mailbox.js';
export { startSlapd, SLAPD, type TestSlapd } from './slapd.js';
