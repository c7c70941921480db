// Builds the dashboard once before any test file starts a local stack, so parallel files never race to build it.
import { ensureWebBuild } from '../web/build.js';

export default async function setup(): Promise<void> {
  await ensureWebBuild();
}
