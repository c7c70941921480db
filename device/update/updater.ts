// Agent updates over IoT Jobs (device side): takes the next job on `$aws/things/{thing}/jobs/…`, downloads the
// release its document names, checks its sha256 and signature, swaps it in and restarts through the launcher. The
// new version proves itself (connected, its shadow report accepted) before it reports SUCCEEDED; a version that
// fails is rolled back by the launcher and the previous one reports FAILED with the reason.
import { randomUUID, type KeyObject } from 'node:crypto';
import {
  agentUpdateDocumentSchema,
  jobExecutionSchema,
  type JobExecution,
  type JobUpdateRequest,
} from '../../lambdas/core/contracts/agent-update.js';
import { parse } from '../../lambdas/core/contracts/schemas.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import type { DeviceRuntime } from '../runtime.js';
import { artifactProblem, checkManifest, download } from './artifact.js';
import { clearState, readState, RESTART_EXIT_CODE, rollBack, swapIn, type UpdateState } from './install-dir.js';

const ANSWER_TIMEOUT_MS = 30_000;

export interface UpdaterOptions {
  readonly runtime: DeviceRuntime;
  readonly thingName: string;
  /** The launcher's folder (device/update/install-dir.ts). */
  readonly installDir: string;
  readonly releaseKey: KeyObject;
  /** This process's version. */
  readonly version: string;
  /** A new version not healthy by then exits, and the launcher rolls it back. */
  readonly healthTimeoutMs: number;
  /** Stops the agent in order and hands over to the launcher: exit RESTART_EXIT_CODE, or 1 when unhealthy. */
  readonly exit: (code: number) => void;
}

export class AgentUpdater {
  private readonly rt: DeviceRuntime;
  private busy = false;
  private healthy: Promise<void> | undefined;
  private healthToken = '';
  private healthTimer: NodeJS.Timeout | undefined;
  private confirmHealth: (() => void) | undefined;
  /** Status updates awaiting IoT's answer, by clientToken. */
  private readonly answers = new Map<string, (accepted: boolean) => void>();

  constructor(private readonly o: UpdaterOptions) {
    this.rt = o.runtime;
    const jobs = (op: Parameters<typeof topics.jobs>[1]) => topics.jobs(o.thingName, op);
    this.rt.on(jobs('notify-next'), (p) => this.onExecution(p));
    this.rt.on(jobs('$next/get/accepted'), (p) => this.onExecution(p));
    this.rt.on(jobs('$next/get/rejected'), (p) =>
      this.rt.log.warn('jobs: $next/get rejected', { response: p.slice(0, 512) }),
    );
    this.rt.on(jobs('+/update/accepted'), (p) => this.onAnswer(p, true));
    this.rt.on(jobs('+/update/rejected'), (p) => this.onAnswer(p, false));
    this.rt.on(topics.shadow(o.thingName, 'update/accepted'), (p) => this.onShadowAccepted(p));
    const state = readState(o.installDir);
    if (state?.phase === 'pending') this.awaitHealth(state);
    this.rt.onOnline(() => void this.online(readState(o.installDir)));
  }

  private awaitHealth(state: UpdateState): void {
    this.healthy = new Promise<void>((resolve) => (this.confirmHealth = resolve));
    this.healthTimer = setTimeout(() => {
      this.rt.log.error('update: health check failed, handing back to the launcher', {
        version: this.o.version,
        jobId: state.jobId,
      });
      this.o.exit(1);
    }, this.o.healthTimeoutMs);
    this.healthTimer.unref();
  }

  private async online(state: UpdateState | undefined): Promise<void> {
    try {
      if (state?.phase === 'pending' && state.version === this.o.version) return await this.checkHealth(state);
      if (state?.phase === 'pending') return this.restorePrevious(state);
      if (state) return await this.reportOutcome(state, undefined);
      this.rt.outbox.sendLive(
        topics.jobs(this.o.thingName, '$next/get'),
        JSON.stringify({ clientToken: randomUUID() }),
        1,
      );
    } catch (error) {
      this.rt.log.error('update: report failed', { error: String(error) });
    }
  }

  /** The file swapped in is not the version the job named: the previous file back, and started again to report it. */
  private restorePrevious(state: UpdateState): void {
    clearTimeout(this.healthTimer);
    const reason = `the installed file runs version ${this.o.version}, not the ${state.version} the job named: restored ${state.from}`;
    this.rt.log.error('update: wrong version installed, restoring the previous file', {
      jobId: state.jobId,
      version: this.o.version,
      expected: state.version,
    });
    if (!rollBack(this.o.installDir, reason)) return void this.reportOutcome(state, undefined);
    this.o.exit(RESTART_EXIT_CODE);
  }

  /** Health: connected (we are called online) and a shadow report of our version accepted by the shadow service. */
  private async checkHealth(state: UpdateState): Promise<void> {
    this.healthToken = randomUUID();
    const report = { state: { reported: { agentVersion: this.o.version } }, clientToken: this.healthToken };
    await this.rt.connection.publish(topics.shadow(this.o.thingName, 'update'), JSON.stringify(report), 1);
    await this.healthy;
    clearTimeout(this.healthTimer);
    await this.reportOutcome(state, 'healthy');
  }

  private onShadowAccepted(payload: string): void {
    const token = (JSON.parse(payload) as { clientToken?: unknown }).clientToken;
    if (this.healthToken && token === this.healthToken) this.confirmHealth?.();
  }

  private async reportOutcome(state: UpdateState, healthy: 'healthy' | undefined): Promise<void> {
    const succeeded = healthy === 'healthy' && state.phase === 'pending';
    const reason =
      state.phase === 'rolled-back'
        ? state.reason
        : `version ${state.version} did not start; running ${this.o.version}`;
    // the next execution is asked for only once IoT has answered this report: asked before, it can still be this one,
    // IN_PROGRESS at the version it now runs, and "taking" it again would report SUCCEEDED from the wrong version
    await this.report(
      state.jobId,
      succeeded
        ? { status: 'SUCCEEDED', statusDetails: { version: this.o.version, from: state.from } }
        : { status: 'FAILED', statusDetails: { version: this.o.version, attempted: state.version, reason } },
      true,
    );
    clearState(this.o.installDir);
    this.rt.log.info(succeeded ? 'update: succeeded' : 'update: rolled back', {
      jobId: state.jobId,
      version: this.o.version,
    });
    this.rt.outbox.sendLive(
      topics.jobs(this.o.thingName, '$next/get'),
      JSON.stringify({ clientToken: randomUUID() }),
      1,
    );
  }

  private onAnswer(payload: string, accepted: boolean): void {
    const body = JSON.parse(payload) as { clientToken?: string; code?: string; message?: string };
    if (!accepted) this.rt.log.warn('jobs: update rejected', { code: body.code, reason: body.message });
    if (body.clientToken) this.answers.get(body.clientToken)?.(accepted);
  }

  private onExecution(payload: string): void {
    const execution = (JSON.parse(payload) as { execution?: unknown }).execution;
    if (execution === undefined || this.busy || readState(this.o.installDir)) return;
    const parsed = parse(jobExecutionSchema, execution);
    if (!parsed.ok) return this.rt.log.warn('jobs: unreadable execution', { error: parsed.message });
    this.busy = true;
    this.take(parsed.value)
      .catch((error: unknown) =>
        this.rt.log.error('update: failed', { jobId: parsed.value.jobId, error: String(error) }),
      )
      .finally(() => (this.busy = false));
  }

  private async take(execution: JobExecution): Promise<unknown> {
    const { jobId } = execution;
    const doc = parse(agentUpdateDocumentSchema, execution.jobDocument);
    if (!doc.ok)
      return this.report(jobId, { status: 'REJECTED', statusDetails: { reason: `job document ${doc.message}` } });
    const { version } = doc.value;
    const checked = checkManifest(doc.value, this.o.version, this.o.releaseKey);
    if ('manifest' in checked && version === this.o.version)
      return this.report(jobId, { status: 'SUCCEEDED', statusDetails: { version, from: version } });
    // claim it at the version we saw: a stale copy of an execution (a QoS 1 redelivery after a restart, one that has
    // ended meanwhile) is refused by IoT, and we do not act on it
    const claimed = await this.report(
      jobId,
      {
        status: 'IN_PROGRESS',
        statusDetails: { step: 'downloading', version },
        expectedVersion: execution.versionNumber,
      },
      true,
    );
    if (!claimed) return this.rt.log.warn('update: job not claimed (ended or changed meanwhile)', { jobId });
    if ('problem' in checked) {
      this.rt.log.warn('update: refused', { jobId, version, reason: checked.problem });
      return this.report(jobId, {
        status: 'FAILED',
        statusDetails: { version: this.o.version, attempted: version, reason: checked.problem },
      });
    }
    this.rt.log.info('update: taking job', { jobId, version, from: this.o.version });
    let bytes: Buffer;
    try {
      bytes = await download(doc.value.url);
    } catch (error) {
      return this.report(jobId, {
        status: 'FAILED',
        statusDetails: { version: this.o.version, attempted: version, reason: String(error) },
      });
    }
    const problem = artifactProblem(bytes, doc.value, this.o.releaseKey);
    if (problem)
      return this.report(jobId, {
        status: 'FAILED',
        statusDetails: { version: this.o.version, attempted: version, reason: problem },
      });
    swapIn(this.o.installDir, bytes, { jobId, version, from: this.o.version });
    await this.report(jobId, { status: 'IN_PROGRESS', statusDetails: { step: 'restarting', version } });
    this.rt.log.info('update: swapped in, restarting', { jobId, version });
    this.o.exit(RESTART_EXIT_CODE);
  }

  /** Publishes a status update; with `answer`, resolves whether IoT accepted it (false after ANSWER_TIMEOUT_MS). */
  private async report(jobId: string, update: Omit<JobUpdateRequest, 'clientToken'>, answer = false): Promise<boolean> {
    // IoT takes status detail values of up to 1,024 characters: a long error must not get the report refused
    const statusDetails =
      update.statusDetails &&
      Object.fromEntries(Object.entries(update.statusDetails).map(([k, v]) => [k, v.slice(0, 1000)]));
    const body: JobUpdateRequest = { ...update, ...(statusDetails && { statusDetails }), clientToken: randomUUID() };
    const answered = answer
      ? new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), ANSWER_TIMEOUT_MS);
          this.answers.set(body.clientToken!, (accepted) => {
            clearTimeout(timer);
            resolve(accepted);
          });
        }).finally(() => this.answers.delete(body.clientToken!))
      : Promise.resolve(true);
    await this.rt.connection.publish(topics.jobs(this.o.thingName, `${jobId}/update`), JSON.stringify(body), 1);
    return answered;
  }
}
