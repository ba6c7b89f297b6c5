/** Every command the CLI has. Issues add theirs here; help lists them in this order. */
import type { Command } from '../command.js';
import { API_COMMANDS } from './api.js';
import { apply } from './apply.js';
import { auditExport, auditVerify } from './audit.js';
import { configureSso } from './configure.js';
import { demo } from './demo.js';
import { login, logout } from './login.js';
import { policySimulate } from './policy-simulate.js';
import { policyValidate } from './policy-validate.js';
import { devMail, server } from './server.js';

export const COMMANDS: readonly Command[] = [server, login, logout, configureSso, devMail, apply, auditVerify, auditExport, ...API_COMMANDS, policyValidate, policySimulate, demo];
