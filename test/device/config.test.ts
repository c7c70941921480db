import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, USAGE } from '../../device/config.js';

const dir = mkdtempSync(join(tmpdir(), 'vpp-config-'));
const file = (name: string) => {
  const path = join(dir, name);
  writeFileSync(path, 'x');
  return path;
};
const cert = file('ven-001.crt');
const key = file('ven-001.key');
const ca = file('ca.crt');
const inventory = file('assets.yaml');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The VOLTTRON VEN's variables. */
const env = {
  IOT_ENDPOINT: 'abc123-ats.iot.us-east-1.amazonaws.com',
  CLIENT_ID: 'ven-001',
  TELEMETRY_TOPIC: 'ven/telemetry/ven-001',
  METERING_TOPIC: 'volttron/metering',
  LOADS_TOPIC: 'ven/loads/ven-001',
  CMD_TOPIC: 'ven/cmd/ven-001',
  ACK_TOPIC: 'ven/ack/ven-001',
  WEB_PORT: '8080',
  CERT_FILE: cert,
  KEY_FILE: key,
  CA_FILE: ca,
};

const errors = (argv: string[], e: NodeJS.ProcessEnv = env) => {
  const r = loadConfig(argv, e);
  return r.ok ? [] : r.errors;
};

describe('agent configuration', () => {
  it('reads the VOLTTRON VEN environment variables, with defaults for the rest', () => {
    const r = loadConfig([], env);
    expect(r).toMatchObject({
      ok: true,
      config: {
        mode: 'ven',
        thingName: 'ven-001',
        broker: {
          host: env.IOT_ENDPOINT,
          port: 8883,
          caFile: ca,
          keepAliveSec: 30,
          reconnectMinSec: 1,
          reconnectMaxSec: 64,
        },
        web: { port: 8080, host: '127.0.0.1' },
        intervals: { telemetryMs: 5000, shadowMs: 300_000, loadsMs: 0 },
        profile: 'economy',
        venTopics: {
          metering: 'volttron/metering',
          telemetry: 'ven/telemetry/ven-001',
          command: 'ven/cmd/ven-001',
          ack: 'ven/ack/ven-001',
          loads: 'ven/loads/ven-001',
        },
        dataDir: join('.vpp', 'agent', 'ven-001'),
        bufferMaxBytes: 32 * 1024 * 1024,
      },
    });
  });

  it('takes topics from the shared builders when not given', () => {
    const { TELEMETRY_TOPIC, METERING_TOPIC, LOADS_TOPIC, CMD_TOPIC, ACK_TOPIC, ...rest } = env;
    const r = loadConfig(['--client-id', 'ven-042', '--profile', 'volttron'], rest);
    expect(r.ok && r.config.venTopics).toEqual({
      metering: 'volttron/metering',
      telemetry: 'ven/telemetry/ven-042',
      loads: 'ven/loads/ven-042',
      command: 'ven/cmd/ven-042',
      ack: 'ven/ack/ven-042',
    });
  });

  describe('profiles', () => {
    const { TELEMETRY_TOPIC, METERING_TOPIC, LOADS_TOPIC, CMD_TOPIC, ACK_TOPIC, ...bare } = env;
    const reporting = (argv: string[], e: NodeJS.ProcessEnv = bare) => {
      const r = loadConfig(argv, e);
      if (!r.ok) throw new Error(r.errors.join('; '));
      const { profile, metering, shadowOnChange, venTopics, intervals } = r.config;
      return {
        profile,
        metering,
        shadowOnChange,
        meteringTopic: venTopics.metering,
        shadowMs: intervals.shadowMs,
        telemetryMs: intervals.telemetryMs,
      };
    };

    it('economy by default: Basic Ingest, 12 samples a message (one a minute at 5 s), no telemetry copy, the shadow on change with a 5 min heartbeat', () => {
      expect(reporting([])).toEqual({
        profile: 'economy',
        meteringTopic: '$aws/rules/metering/volttron/metering',
        metering: { batch: 12, telemetryCopy: false },
        shadowOnChange: true,
        shadowMs: 300_000,
        telemetryMs: 5000,
      });
    });

    it('--profile volttron (AGENT_PROFILE=volttron) is the VOLTTRON VEN exactly: every sample on volttron/metering, its telemetry copy, the shadow every 30 s', () => {
      const volttron = {
        profile: 'volttron',
        meteringTopic: 'volttron/metering',
        metering: { batch: 1, telemetryCopy: true },
        shadowOnChange: false,
        shadowMs: 30_000,
        telemetryMs: 5000,
      };
      expect(reporting(['--profile', 'volttron'])).toEqual(volttron);
      expect(reporting([], { ...bare, AGENT_PROFILE: 'volttron' })).toEqual(volttron);
    });

    it('a setting given one by one wins over the profile', () => {
      const economyOverridden = {
        ...bare,
        BASIC_INGEST: '0',
        METERING_BATCH: '1',
        TELEMETRY_TOPIC: 'ven/telemetry/ven-001',
        SHADOW_INTERVAL_SEC: '30',
      };
      expect(reporting([], economyOverridden)).toMatchObject({
        profile: 'economy',
        meteringTopic: 'volttron/metering',
        metering: { batch: 1, telemetryCopy: true },
        shadowMs: 30_000,
      });
      expect(reporting(['--metering-topic', 'volttron/metering'])).toMatchObject({
        meteringTopic: 'volttron/metering',
        metering: { batch: 12 },
      });
      expect(
        reporting(['--profile', 'volttron', '--basic-ingest', '--metering-batch', '6', '--telemetry-topic', 'off']),
      ).toMatchObject({
        profile: 'volttron',
        meteringTopic: '$aws/rules/metering/volttron/metering',
        metering: { batch: 6, telemetryCopy: false },
        shadowOnChange: false,
      });
    });

    it('refuses an unknown profile, naming the variable and its flag', () => {
      expect(errors(['--profile', 'cheap'])).toEqual([expect.stringMatching(/^AGENT_PROFILE \(--profile\): /)]);
    });
  });

  it('lets flags override the environment', () => {
    const r = loadConfig(
      [
        '--mode',
        'gateway',
        '--inventory',
        inventory,
        '--site',
        's1',
        '--port',
        '18883',
        '--web-port',
        'off',
        '--interval-sec',
        '0.5',
        '--data-dir',
        '/tmp/x',
      ],
      env,
    );
    expect(r).toMatchObject({
      ok: true,
      config: {
        mode: 'gateway',
        inventoryFile: inventory,
        siteId: 's1',
        broker: { port: 18883 },
        web: null,
        intervals: { telemetryMs: 500 },
        dataDir: '/tmp/x',
      },
    });
  });

  it('ignores empty environment variables', () => {
    expect(loadConfig([], { ...env, IOT_PORT: '', LOADS_TOPIC: '' })).toMatchObject({
      ok: true,
      config: { broker: { port: 8883 } },
    });
  });

  it.each([
    ['a missing endpoint', [], { ...env, IOT_ENDPOINT: undefined }, /^IOT_ENDPOINT \(--endpoint\): /],
    [
      'a client id that is not a thing name',
      ['--client-id', 'ven/001'],
      env,
      /^CLIENT_ID \(--client-id\): must be the thing name/,
    ],
    [
      'a certificate that does not exist',
      ['--cert', join(dir, 'nope.crt')],
      env,
      /^CERT_FILE \(--cert\): file not found/,
    ],
    ['a port out of range', ['--port', '70000'], env, /^IOT_PORT \(--port\): /],
    ['an unknown mode', ['--mode', 'meter'], env, /^AGENT_MODE \(--mode\): /],
    [
      'gateway mode without an inventory',
      ['--mode', 'gateway'],
      env,
      /^ASSETS_PATH \(--inventory\): required in gateway mode/,
    ],
    [
      'a topic outside the device policy',
      ['--ack-topic', 'ven/ack/ven-002'],
      env,
      /^ACK_TOPIC \(--ack-topic\): the device policy does not let ven-001 publish on ven\/ack\/ven-002/,
    ],
    ['a command topic it may not subscribe to', ['--cmd-topic', 'ven/cmd/+'], env, /^CMD_TOPIC \(--cmd-topic\): /],
    ['reconnect max below min', ['--reconnect-min-sec', '10', '--reconnect-max-sec', '5'], env, /^RECONNECT_MAX_SEC/],
    ['a tiny buffer', ['--buffer-max-bytes', '10'], env, /^BUFFER_MAX_BYTES/],
  ])('refuses %s, naming the variable and its flag', (_name, argv, e, message) => {
    expect(errors(argv, e as NodeJS.ProcessEnv)).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
  });

  it('--basic-ingest (or BASIC_INGEST=1) sends metering to the metering rule through Basic Ingest, the rest unchanged', () => {
    const { METERING_TOPIC, ...rest } = env;
    for (const [argv, e] of [
      [['--basic-ingest'], rest],
      [[], { ...rest, BASIC_INGEST: '1' }],
      [[], { ...rest, BASIC_INGEST: 'true' }],
    ] as const) {
      const r = loadConfig([...argv], e);
      expect(r.ok && r.config.venTopics).toEqual({
        ...(loadConfig([], env) as { config: { venTopics: object } }).config.venTopics,
        metering: '$aws/rules/metering/volttron/metering',
      });
    }
    expect(loadConfig([], { ...rest, BASIC_INGEST: '0' })).toMatchObject({
      ok: true,
      config: { venTopics: { metering: 'volttron/metering' } },
    });
  });

  it("accepts another stack's Basic Ingest topic for metering (that stack's rule name), and no other $aws/rules topic", () => {
    expect(loadConfig(['--metering-topic', '$aws/rules/metering_vppstaging/volttron/metering'], env)).toMatchObject({
      ok: true,
      config: { venTopics: { metering: '$aws/rules/metering_vppstaging/volttron/metering' } },
    });
    expect(errors(['--metering-topic', '$aws/rules/metering/ven/ack/ven-001'])).toEqual([
      expect.stringMatching(/^METERING_TOPIC .*device policy/),
    ]);
  });

  it('batches metering samples with --metering-batch, and turns the telemetry copy off with TELEMETRY_TOPIC=off', () => {
    expect(loadConfig(['--profile', 'volttron'], env)).toMatchObject({
      ok: true,
      config: { metering: { batch: 1, telemetryCopy: true } },
    });
    expect(loadConfig(['--metering-batch', '12', '--telemetry-topic', 'off'], env)).toMatchObject({
      ok: true,
      config: { metering: { batch: 12, telemetryCopy: false }, venTopics: { telemetry: 'ven/telemetry/ven-001' } },
    });
  });

  it.each([
    [
      'Basic Ingest and a metering topic at once',
      ['--basic-ingest'],
      /^METERING_TOPIC \(--metering-topic\): set either METERING_TOPIC or BASIC_INGEST/,
    ],
    ['a batch of 0', ['--metering-batch', '0'], /^METERING_BATCH \(--metering-batch\): /],
    ['a batch over the limit', ['--metering-batch', '41'], /^METERING_BATCH \(--metering-batch\): /],
  ])('refuses %s', (_name, argv, message) => {
    expect(errors(argv)).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
  });

  it('refuses BASIC_INGEST values other than 1/0, true/false, on/off', () => {
    expect(errors([], { ...env, METERING_TOPIC: undefined, BASIC_INGEST: 'yes' })).toEqual([
      expect.stringMatching(/^BASIC_INGEST \(--basic-ingest\): /),
    ]);
  });

  it('refuses unknown flags', () => {
    expect(errors(['--colour', 'blue'])[0]).toMatch(/colour/);
  });

  it('reports every problem at once', () => {
    expect(errors([], {})).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^IOT_ENDPOINT/),
        expect.stringMatching(/^CLIENT_ID/),
        expect.stringMatching(/^CERT_FILE/),
        expect.stringMatching(/^KEY_FILE/),
        expect.stringMatching(/^CA_FILE/),
      ]),
    );
  });

  it('--help asks for the usage, which lists every flag with its variable', () => {
    expect(loadConfig(['--help'], {})).toEqual({ ok: false, help: true, errors: [] });
    expect(USAGE).toMatch(/--client-id\s+CLIENT_ID/);
    expect(USAGE).toMatch(/--web-port\s+WEB_PORT/);
  });
});
