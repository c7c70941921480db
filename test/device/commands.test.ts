import { describe, expect, it } from 'vitest';
import { readCommand, rejection } from '../../device/commands.js';
import { ackSchema, parse } from '../../lambdas/core/contracts/schemas.js';
import { fixtureText } from '../fixture.js';

const NOW = 1_729_700_000_000;

describe('readCommand', () => {
  it.each(['volttron-event-command', 'volttron-restore-command', 'volttron-ping-command'])('accepts %s', (name) => {
    expect(readCommand(fixtureText(name), NOW)).toMatchObject({ ok: true });
  });

  it('refuses an event with a bad field, with a rejected ACK that names the field and validates', () => {
    const result = readCommand(
      JSON.stringify({ op: 'event', event_id: 'e1', shed_kw: -2, duration_sec: 60, correlationId: 'c1' }),
      NOW,
    );
    expect(result).toMatchObject({ ok: false, correlationId: 'c1', message: expect.stringMatching(/^shed_kw:/) });
    if (result.ok) return;
    expect(result.reply).toMatchObject({
      op: 'event',
      status: 'rejected',
      event_id: 'e1',
      requested_shed_kw: 0,
      actual_shed_kw: 0,
      correlationId: 'c1',
      ts: NOW / 1000,
    });
    expect(result.reply && 'reason' in result.reply && result.reply.reason).toMatch(/shed_kw/);
    expect(parse(ackSchema, result.reply)).toMatchObject({ ok: true });
  });

  it('an event without event_id still gets a rejected ACK', () => {
    const result = readCommand(JSON.stringify({ op: 'event', shed_kw: 2, duration_sec: 60, correlationId: 'c1' }), NOW);
    expect(result).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^event_id:/),
      reply: { status: 'rejected', event_id: 'unknown', requested_shed_kw: 2 },
    });
  });

  it('a dispatch without a target gets a rejected dispatch ACK', () => {
    const result = readCommand(JSON.stringify({ op: 'dispatch', mw: 3, correlationId: 'c2', dispatch_id: 'd1' }), NOW);
    expect(result).toMatchObject({
      ok: false,
      reply: { op: 'dispatch', status: 'rejected', requested_mw: 3, split: [], dispatch_id: 'd1' },
    });
    expect(result.ok ? null : result.message).toMatch(/asset_id or site_id/);
  });

  it('a bad restore gets a failed ACK', () => {
    const result = readCommand(JSON.stringify({ op: 'restore', correlationId: 'x'.repeat(129) }), NOW);
    expect(result).toMatchObject({ ok: false });
    expect(result.ok ? null : result.reply).toBeUndefined();
    const ok = readCommand(JSON.stringify({ op: 'restore', correlationId: 'c3', extra: 1 }), NOW);
    expect(ok).toMatchObject({ ok: true });
  });

  it.each([
    ['not JSON', '{op:', /not JSON/],
    ['no op', JSON.stringify({ correlationId: 'c' }), /op: required/],
    ['unknown op', JSON.stringify({ op: 'reboot', correlationId: 'c' }), /unknown op reboot/],
    ['no correlationId', JSON.stringify({ op: 'event', event_id: 'e', shed_kw: 1, duration_sec: 1 }), /correlationId/],
    ['an array', '[]', /op: required/],
  ])('%s: logged and dropped, no ACK', (_name, payload, message) => {
    const result = readCommand(payload, NOW);
    expect(result).toMatchObject({ ok: false, message: expect.stringMatching(message) });
    expect(result.ok ? null : result.reply).toBeUndefined();
  });
});

describe('rejection', () => {
  it('builds nothing for an op without an ACK shape', () => {
    expect(rejection('ping', {}, 'c', 'why', NOW)).toBeUndefined();
  });

  it('trims long reasons to the schema limit', () => {
    const ack = rejection('restore', {}, 'c', 'x'.repeat(2000), NOW);
    expect(ack && 'reason' in ack && ack.reason).toHaveLength(512);
  });
});
