/** The part of s3rver (an S3-protocol server on the file system, for tests) the testkit uses. */
declare module 's3rver' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface S3rverOptions {
    readonly silent?: boolean;
    readonly directory?: string;
    readonly resetOnClose?: boolean;
    readonly vhostBuckets?: boolean;
  }

  export default class S3rver {
    constructor(options: S3rverOptions);
    /** The request handler (a Koa application's). */
    callback(): (request: IncomingMessage, response: ServerResponse) => void;
    readonly store: { getBucket(name: string): Promise<unknown> };
  }
}
