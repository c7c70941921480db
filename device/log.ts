// The device's structured log: JSON lines (Powertools Logger) in production, an in-memory sink in tests.
// Entries carry thingName, correlationId, venId; never certificate or key material.
import { Logger } from '@aws-lambda-powertools/logger';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFields = Record<string, unknown>;

export interface DeviceLog {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): DeviceLog;
}

export function jsonLog(level: LogLevel = 'info', fields: LogFields = {}): DeviceLog {
  return wrap(
    new Logger({ serviceName: 'vpp-device', logLevel: level.toUpperCase() as 'INFO', persistentKeys: fields }),
  );
}

function wrap(logger: Logger): DeviceLog {
  return {
    debug: (m, f) => logger.debug(m, f ?? {}),
    info: (m, f) => logger.info(m, f ?? {}),
    warn: (m, f) => logger.warn(m, f ?? {}),
    error: (m, f) => logger.error(m, f ?? {}),
    child: (f) => wrap(logger.createChild({ persistentKeys: f }) as Logger),
  };
}

export interface LogEntry {
  level: Exclude<LogLevel, 'silent'>;
  message: string;
  fields: LogFields;
}

/** Keeps every entry in `entries` (children share it); for tests and the status page. */
export function memoryLog(entries: LogEntry[] = [], base: LogFields = {}): DeviceLog & { entries: LogEntry[] } {
  const add = (level: LogEntry['level']) => (message: string, fields?: LogFields) =>
    void entries.push({ level, message, fields: { ...base, ...fields } });
  return {
    entries,
    debug: add('debug'),
    info: add('info'),
    warn: add('warn'),
    error: add('error'),
    child: (f) => memoryLog(entries, { ...base, ...f }),
  };
}

export const silentLog: DeviceLog = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLog,
};
