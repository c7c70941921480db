// Imported first by `bin/local.ts`: modules read these when they load.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
// the SDK's notice that it will need Node 22 from 2027 (the Lambdas already run nodejs22.x)
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** The ports `npm start` binds, by the variable that sets each (0: a free port; the HTTPS publish port is then free too). */
export const DEFAULT_PORTS = { VPP_HTTP_PORT: 3000, VPP_MQTT_PORT: 8883, VPP_HTTPS_PORT: 8443 } as const;
