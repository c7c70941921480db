// The agent's version: `npm run release:agent` writes it into the bundle; `dev` when run from source.
declare const __AGENT_VERSION__: string | undefined;

export const AGENT_VERSION: string = typeof __AGENT_VERSION__ === 'string' ? __AGENT_VERSION__ : 'dev';
