// The frame: navigation, the live-feed indicator, and the view of the current route.
import { AlarmBanner, AlarmCount, OutageBanner, useAlarms } from './components/alarms.js';
import { ConnectionIndicator } from './components/ui.js';
import { useApp, useLive } from './context.js';
import { useRoute, type Route } from './router.js';
import { EventDetail, Events } from './views/events.js';
import { lazy } from './components/lazy.js';
import { Overview } from './views/overview.js';
import { Refused } from './views/refused.js';
import { SiteDetail, Sites } from './views/sites.js';
import { VenDetail } from './views/ven.js';
import { WinterRiver } from './views/winter-river.js';
import { Edge } from './views/edge.js';

const Ledger = lazy(() => import('./views/ledger.js').then((m) => m.Ledger));
const NodeDetail = lazy(() => import('./views/analytics.js').then((m) => m.NodeDetail));
const PortfolioAnalytics = lazy(() => import('./views/analytics.js').then((m) => m.PortfolioAnalytics));
const FleetQualityView = lazy(() => import('./views/quality.js').then((m) => m.FleetQualityView));

const NAV: { href: string; label: string; views: Route['view'][] }[] = [
  { href: '/', label: 'Overview', views: ['overview', 'ven'] },
  { href: '/events', label: 'DR events', views: ['events', 'event'] },
  { href: '/sites', label: 'Sites', views: ['sites', 'site'] },
  { href: '/winter-river', label: 'Winter River', views: ['winter-river'] },
  { href: '/edge', label: 'Edge nodes', views: ['edge'] },
  { href: '/refused', label: 'Refused input', views: ['refused'] },
  { href: '/analytics', label: 'Analytics', views: ['analytics', 'node'] },
  { href: '/data-quality', label: 'Data quality', views: ['quality'] },
  { href: '/ledger', label: 'Ledger', views: ['ledger'] },
];

export function App() {
  const route = useRoute();
  const live = useLive();
  const { session } = useApp();
  const alarms = useAlarms(live);
  const down = live.apiDownSince !== undefined;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">VPP</span>
        <nav aria-label="Views">
          {NAV.map((n) => (
            <a href={n.href} aria-current={n.views.includes(route.view) ? 'page' : undefined}>
              {n.label}
            </a>
          ))}
          <AlarmCount alarms={alarms} />
        </nav>
        <ConnectionIndicator
          state={down ? 'unreachable' : live.connection}
          detail={live.connectionDetail}
          since={live.apiDownSince}
        />
        <button type="button" class="link" onClick={() => session.signOut()}>
          Sign out
        </button>
      </header>
      <OutageBanner live={live} />
      <AlarmBanner alarms={alarms} />
      <main
        id="main"
        tabIndex={-1}
        class={down ? 'stale-data' : undefined}
        aria-describedby={down ? 'outage' : undefined}
      >
        <View route={route} />
      </main>
    </>
  );
}

function View({ route }: { route: Route }) {
  switch (route.view) {
    case 'overview':
    case 'signin':
      return <Overview />;
    case 'ven':
      return <VenDetail key={route.venId} venId={route.venId} />;
    case 'events':
      return <Events />;
    case 'event':
      return <EventDetail key={route.eventId} eventId={route.eventId} />;
    case 'sites':
      return <Sites />;
    case 'site':
      return <SiteDetail key={route.siteId} siteId={route.siteId} />;
    case 'winter-river':
      return <WinterRiver />;
    case 'edge':
      return <Edge />;
    case 'refused':
      return <Refused />;
    case 'node':
      return <NodeDetail key={route.nodeId} nodeId={route.nodeId} />;
    case 'analytics':
      return <PortfolioAnalytics />;
    case 'quality':
      return <FleetQualityView />;
    case 'ledger':
      return <Ledger key={route.nodeId} nodeId={route.nodeId} />;
    case 'not-found':
      return (
        <>
          <h1>Not found</h1>
          <p>
            Nothing lives at {route.path}. <a href="/">Go to the overview</a>.
          </p>
        </>
      );
  }
}
