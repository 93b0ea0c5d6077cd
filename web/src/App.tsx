import { type ReactNode, useEffect } from 'react';
import { Layout, useTitle } from './components/Layout';
import { Spinner } from './components/Spinner';
import { AnnouncerProvider } from './lib/announcer';
import { AuthProvider, useAuth } from './lib/auth';
import { LiveEventsProvider } from './lib/live';
import { Link, matchPath, navigate, useLocation } from './lib/router';
import { type Services, ServicesProvider } from './lib/services';
import { UnsentUploadsProvider, UploadsProvider } from './lib/uploads';
import type { User } from './api/types';
import { AuthPage } from './pages/AuthPage';
import { Gallery } from './pages/Gallery';
import { ImageDetail } from './pages/ImageDetail';
import { Landing } from './pages/Landing';
import { Ops } from './pages/Ops';
import { Settings } from './pages/Settings';

function NotFound() {
  useTitle('Not found');
  return (
    <section className="card empty-state">
      <h1>Page not found</h1>
      <p className="muted">There is nothing at this address.</p>
      <Link to="/" className="button">
        Go to the start page
      </Link>
    </section>
  );
}

/** Pages for logged-in users: visitors are sent to log in and brought back after. */
function RequireUser({ children }: { children: ReactNode }) {
  const { state } = useAuth();
  const { href } = useLocation();
  useEffect(() => {
    if (state.status === 'anonymous') navigate(`/login?next=${encodeURIComponent(href)}`, { replace: true });
  }, [state.status, href]);
  if (state.status !== 'authenticated') return <Spinner label="Checking your session" />;
  return <>{children}</>;
}

export function Routes() {
  // `/settings/` is `/settings`, as `/images/:id/` is `/images/:id`.
  const pathname = useLocation().pathname.replace(/(.)\/+$/, '$1');
  const { state } = useAuth();
  if (pathname === '/') return <Landing />;
  if (pathname === '/login' || pathname === '/signup') {
    if (state.status === 'loading') return <Spinner label="Checking your session" />;
    return <AuthPage key={pathname} mode={pathname === '/login' ? 'login' : 'signup'} />;
  }
  if (pathname === '/gallery') {
    return (
      <RequireUser>
        <Gallery />
      </RequireUser>
    );
  }
  const image = matchPath('/images/:id', pathname);
  if (image) {
    return (
      <RequireUser>
        <ImageDetail key={image.id} id={image.id} />
      </RequireUser>
    );
  }
  if (pathname === '/settings') {
    return (
      <RequireUser>
        <Settings />
      </RequireUser>
    );
  }
  if (pathname === '/ops') {
    return (
      <RequireUser>
        <Ops />
      </RequireUser>
    );
  }
  return <NotFound />;
}

/** Per-user state (the upload list) starts afresh when another user logs in. */
function UserScoped({ children }: { children: ReactNode }) {
  const { user } = useAuth();
  return <UploadsProvider key={user ? String(user.id) : 'anonymous'}>{children}</UploadsProvider>;
}

export function App({ services, initialUser }: { services?: Partial<Services>; initialUser?: User | null }) {
  return (
    <ServicesProvider value={services}>
      <AnnouncerProvider>
        <AuthProvider initialUser={initialUser}>
          <LiveEventsProvider>
            {/* The layout stays across log-in and log-out, so focus can move to its <main>. */}
            <UnsentUploadsProvider>
              <Layout>
                <UserScoped>
                  <Routes />
                </UserScoped>
              </Layout>
            </UnsentUploadsProvider>
          </LiveEventsProvider>
        </AuthProvider>
      </AnnouncerProvider>
    </ServicesProvider>
  );
}
