import {
  type ReactNode,
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import { ApiError, CSRF_COOKIE, api, onUnauthorized, readCookie } from '../api/client';
import type { User } from '../api/types';
import { navigate } from './router';

export type AuthState =
  | { status: 'loading'; user: null }
  | { status: 'anonymous'; user: null }
  | { status: 'authenticated'; user: User };

export interface AuthContextValue {
  state: AuthState;
  user: User | null;
  login(email: string, password: string): Promise<User>;
  signup(email: string, password: string): Promise<User>;
  logout(): Promise<void>;
  /** Deletes the account with its photos; signed out after, in every tab. */
  deleteAccount(password: string): Promise<void>;
  /** Asks whether the session still holds; logged out when it has ended. */
  checkSession(): void;
}

const AuthContext = createContext<AuthContextValue | null>(null);

/**
 * The tabs of one browser share the session cookie, so a log-in or log-out in one is
 * announced to the others, which would otherwise go on showing the old account (or a
 * private page after log-out) until their next request.
 */
const AUTH_CHANNEL = 'argus-auth';
type AuthMessage = 'logged-in' | 'logged-out' | 'account-deleted';

export function AuthProvider({
  children,
  initialUser,
}: {
  children: ReactNode;
  /** Skips the /auth/me call (tests); null means "known to be logged out". */
  initialUser?: User | null;
}) {
  const [state, setState] = useState<AuthState>(() =>
    initialUser === undefined
      ? { status: 'loading', user: null }
      : initialUser
        ? { status: 'authenticated', user: initialUser }
        : { status: 'anonymous', user: null },
  );

  useEffect(() => {
    if (initialUser !== undefined) return;
    // A log-in sets the script-readable CSRF cookie beside the HttpOnly session cookie, for
    // as long; without it there is no session to ask about, and asking would only put the
    // server's 401 in every visitor's console.
    if (!readCookie(CSRF_COOKIE)) {
      setState({ status: 'anonymous', user: null });
      return;
    }
    let cancelled = false;
    api
      .me()
      .then(({ user }) => !cancelled && setState({ status: 'authenticated', user }))
      .catch(() => !cancelled && setState({ status: 'anonymous', user: null }));
    return () => {
      cancelled = true;
    };
  }, [initialUser]);

  useEffect(() => onUnauthorized(() => setState({ status: 'anonymous', user: null })), []);

  const channel = useRef<BroadcastChannel | null>(null);
  useEffect(() => {
    if (typeof BroadcastChannel === 'undefined') return;
    const own = new BroadcastChannel(AUTH_CHANNEL);
    channel.current = own;
    own.onmessage = (event: MessageEvent<AuthMessage>) => {
      if (event.data === 'logged-out') {
        setState({ status: 'anonymous', user: null });
      } else if (event.data === 'account-deleted') {
        // Not the log-in page, as after a log-out: there is no account left to log in to.
        navigate('/', { replace: true });
        setState({ status: 'anonymous', user: null });
      } else if (event.data === 'logged-in') {
        api
          .me()
          .then(({ user }) => setState({ status: 'authenticated', user }))
          .catch(() => setState({ status: 'anonymous', user: null }));
      }
    };
    return () => {
      own.close();
      channel.current = null;
    };
  }, []);
  const announce = useCallback((message: AuthMessage) => channel.current?.postMessage(message), []);

  const login = useCallback(async (email: string, password: string) => {
    const { user } = await api.login(email.trim(), password);
    setState({ status: 'authenticated', user });
    announce('logged-in');
    return user;
  }, [announce]);

  const signup = useCallback(async (email: string, password: string) => {
    const { user } = await api.signup(email.trim(), password);
    setState({ status: 'authenticated', user });
    announce('logged-in');
    return user;
  }, [announce]);

  const logout = useCallback(async () => {
    try {
      await api.logout();
    } catch (error) {
      // A session that already ended is as good as logged out.
      if (!(error instanceof ApiError) || (error.status !== 401 && error.status !== 403)) throw error;
    }
    setState({ status: 'anonymous', user: null });
    announce('logged-out');
  }, [announce]);

  const deleteAccount = useCallback(async (password: string) => {
    await api.deleteAccount(password);
    setState({ status: 'anonymous', user: null });
    announce('account-deleted');
  }, [announce]);

  const checkSession = useCallback(() => {
    api.me().catch((error: unknown) => {
      if (error instanceof ApiError && error.status === 401) setState({ status: 'anonymous', user: null });
    });
  }, []);

  const value = useMemo<AuthContextValue>(
    () => ({ state, user: state.user, login, signup, logout, deleteAccount, checkSession }),
    [state, login, signup, logout, deleteAccount, checkSession],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthContextValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error('useAuth outside AuthProvider');
  return value;
}
