import { type ReactNode, useEffect, useRef, useState } from 'react';
import { useAuth } from '../lib/auth';
import { useConnectionState } from '../lib/live';
import { Link, navigate, useLocation } from '../lib/router';
import { useUnsentUploads } from '../lib/uploads';
import { ConfirmDialog } from './Dialog';
import { Icon } from './Icon';

export function useTitle(title: string) {
  useEffect(() => {
    document.title = title ? `${title} · Argus` : 'Argus';
  }, [title]);
}

/** `section`: other paths that belong to the link's page, such as a photo's to the gallery. */
function NavLink({
  to,
  section,
  children,
  onClick,
}: {
  to: string;
  section?: string;
  children: ReactNode;
  onClick?(): void;
}) {
  const { pathname } = useLocation();
  const inSection = pathname.startsWith(`${to}/`) || (section !== undefined && pathname.startsWith(section));
  return (
    <Link
      to={to}
      className="nav-link"
      aria-current={pathname === to ? 'page' : inSection ? 'true' : undefined}
      onClick={onClick}
    >
      {children}
    </Link>
  );
}

/** A file dragged over the app and dropped outside an upload area must not replace the app. */
function useNoFileNavigation() {
  useEffect(() => {
    const refuse = (event: DragEvent) => {
      if (event.dataTransfer?.types?.includes('Files')) event.preventDefault();
    };
    window.addEventListener('dragover', refuse);
    window.addEventListener('drop', refuse);
    return () => {
      window.removeEventListener('dragover', refuse);
      window.removeEventListener('drop', refuse);
    };
  }, []);
}

function LiveIndicator() {
  const state = useConnectionState();
  const text = state === 'open' ? 'Live' : state === 'connecting' ? 'Connecting' : 'Offline';
  return (
    <span className={`live live-${state}`} title={`Live updates: ${text.toLowerCase()}`}>
      <span className="live-dot" aria-hidden="true" />
      {/* Read out when it changes: losing the server is news. */}
      <span className="live-text" aria-live="polite">
        {text}
      </span>
    </span>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const { user, logout } = useAuth();
  const { pathname } = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const main = useRef<HTMLElement>(null);
  const toggle = useRef<HTMLButtonElement>(null);
  const first = useRef(true);
  useNoFileNavigation();

  // Move focus to the new page's content after client-side navigation.
  useEffect(() => {
    setMenuOpen(false);
    if (first.current) {
      first.current = false;
      return;
    }
    // A page that put the focus somewhere in itself (the gallery, back on the card that was
    // opened) keeps it there.
    const focused = document.activeElement;
    if (focused && focused !== main.current && main.current?.contains(focused)) return;
    main.current?.focus({ preventScroll: true });
  }, [pathname]);

  useEffect(() => {
    if (!menuOpen) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      setMenuOpen(false);
      toggle.current?.focus();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [menuOpen]);

  const close = () => setMenuOpen(false);
  // A log-out the server did not take leaves the session open: the user must know, and stay.
  const [logoutFailed, setLogoutFailed] = useState(false);
  // Logging out ends the uploads under way (the next user of the browser must not send
  // into this account): the files not yet sent are the user's to keep or let go.
  const unsent = useUnsentUploads();
  const [confirmingLogout, setConfirmingLogout] = useState(false);
  const [loggingOut, setLoggingOut] = useState(false);
  // Sent meanwhile, nothing is left to cancel: the question goes (Log out again to leave).
  useEffect(() => {
    if (unsent === 0) setConfirmingLogout(false);
  }, [unsent]);
  const onLogout = async (confirmed = false) => {
    close();
    if (unsent > 0 && !confirmed) {
      setConfirmingLogout(true);
      return;
    }
    setConfirmingLogout(false);
    setLogoutFailed(false);
    setLoggingOut(true);
    try {
      await logout();
    } catch {
      setLogoutFailed(true);
      return;
    } finally {
      setLoggingOut(false);
    }
    navigate('/login');
  };

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar-inner">
          <Link to={user ? '/gallery' : '/'} className="brand" aria-label="Argus home">
            <span className="brand-mark">
              <Icon name="logo" size={22} />
            </span>
            <span className="brand-name">Argus</span>
          </Link>
          {user && <LiveIndicator />}
          <button
            ref={toggle}
            type="button"
            className="icon-button menu-toggle"
            aria-expanded={menuOpen}
            aria-controls="main-nav"
            onClick={() => setMenuOpen((open) => !open)}
          >
            <Icon name={menuOpen ? 'x' : 'menu'} />
            <span className="visually-hidden">Menu</span>
          </button>
          <nav
            id="main-nav"
            className={`nav${menuOpen ? ' open' : ''}`}
            aria-label="Main"
            onBlur={(event) => {
              // Tabbing on out of the phone menu closes it: the page it covers takes the focus.
              const next = event.relatedTarget;
              if (next instanceof Node && (event.currentTarget.contains(next) || toggle.current?.contains(next))) return;
              if (next) setMenuOpen(false);
            }}
          >
            {user ? (
              <>
                <NavLink to="/gallery" section="/images/" onClick={close}>
                  Gallery
                </NavLink>
                <NavLink to="/settings" onClick={close}>
                  Settings
                </NavLink>
                {user.is_admin && (
                  <NavLink to="/ops" onClick={close}>
                    Ops
                  </NavLink>
                )}
                <span className="nav-user muted small" title={user.email}>
                  {user.email}
                </span>
                <button type="button" className="button ghost small" onClick={() => onLogout()} disabled={loggingOut}>
                  Log out
                </button>
                {logoutFailed && (
                  <span role="alert" className="nav-error small">
                    Not logged out: the server cannot be reached. Try again in a moment.
                  </span>
                )}
              </>
            ) : (
              <>
                <NavLink to="/login" onClick={close}>
                  Log in
                </NavLink>
                <Link to="/signup" className="button primary small" onClick={close}>
                  Sign up
                </Link>
              </>
            )}
          </nav>
        </div>
      </header>
      {confirmingLogout && (
        <ConfirmDialog
          title="Log out now?"
          message={`${unsent === 1 ? '1 photo has' : `${unsent} photos have`} not been sent yet. Logging out cancels ${
            unsent === 1 ? 'it' : 'them'
          }.`}
          confirmLabel="Log out and cancel"
          busyLabel="Logging out…"
          onConfirm={() => onLogout(true)}
          onCancel={() => setConfirmingLogout(false)}
        />
      )}
      <main id="main" ref={main} tabIndex={-1} className="main">
        {children}
      </main>
      <footer className="footer muted small">
        <span>Argus — image recognition that scales.</span>
        <a href="/api/openapi.json">API reference</a>
      </footer>
    </div>
  );
}
