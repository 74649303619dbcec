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

/**
 * Several Function URLs behind one loopback port, each on its own path (the local stack's front
 * door: Slack's two request URLs and Jira's webhook). Another path is a 404 and another method a
 * 405, each saying which paths there are.
 */
export async function serveFunctionUrls(
  name: string,
  routes: Readonly<Record<string, FunctionUrlHandler>>,
  port = 0,
  onAnswered: (request: { method: string; path: string; status: number; ms: number }) => void = () => {},
): Promise<LoopbackServer> {
  const paths = Object.keys(routes).join(', ');
  return startLoopbackServer(
    name,
    async (req, res) => {
      const start = performance.now();
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
      res.once('finish', () =>
        onAnswered({
          method: req.method ?? 'GET',
          path,
          status: res.statusCode,
          ms: Math.round(performance.now() - start),
        }),
      );
      const handler = routes[path];
      if (!handler) {
        res
          .writeHead(404, { 'content-type': 'text/plain' })
          .end(`${name}: no route ${path}; POST to ${paths}\n`);
        return;
      }
      if (req.method !== 'POST') {
        res
          .writeHead(405, { allow: 'POST', 'content-type': 'text/plain' })
          .end(`${name}: ${path} takes POST only\n`);
        return;
      }
      const event = await toEvent(req);
      const result = await handler(event, { awsRequestId: randomUUID() });
      res.writeHead(result.statusCode ?? 200, { ...(result.headers as Record<string, string> | undefined) });
      res.end(result.body ?? '');
    },
    port,
  );
}

async function toEvent(req: IncomingMessage): Promise<APIGatewayProxyEventV2> {
  const body = await readBodyBytes(req);
  // Function URLs join a repeated header with plain commas.
  const headers = lowerCaseHeaders(req, ',');
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const text = /^(application\/json|text\/)/.test(headers['content-type'] ?? '');
  return functionUrlEvent({
    method: req.method ?? 'GET',
    path: url.pathname,
    query: url.search.replace(/^\?/, ''),
    headers,
    body: text ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: !text,
    sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
  });
}

export interface FunctionUrlRequest {
  readonly method?: string;
  readonly path: string;
  readonly query?: string;
  /** Lower-cased names, as Function URLs pass them. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly isBase64Encoded?: boolean;
  readonly sourceIp?: string;
  readonly at?: Date;
}

/** The payload v2 event a Function URL hands its Lambda for one HTTP request. */
export function functionUrlEvent(request: FunctionUrlRequest): APIGatewayProxyEventV2 {
  const at = request.at ?? new Date();
  const method = request.method ?? 'POST';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: request.path,
    rawQueryString: request.query ?? '',
    headers: { ...request.headers },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'local',
      domainName: request.headers.host ?? '127.0.0.1',
      domainPrefix: 'local',
      http: {
        method,
        path: request.path,
        protocol: 'HTTP/1.1',
        sourceIp: request.sourceIp ?? '127.0.0.1',
        userAgent: request.headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: at.toUTCString(),
      timeEpoch: at.getTime(),
    },
    body: request.body,
    isBase64Encoded: request.isBase64Encoded ?? false,
  };
}

/** A Jira webhook as Jira posts it to the jira-webhook Lambda's Function URL. */
export function jiraWebhookEvent(
  body: string,
  headers: Readonly<Record<string, string>>,
  at?: Date,
): APIGatewayProxyEventV2 {
  return functionUrlEvent({
    path: '/jira/webhook',
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'Atlassian Webhook HTTP Client',
      ...headers,
    },
    body,
    sourceIp: '13.52.5.96',
    ...(at ? { at } : {}),
  });
}
