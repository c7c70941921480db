// Winter River mode: one simulated ESP32 node per connection (client id = node id), status every few
// seconds on `winter-river/{id}/status`, commands on `winter-river/{id}/command` answered by a fresh status.
import { parse, winterRiverCommandSchema } from '../lambdas/core/contracts/schemas.js';
import { topics } from '../lambdas/core/contracts/topics.js';
import { PeriodicDevice } from './periodic-device.js';
import type { Rng } from './random.js';
import type { DeviceRuntime } from './runtime.js';
import { WinterRiverNode } from './winter-river.js';

export interface WinterRiverOptions {
  readonly runtime: DeviceRuntime;
  readonly thingName: string;
  readonly rng: Rng;
  readonly statusMs: number;
}

export class WinterRiverDevice extends PeriodicDevice {
  readonly mode = 'winter-river' as const;
  readonly node: WinterRiverNode;

  constructor(options: WinterRiverOptions) {
    super(options.runtime, options.thingName, options.statusMs);
    this.node = new WinterRiverNode(options.thingName, options.rng, this.rt.now());
    this.rt.on(topics.winterRiverCommand(this.thingName), (p) => this.handleCommand(p));
  }

  protected state(): Record<string, unknown> {
    return { status: this.node.fault ? 'fault' : 'ok' };
  }

  protected tick(): void {
    this.publishStatus();
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
