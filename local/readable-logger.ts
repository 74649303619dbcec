import { Logger } from '@aws-lambda-powertools/logger';
import type { LogItemExtraInput, LogItemMessage } from '@aws-lambda-powertools/logger/types';

/*
 * The Lambdas' Powertools logger, printing one readable line per entry for a person at a terminal
 * (`npm run dev`, `npm run demo --logs`) instead of CloudWatch's JSON:
 *   10:42:07.118 worker        REQ-7K2M9Q4X  request.decided handled  outcome=approved
 * The attributes are the ones the Lambdas log in AWS, which never hold a secret.
 */

type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };
const COLOUR: Record<Level, string> = { debug: '\x1b[2m', info: '', warn: '\x1b[33m', error: '\x1b[31m' };

export interface ReadableLoggerOptions {
  readonly write: (line: string) => void;
  readonly colour?: boolean;
  readonly level?: Level;
}

export class ReadableLogger extends Logger {
  private keys: Record<string, unknown> = {};

  constructor(
    private readonly service: string,
    private readonly readable: ReadableLoggerOptions,
  ) {
    super({ serviceName: service, logLevel: 'SILENT' });
  }

  override appendKeys(attributes: Record<string, unknown>): void {
    this.keys = { ...this.keys, ...attributes };
  }

  override debug(input: LogItemMessage, ...extra: LogItemExtraInput): void {
    this.print('debug', input, extra);
  }

  override info(input: LogItemMessage, ...extra: LogItemExtraInput): void {
    this.print('info', input, extra);
  }

  override warn(input: LogItemMessage, ...extra: LogItemExtraInput): void {
    this.print('warn', input, extra);
  }

  override error(input: LogItemMessage, ...extra: LogItemExtraInput): void {
    this.print('error', input, extra);
  }

  private print(level: Level, input: LogItemMessage, extra: LogItemExtraInput): void {
    if (RANK[level] < RANK[this.readable.level ?? 'info']) return;
    const { message, ...fromInput } = typeof input === 'string' ? { message: input } : input;
    const attributes: Record<string, unknown> = { ...this.keys, ...fromInput };
    for (const item of extra) {
      if (item instanceof Error) attributes.error = `${item.name}: ${item.message}`;
      else if (typeof item === 'string') attributes.detail = item;
      else Object.assign(attributes, item);
    }
    const { requestId, commandType: _commandType, ...rest } = attributes;
    void _commandType;
    const line = [
      new Date().toISOString().slice(11, 23),
      this.service.padEnd(13),
      String(requestId ?? '').padEnd(13),
      `${level === 'info' ? '' : `${level.toUpperCase()} `}${String(message)}`,
      formatAttributes(rest),
    ]
      .filter((part) => part !== '')
      .join('  ');
    const colour = this.readable.colour ? COLOUR[level] : '';
    this.readable.write(colour ? `${colour}${line}\x1b[0m` : line);
  }
}

export function formatAttributes(attributes: Record<string, unknown>): string {
  return Object.entries(attributes)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      return `${key}=${/\s/.test(text) ? JSON.stringify(text) : text}`;
    })
    .join(' ');
}
