/** The application frame: navigation, keyboard shortcuts, and the page of the current address. */
import { lazy, Suspense, useEffect, useState } from 'react';
import { InstancesPage } from '../instances/InstancesPage.tsx';
import { RunsPage } from '../runs/RunsPage.tsx';
import { SchedulesPage } from '../schedules/SchedulesPage.tsx';
import { PipelinePage } from '../pipelines/PipelinePage.tsx';
import { useCapabilities } from '../shared/capabilities-context.tsx';
import { Empty, Loading } from '../shared/states.tsx';

// The pages with the graph (and, for Submit, the validator) load when first visited.
const RunPage = lazy(async () => ({ default: (await import('../run/RunPage.tsx')).RunPage }));
const SubmitPage = lazy(async () => ({
  default: (await import('../submit/SubmitPage.tsx')).SubmitPage,
}));
import { Link, navigate, useLocation } from './router.tsx';
import {
  instancesHref,
  matchRoute,
  runsHref,
  schedulesHref,
  submitHref,
  type Route,
} from './routes.ts';
import { Shortcuts, useShortcuts } from './Shortcuts.tsx';
import { SignIn, SignOut, useSignInPrompt } from './SignIn.tsx';

function Page({ route }: { route: Route }) {
  const capabilities = useCapabilities();
  switch (route.page) {
    case 'runs':
      return <RunsPage />;
    case 'run':
      return <RunPage key={route.uid} uid={route.uid} job={route.job} view={route.view} />;
    case 'submit':
      return <SubmitPage />;
    case 'pipeline':
      return <PipelinePage key={route.name} name={route.name} />;
    case 'schedules':
      return capabilities.schedules ? <SchedulesPage /> : <NotServed what="Schedules" />;
    case 'instances':
      return capabilities.instances ? <InstancesPage /> : <NotServed what="Instances" />;
    case 'not-found':
      return (
        <Empty title="There is no page at this address">
          <span className="mono">{route.path}</span>
          <Link href={runsHref()} className="button">
            All runs
          </Link>
        </Empty>
      );
  }
}

function NotServed({ what }: { what: string }) {
  return (
    <Empty title={`${what} are not available`}>
      <span>This chainr API does not serve them (yet).</span>
    </Empty>
  );
}

function NavLink({ href, active, children }: { href: string; active: boolean; children: string }) {
  return (
    <Link
      href={href}
      className={`nav-link ${active ? 'active' : ''}`}
      aria-current={active ? 'page' : undefined}
    >
      {children}
    </Link>
  );
}

export function App() {
  const { pathname, search } = useLocation();
  const route = matchRoute(pathname, search);
  const capabilities = useCapabilities();
  const [help, setHelp] = useState(false);
  const [signIn, closeSignIn] = useSignInPrompt();
  useShortcuts({ onHelp: () => setHelp(true), navigate });
  useEffect(() => {
    window.scrollTo(0, 0);
  }, [route.page]);
  return (
    <div className="app">
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="topbar">
        <Link href={runsHref()} className="brand" aria-label="chainr, all runs">
          <span className="brand-mark" aria-hidden="true" />
          chainr
        </Link>
        <nav className="nav" aria-label="Main">
          <NavLink href={runsHref()} active={route.page === 'runs' || route.page === 'run'}>
            Runs
          </NavLink>
          <NavLink href={submitHref} active={route.page === 'submit'}>
            Submit
          </NavLink>
          {capabilities.schedules && (
            <NavLink href={schedulesHref} active={route.page === 'schedules'}>
              Schedules
            </NavLink>
          )}
          {capabilities.instances && (
            <NavLink href={instancesHref} active={route.page === 'instances'}>
              Instances
            </NavLink>
          )}
        </nav>
        <div className="spacer" />
        <button
          type="button"
          className="icon-button"
          onClick={() => setHelp(true)}
          aria-label="Keyboard shortcuts"
          title="Keyboard shortcuts (?)"
        >
          ⌨
        </button>
        <SignOut />
      </header>
      <main id="main" className="main">
        <Suspense fallback={<Loading what="the page" />}>
          <Page route={route} />
        </Suspense>
      </main>
      {help && <Shortcuts onClose={() => setHelp(false)} />}
      {signIn && <SignIn onClose={closeSignIn} />}
    </div>
  );
}
