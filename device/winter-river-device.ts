// Winter River mode: one simulated ESP32 node per connection (client id = node id), status every few
// seconds on `winter-river/{id}/status`, commands on `winter-river/{id}/command` answered by a fresh status.
import { parse, winterRiverCommandSchema } from '../lambdas/core/contracts/schemas.js';
import { topics } from '../lambdas/core/contracts/topics.js';
import { hashString, type Rng } from './random.js';
import type { Device, DeviceRuntime, DeviceStatus } from './runtime.js';
import type { ScheduledTask } from './scheduler.js';
import { WinterRiverNode } from './winter-river.js';

export interface WinterRiverOptions {
  readonly runtime: DeviceRuntime;
  readonly thingName: string;
  readonly rng: Rng;
  readonly statusMs: number;
}

export class WinterRiverDevice implements Device {
  readonly mode = 'winter-river' as const;
  readonly thingName: string;
  readonly node: WinterRiverNode;
  private readonly rt: DeviceRuntime;

  get runtime(): DeviceRuntime {
    return this.rt;
  }
  private readonly statusMs: number;
  private task: ScheduledTask | undefined;

  constructor(options: WinterRiverOptions) {
    this.rt = options.runtime;
    this.thingName = options.thingName;
    this.statusMs = options.statusMs;
    this.node = new WinterRiverNode(options.thingName, options.rng, this.rt.now());
    this.rt.on(topics.winterRiverCommand(this.thingName), (p) => this.handleCommand(p));
  }

  async start(): Promise<boolean> {
    this.task = this.rt.scheduler.every(
      this.statusMs,
      () => this.publishStatus(),
      hashString(this.thingName) % this.statusMs,
    );
    return this.rt.start();
  }

  async stop(): Promise<void> {
    this.task?.cancel();
    await this.rt.stop();
  }

  status(): DeviceStatus {
    return {
      thingName: this.thingName,
      mode: this.mode,
      ...this.rt.status(),
      state: { status: this.node.fault ? 'fault' : 'ok' },
    };
  }

  publishStatus(): void {
    const status = this.node.status(this.rt.now());
    this.rt.outbox.sendDurable(topics.winterRiverStatus(this.thingName), JSON.stringify(status));
  }

  handleCommand(payload: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(payload);
    } catch {
      this.rt.log.warn('invalid command', { error: '(root): not JSON' });
      return;
    }
    const parsed = parse(winterRiverCommandSchema, raw);
    if (!parsed.ok) {
      this.rt.log.warn('invalid command', { error: parsed.message });
      return;
    }
    const outcome = this.node.apply(parsed.value);
    if (!outcome.ok) {
      this.rt.log.warn('command not applied', { command: parsed.value.command, error: outcome.message });
      return;
    }
    this.rt.log.info('command applied', {
      command: parsed.value.command,
      params: parsed.value.params,
      status: this.node.fault ? 'fault' : 'ok',
    });
    this.publishStatus();
  }
}
