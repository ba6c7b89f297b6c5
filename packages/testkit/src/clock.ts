/** A clock that stands still until a test moves it. */
export class MovableClock {
  constructor(private time = Date.parse('2026-11-28T12:00:00Z')) {}

  now(): number {
    return this.time;
  }

  advance(milliseconds: number): void {
    this.time += milliseconds;
  }
}
