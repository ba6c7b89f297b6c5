/** API timestamps (epoch seconds, as AWS sends them) and log times (epoch milliseconds) for people. */
const format = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export function formatTime(epochSeconds: number): string {
  return format.format(new Date(epochSeconds * 1000));
}

export function formatMillis(epochMillis: number): string {
  return format.format(new Date(epochMillis));
}
