// What the gateway, edge and Winter River devices share: one connection (its runtime), one reading published every
// period from a start offset spread by the thing's name, and a status made of the runtime's and the device's own state.
import { hashString } from './random.js';
import type { Device, DeviceRuntime, DeviceStatus } from './runtime.js';
import type { ScheduledTask } from './scheduler.js';

export abstract class PeriodicDevice implements Device {
  abstract readonly mode: DeviceStatus['mode'];
  private task: ScheduledTask | undefined;

  constructor(
    protected readonly rt: DeviceRuntime,
    readonly thingName: string,
    protected readonly periodMs: number,
  ) {}

  get runtime(): DeviceRuntime {
    return this.rt;
  }

  /** Publishes the device's reading: called every period once started. */
  protected abstract tick(): void;

  /** The device's own part of its status. */
  protected abstract state(): Record<string, unknown>;

  async start(): Promise<boolean> {
    this.task = this.rt.scheduler.every(this.periodMs, () => this.tick(), hashString(this.thingName) % this.periodMs);
    return this.rt.start();
  }

  async stop(): Promise<void> {
    this.task?.cancel();
    await this.rt.stop();
  }

  status(): DeviceStatus {
    return { thingName: this.thingName, mode: this.mode, ...this.rt.status(), state: this.state() };
  }
}
