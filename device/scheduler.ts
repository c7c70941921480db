// One timer for many devices: periodic tasks sit in slots of a wheel driven by a single interval, so a
// thousand simulated VENs cost one Node timer, and each task keeps its own phase (starts are staggered).

export interface ScheduledTask {
  cancel(): void;
  /** Changes the period; a shorter one takes effect at once (the next run comes within the new period). */
  reschedule(periodMs: number): void;
}

interface Entry {
  fn: () => void;
  periodSlots: number;
  dueSlot: number;
  cancelled: boolean;
  /** Bumped when the entry moves; older placements in the wheel are skipped. */
  placement: number;
}

interface Placed {
  readonly entry: Entry;
  readonly placement: number;
}

export interface SchedulerOptions {
  /** Slot width; periods and phases round up to it. */
  resolutionMs?: number;
  now?: () => number;
  onError?: (error: unknown) => void;
}

export class Scheduler {
  private readonly resolutionMs: number;
  private readonly now: () => number;
  private readonly onError: (error: unknown) => void;
  private readonly slots = new Map<number, Placed[]>();
  private timer: NodeJS.Timeout | undefined;
  private lastSlot: number;
  private size = 0;

  constructor(options: SchedulerOptions = {}) {
    this.resolutionMs = Math.max(1, options.resolutionMs ?? 100);
    this.now = options.now ?? Date.now;
    this.onError = options.onError ?? (() => {});
    this.lastSlot = this.currentSlot();
  }

  /** Runs `fn` every `periodMs`, the first time after `phaseMs` (default: one period). */
  every(periodMs: number, fn: () => void, phaseMs = periodMs): ScheduledTask {
    const entry: Entry = {
      fn,
      periodSlots: this.toSlots(periodMs),
      dueSlot: this.currentSlot() + this.toSlots(phaseMs),
      cancelled: false,
      placement: 0,
    };
    this.place(entry);
    this.size++;
    this.ensureTimer();
    return {
      cancel: () => {
        if (entry.cancelled) return;
        entry.cancelled = true;
        this.size--;
        if (this.size === 0) this.stop();
      },
      reschedule: (ms) => {
        entry.periodSlots = this.toSlots(ms);
        const sooner = this.currentSlot() + entry.periodSlots;
        if (!entry.cancelled && sooner < entry.dueSlot) {
          entry.dueSlot = sooner;
          entry.placement++;
          this.place(entry);
        }
      },
    };
  }

  get taskCount(): number {
    return this.size;
  }

  stop(): void {
    this.slots.clear();
    this.size = 0;
    this.stopTimer();
  }

  private tick(): void {
    const current = this.currentSlot();
    for (let slot = this.lastSlot + 1; slot <= current; slot++) {
      const due = this.slots.get(slot);
      if (!due) continue;
      this.slots.delete(slot);
      for (const { entry, placement } of due) {
        if (entry.cancelled || placement !== entry.placement) continue;
        try {
          entry.fn();
        } catch (error) {
          this.onError(error);
        }
        if (entry.cancelled) continue;
        // fixed delay from when it actually ran: a late tick (blocked event loop) never bunches runs together
        entry.dueSlot = current + entry.periodSlots;
        this.place(entry);
      }
    }
    this.lastSlot = current;
  }

  private place(entry: Entry): void {
    const placed = { entry, placement: entry.placement };
    const list = this.slots.get(entry.dueSlot);
    if (list) list.push(placed);
    else this.slots.set(entry.dueSlot, [placed]);
  }

  private toSlots(ms: number): number {
    return Math.max(1, Math.ceil(ms / this.resolutionMs));
  }

  private currentSlot(): number {
    return Math.floor(this.now() / this.resolutionMs);
  }

  private ensureTimer(): void {
    if (this.timer) return;
    this.lastSlot = this.currentSlot();
    this.timer = setInterval(() => this.tick(), this.resolutionMs);
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
