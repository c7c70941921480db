// Reads a topology file from disk (the local stack, the CDK app at synth): refused with the reason and the file named.
// YAML is parsed only here: the Lambdas get the checked topology as JSON (topologyJson), so their bundles carry no
// YAML parser.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { checkTopology, fail, type Topology, type TopologyResult } from '../contracts/topology.js';

export function parseTopology(text: string): TopologyResult {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    return fail('(root)', `not YAML: ${(error as Error).message}`);
  }
  return checkTopology(raw);
}

export function loadTopologyFile(file: string): Topology {
  const parsed = parseTopology(readFileSync(file, 'utf8'));
  if (!parsed.ok) throw new Error(`${file}: ${parsed.message}`);
  return parsed.topology;
}
