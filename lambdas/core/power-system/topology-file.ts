// Reads a topology file from disk (the local stack, the CDK app at synth): refused with the reason and the file named.
import { readFileSync } from 'node:fs';
import { parseTopology, type Topology } from './topology.js';

export function loadTopologyFile(file: string): Topology {
  const parsed = parseTopology(readFileSync(file, 'utf8'));
  if (!parsed.ok) throw new Error(`${file}: ${parsed.message}`);
  return parsed.topology;
}
