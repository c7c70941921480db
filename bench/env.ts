// Imported first by bench/run.ts: modules read these when they load. The stacks the benchmarks start log errors only.
process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
// the SDK's notice that it will need Node 22 from 2027 (the Lambdas already run nodejs22.x)
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
