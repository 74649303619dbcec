import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  type LoopbackServer,
  lowerCaseHeaders,
  readBodyBytes,
  startLoopbackServer,
} from './emulators/loopback-server.js';

export type FunctionUrlHandler = (
  event: APIGatewayProxyEventV2,
  context: unknown,
) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * Serves a Lambda handler on 127.0.0.1 the way a Function URL invokes it: the HTTP request becomes
 * a payload v2 event (lower-cased headers, a text body as is, anything else base64), the
 * structured result becomes the response. Lets real HTTP senders (the Jira emulator's webhooks)
 * reach a handler in tests and the local stack.
 */
export async function serveFunctionUrl(name: string, handler: FunctionUrlHandler): Promise<LoopbackServer> {
  return startLoopbackServer(name, async (req, res) => {
    const event = await toEvent(req);
    const result = await handler(event, { awsRequestId: randomUUID() });
    res.writeHead(result.statusCode ?? 200, { ...(result.headers as Record<string, string> | undefined) });
    res.end(result.body ?? '');
  });
}

async function toEvent(req: IncomingMessage): Promise<APIGatewayProxyEventV2> {
  const body = await readBodyBytes(req);
  // Function URLs join a repeated header with plain commas.
  const headers = lowerCaseHeaders(req, ',');
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const text = /^(application\/json|text\/)/.test(headers['content-type'] ?? '');
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'local',
      domainName: headers.host ?? '127.0.0.1',
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: text ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: !text,
  };
}
