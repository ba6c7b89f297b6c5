export { run } from './cli.js';
export type { Command, Io } from './command.js';
