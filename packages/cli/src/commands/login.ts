/**
 * `airlock login`: the device authorization grant (RFC 8628). Shows a URL and a code, waits
 * while the person approves it in the portal, then caches the session token 0600.
 */
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { AirlockApiError, AirlockClient } from '@airlock/client';
import { portal } from '@airlock/protocol';
import type { Command } from '../command.js';
import { cacheToken, forgetToken } from '../credentials.js';
import { configDir, endpointUrl } from '../environment.js';
import { CONNECTION_OPTIONS, connection, ENDPOINT_OPTION, reportError } from './api.js';

export const login: Command = {
  path: 'login',
  summary: 'Sign in from this terminal: approve the code it shows in the portal; the token is cached in ~/.airlock.',
  options: [ENDPOINT_OPTION],
  async run(flags, io) {
    const endpoint = endpointUrl(flags.one('endpoint-url'));
    const client = new AirlockClient({ endpointUrl: endpoint });
    try {
      const start = await client.call(portal.StartDeviceAuthorization, { ClientName: `airlock CLI on ${hostname()}` });
      io.stderr.write(
        `To sign in, open ${start.VerificationUriComplete}\nand confirm the code ${start.UserCode}` +
          `\n(or, signed in elsewhere: airlock portal approve-device-authorization --user-code ${start.UserCode}).\n`,
      );
      let interval = start.Interval;
      const deadline = Date.now() + start.ExpiresIn * 1000;
      while (Date.now() < deadline) {
        await sleep(interval * 1000);
        try {
          const token = await client.call(portal.CreateToken, { DeviceCode: start.DeviceCode });
          const file = await cacheToken(configDir(), endpoint, { accessToken: token.AccessToken, expiresAt: Date.now() + token.ExpiresIn * 1000 });
          io.stderr.write(`Signed in. The token is cached in ${file} until it expires.\n`);
          return 0;
        } catch (error) {
          if (error instanceof AirlockApiError && error.code === 'AuthorizationPendingException') continue;
          if (error instanceof AirlockApiError && error.code === 'SlowDownException') interval += 5;
          else throw error;
        }
      }
      io.stderr.write('The code expired before it was approved; run airlock login again.\n');
      return 1;
    } catch (error) {
      return reportError(error, 'login', io);
    }
  },
};

export const logout: Command = {
  path: 'logout',
  summary: 'End the cached session (portal:SignOut) and forget its token.',
  options: CONNECTION_OPTIONS,
  async run(flags, io) {
    const settings = await connection(flags);
    try {
      if (settings.token !== undefined) await new AirlockClient(settings).call(portal.SignOut, {});
    } catch (error) {
      if (!(error instanceof AirlockApiError && error.code === 'UnauthorizedException')) return reportError(error, 'SignOut', io);
    }
    await forgetToken(configDir(), settings.endpointUrl);
    io.stderr.write('Signed out.\n');
    return 0;
  },
};
