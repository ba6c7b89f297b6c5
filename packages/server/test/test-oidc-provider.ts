/**
 * A real OpenID provider (oidc-provider) on loopback for tests, with one client (Airlock) and
 * people whose claims the test sets. Its login page is the one thing automated: `login` says
 * who signs in there next, and with which methods (amr). No consent page.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type OidcContext } from 'oidc-provider';

export const CLIENT_ID = 'airlock';
export const CLIENT_SECRET = 'a client secret that is long enough for HS256 keys';

export interface IdpPerson {
  readonly email: string;
  groups: string[];
  readonly team: string;
}

/** `login` is who signs in at its login page next, and how. */
export class TestProvider {
  readonly people = new Map<string, IdpPerson>();
  login: { accountId: string; amr: string[] } = { accountId: 'alice', amr: ['pwd'] };
  private server: Server | undefined;
  issuer = '';

  async start(redirectUri: string): Promise<void> {
    const route: { handler?: (request: IncomingMessage, response: ServerResponse) => void } = {};
    const server = createServer((request, response) => route.handler?.(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const provider = new Provider(this.issuer, {
      clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [redirectUri], response_types: ['code'], grant_types: ['authorization_code'] }],
      claims: { openid: ['sub', 'amr', 'acr', 'auth_time'], profile: ['name', 'preferred_username'], email: ['email', 'email_verified'], groups: ['groups'], team: ['team'] },
      findAccount: (_context: unknown, id: string) => {
        const person = this.people.get(id);
        if (person === undefined) return undefined;
        return { accountId: id, claims: () => ({ sub: id, preferred_username: id, name: `Person ${id}`, email: person.email, email_verified: true, groups: person.groups, team: person.team }) };
      },
      interactions: { url: (_context: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
      // No consent page: the test's people have agreed to everything.
      loadExistingGrant: async (context: OidcContext) => {
        const grant = new context.oidc.provider.Grant({ accountId: context.oidc.session?.accountId ?? '', clientId: context.oidc.client?.clientId ?? '' });
        grant.addOIDCScope('openid profile email groups team');
        await grant.save();
        return grant;
      },
      jwks: { keys: [{ ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'test-signing-key', alg: 'RS256', use: 'sig' }] },
      features: { devInteractions: { enabled: false } },
      cookies: { keys: ['a test cookie signing key'] },
    });
    const callback = provider.callback();
    route.handler = (request, response) => {
      if (/^\/interaction\/[^/]+$/.test(new URL(request.url ?? '/', this.issuer).pathname)) {
        void provider.interactionFinished(request, response, { login: { accountId: this.login.accountId, amr: this.login.amr } }, { mergeWithLastSubmission: false });
        return;
      }
      callback(request, response);
    };
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}
