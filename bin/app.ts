#!/usr/bin/env node
// `cdk synth` / `cdk deploy` entry point (cdk.json): flags are read from context, e.g. `-c timeseries=dynamodb`.
// The dashboard is built first when web/dist is missing or stale, so a deploy always publishes the current build.
import { createVppApp } from '../lib/vpp-app.js';
import { ensureWebBuild } from '../web/build.js';

await ensureWebBuild((line) => console.error(line));
createVppApp();
