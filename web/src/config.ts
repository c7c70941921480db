// What the page is told at start-up by `/config.json`: the local stack serves it itself, the CDK stack writes it
// beside the build (lib/dashboard.ts).

export interface LocalDashboardConfig {
  readonly mode: 'local';
  /** Empty: the API is on the page's own origin. */
  readonly apiUrl: string;
  /** Absolute, or a path on the page's own origin. */
  readonly wsUrl: string;
}

/** What lib/dashboard.ts writes for a deployed stack. */
export interface AwsDashboardConfig {
  readonly mode: 'aws';
  readonly apiUrl: string;
  readonly region: string;
  /** The account's `iot:Data-ATS` host: the live feed is `wss://<iotEndpoint>/mqtt?x-amz-customauthorizer-name=…&token=…`. */
  readonly iotEndpoint: string;
  readonly iotAuthorizerName: string;
  readonly userPoolId: string;
  readonly userPoolClientId: string;
  /** The user pool's hosted domain, `https://<prefix>.auth.<region>.amazoncognito.com`. */
  readonly authDomain: string;
}

export type DashboardConfig = LocalDashboardConfig | AwsDashboardConfig;

export async function loadConfig(): Promise<DashboardConfig> {
  const res = await fetch('/config.json', { cache: 'no-store' });
  if (!res.ok) throw new Error(`/config.json answered ${res.status}`);
  const config = (await res.json()) as Partial<DashboardConfig>;
  // A stack deployed before `mode` existed wrote the AWS shape without it.
  return (config.mode ? config : { ...config, mode: 'aws' }) as DashboardConfig;
}

/** The live feed's WebSocket URL: the local broker's `/mqtt`, or IoT Core through the custom authorizer. */
export function liveUrl(config: DashboardConfig, token: string): string {
  if (config.mode === 'local') return new URL(config.wsUrl, location.href.replace(/^http/, 'ws')).href;
  const query = new URLSearchParams({ 'x-amz-customauthorizer-name': config.iotAuthorizerName, token });
  return `wss://${config.iotEndpoint}/mqtt?${query}`;
}
