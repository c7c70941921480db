// `GET|POST /api/programs`, `GET|PATCH|DELETE /api/programs/{programId}`: DR programs (docs/api.md, "Programs").
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ValidationError } from '../core/contracts/errors.js';
import { PROGRAM_ID, programBodySchema, programPatchSchema } from '../core/contracts/programs.js';
import { createProgram, deleteProgram, getProgram, listPrograms, patchProgram } from '../core/programs/programs.js';
import { parseBody } from './body.js';
import { limitParam } from './params.js';
import type { ApiPorts } from './ports.js';
import type { Query } from './queries.js';
import { created } from './reply.js';

function programIdParam(value: string | undefined): string {
  if (!value || !PROGRAM_ID.test(value))
    throw new ValidationError('programId', 'programId: must be 1-64 characters of a-z 0-9 -');
  return value;
}

export const list = (ports: ApiPorts, query: Query) =>
  listPrograms(ports.programs, { limit: limitParam(query?.limit), ...(query?.next && { next: query.next }) });

export const create = async (ports: ApiPorts, event: APIGatewayProxyEventV2) =>
  created(await createProgram(ports.programs, parseBody(programBodySchema, event), Date.now(), randomUUID));

export const get = (ports: ApiPorts, programId: string | undefined) =>
  getProgram(ports.programs, programIdParam(programId));

export const patch = (ports: ApiPorts, programId: string | undefined, event: APIGatewayProxyEventV2) =>
  patchProgram(ports.programs, programIdParam(programId), parseBody(programPatchSchema, event), Date.now());

export const remove = (ports: ApiPorts, programId: string | undefined) =>
  deleteProgram(ports.programs, programIdParam(programId));
