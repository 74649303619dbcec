import { randomUUID } from 'node:crypto';
import { type LoopbackServer, readBody, startLoopbackServer } from '../loopback-server.js';

/*
 * Lambda's Invoke API (POST /2015-03-31/functions/{name}/invocations) for the functions a test
 * registers, so the CLI's real @aws-sdk/client-lambda calls are tested. As Lambda answers: 200
 * with the function's JSON result; a function that threw is still 200, with
 * X-Amz-Function-Error: Unhandled and {errorType, errorMessage}; an unknown function 404
 * ResourceNotFoundException. Only RequestResponse invocations are emulated.
 */

export type InvokedFunction = (event: unknown, context: { awsRequestId: string }) => Promise<unknown>;

export class LambdaEmulator {
  private server: LoopbackServer | undefined;
  private readonly functions = new Map<string, InvokedFunction>();
  readonly invocations: { functionName: string; event: unknown; error?: string }[] = [];

  get url(): string {
    if (!this.server) throw new Error('LambdaEmulator is not started');
    return this.server.url;
  }

  register(name: string, handler: InvokedFunction): void {
    this.functions.set(name, handler);
  }

  async start(): Promise<void> {
    this.server = await startLoopbackServer('lambda-emulator', async (req, res) => {
      const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(
        new URL(req.url ?? '/', 'http://x').pathname,
      );
      const body = await readBody(req);
      const name = decodeURIComponent(match?.[1] ?? '');
      const handler = this.functions.get(name);
      if (req.method !== 'POST' || !match || !handler) {
        res
          .writeHead(404, {
            'content-type': 'application/json',
            'x-amzn-errortype': 'ResourceNotFoundException',
          })
          .end(JSON.stringify({ Type: 'User', message: `Function not found: ${name}` }));
        return;
      }
      const event: unknown = body ? JSON.parse(body) : {};
      const headers = { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' };
      try {
        const result = await handler(event, { awsRequestId: randomUUID() });
        this.invocations.push({ functionName: name, event });
        res.writeHead(200, headers).end(JSON.stringify(result ?? null));
      } catch (error) {
        const errorMessage = error instanceof Error ? error.message : String(error);
        this.invocations.push({ functionName: name, event, error: errorMessage });
        res
          .writeHead(200, { ...headers, 'x-amz-function-error': 'Unhandled' })
          .end(JSON.stringify({ errorType: error instanceof Error ? error.name : 'Error', errorMessage }));
      }
    });
  }

  async stop(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }
}
