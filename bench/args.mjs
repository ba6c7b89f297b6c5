// The benches' command lines: options that are positive whole numbers (each a string option with
// a default), read with node:util's parseArgs.
import { parseArgs } from 'node:util';

/**
 * The options as numbers, by name: `defaults` maps each option to its default. An option that is
 * not a positive whole number is said on stderr and the bench exits 2.
 */
export function positiveOptions(defaults) {
  const { values } = parseArgs({ options: Object.fromEntries(Object.entries(defaults).map(([name, value]) => [name, { type: 'string', default: String(value) }])) });
  const numbers = {};
  for (const [name, text] of Object.entries(values)) {
    const value = Number(text);
    if (!Number.isInteger(value) || value <= 0) {
      console.error(`--${name} must be a positive integer, not ${text}`);
      process.exit(2);
    }
    numbers[name] = value;
  }
  return numbers;
}
