#!/usr/bin/env node
// `cdk synth` / `cdk deploy` entry point (cdk.json): flags are read from context, e.g. `-c timeseries=dynamodb`.
import { createVppApp } from '../lib/vpp-app.js';

createVppApp();
