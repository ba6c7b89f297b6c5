/** Writes lines to a stream, in large chunks and respecting backpressure. */
import type { Writable } from 'node:stream';
import { once } from 'node:events';

export class LineWriter {
  private buffer = '';

  constructor(
    private readonly stream: Writable,
    private readonly chunkSize = 64 * 1024,
  ) {}

  async line(text: string): Promise<void> {
    this.buffer += text + '\n';
    if (this.buffer.length >= this.chunkSize) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.buffer === '') return;
    const chunk = this.buffer;
    this.buffer = '';
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }
}

export function printJson(stream: Writable, value: unknown): void {
  stream.write(JSON.stringify(value, null, 2) + '\n');
}
