// The program port: DR programs by id, written with optimistic versions (a PATCH or DELETE that raced another loses).
import type { Page } from '../common/page.js';
import type { Program } from '../contracts/programs.js';

export interface ProgramStore {
  /** Stores a new program; false when its id is taken. */
  create(program: Program): Promise<boolean>;
  get(programId: string): Promise<Program | undefined>;
  /** Replaces a program whose stored version is `expectedVersion`; false otherwise (changed or deleted meanwhile). */
  replace(program: Program, expectedVersion: number): Promise<boolean>;
  /** Deletes a program whose stored version is `expectedVersion`; false otherwise. */
  delete(programId: string, expectedVersion: number): Promise<boolean>;
  /** The stored programs, in no particular order. */
  list(page: { limit: number; next?: string }): Promise<Page<Program>>;
}
