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
import { ssmReplay } from './replay.js';
import { devMail, server } from './server.js';
import { startSession } from './start-session.js';

/** The API's commands, with the ones that do more than call their operation in their place. */
const SPECIAL: readonly Command[] = [startSession];
const apiCommands = API_COMMANDS.map((command) => SPECIAL.find((special) => special.path === command.path) ?? command);

export const COMMANDS: readonly Command[] = [server, login, logout, configureSso, devMail, apply, auditVerify, auditExport, ...apiCommands, ssmReplay, policyValidate, policySimulate, demo];
