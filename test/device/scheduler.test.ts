import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Scheduler } from '../../device/scheduler.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Scheduler', () => {
  it('runs each task every period after its phase', () => {
    const s = new Scheduler({ resolutionMs: 10 });
    const runs: string[] = [];
    s.every(100, () => runs.push('a'), 30);
    s.every(50, () => runs.push('b'));
    vi.advanceTimersByTime(29);
    expect(runs).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(runs).toEqual(['a']);
    vi.advanceTimersByTime(220);
    expect(runs.filter((r) => r === 'a')).toHaveLength(3);
    expect(runs.filter((r) => r === 'b')).toHaveLength(5);
    s.stop();
  });

  it('uses one timer for a thousand tasks', () => {
    const s = new Scheduler({ resolutionMs: 100 });
    let n = 0;
    for (let i = 0; i < 1000; i++) s.every(5000, () => n++, (i * 5) % 5000);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(10_000);
    expect(n).toBe(2000);
    s.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('cancel stops a task, and the timer goes when none is left', () => {
    const s = new Scheduler({ resolutionMs: 10 });
    let n = 0;
    const task = s.every(20, () => n++);
    vi.advanceTimersByTime(40);
    task.cancel();
    vi.advanceTimersByTime(100);
    expect(n).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reschedule changes the period from the next run', () => {
    const s = new Scheduler({ resolutionMs: 10 });
    let n = 0;
    const task = s.every(100, () => n++);
    vi.advanceTimersByTime(100);
    task.reschedule(20);
    vi.advanceTimersByTime(100);
    expect(n).toBe(1 + 1 + 4);
    s.stop();
  });

  it('after a blocked event loop, runs once and keeps a full period before the next run (no burst)', () => {
    let now = 1_000_000;
    const s = new Scheduler({ resolutionMs: 100, now: () => now });
    const runs: number[] = [];
    s.every(1000, () => runs.push(now));
    now += 3500; // the loop was blocked for 3.5 s
    vi.advanceTimersByTime(100);
    for (let i = 0; i < 30; i++) {
      now += 100;
      vi.advanceTimersByTime(100);
    }
    expect(runs.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < runs.length; i++) expect(runs[i]! - runs[i - 1]!).toBeGreaterThanOrEqual(1000);
    s.stop();
  });

  it('a task that throws is reported and keeps its schedule', () => {
    const errors: unknown[] = [];
    const s = new Scheduler({ resolutionMs: 10, onError: (e) => errors.push(e) });
    s.every(10, () => {
      throw new Error('boom');
    });
    vi.advanceTimersByTime(30);
    expect(errors).toHaveLength(3);
    s.stop();
  });
});
