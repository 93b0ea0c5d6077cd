import { type FocusEvent, type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '../api/client';
import { Field } from '../components/Field';
import { useTitle } from '../components/Layout';
import { useAuth } from '../lib/auth';
import { formatTime } from '../lib/format';
import { Link, navigate, useLocation } from '../lib/router';
import {
  type Credentials,
  type FieldErrors,
  MIN_PASSWORD_LENGTH,
  validateCredentials,
} from '../lib/validation';

type Mode = 'login' | 'signup';

/**
 * Only same-site paths are followed after logging in, judged as the browser reads them: it
 * takes `/\\host` for `//host`, and following that blanked the page.
 */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/')) return '/gallery';
  let url: URL;
  try {
    url = new URL(next, window.location.origin);
  } catch {
    return '/gallery';
  }
  if (url.origin !== window.location.origin || url.pathname.startsWith('/api/')) return '/gallery';
  return url.pathname + url.search + url.hash;
}

/**
 * When a rate-limited client may try again, kept for the tab's session: the server's lock
 * outlasts a reload of the page, and so does the disabled button.
 */
const RETRY_AT_KEY = 'argus.auth.retryAt';

function storedRetryAt(): number {
  const at = Number(window.sessionStorage.getItem(RETRY_AT_KEY) ?? 0);
  return at > Date.now() ? at : 0;
}

function lockedOutMessage(at: number): string {
  return `Too many attempts. You can try again at ${formatTime(at)}.`;
}

function serverMessage(error: unknown, mode: Mode): string {
  if (!(error instanceof ApiError)) return 'Something went wrong. Please try again.';
  if (error.status === 401 || error.code === 'invalid_credentials') {
    return 'That email and password do not match an account.';
  }
  if (error.status === 429) return 'Too many attempts. Please wait a moment and try again.';
  if (error.status === 409 && mode === 'signup') {
    // The server does not say whether the email is taken (signup_refused).
    return 'Could not create an account with this email. If you already have one, log in instead.';
  }
  return error.message;
}

export function AuthPage({ mode }: { mode: Mode }) {
  const signup = mode === 'signup';
  useTitle(signup ? 'Sign up' : 'Log in');
  const auth = useAuth();
  const { search } = useLocation();
  const next = safeNext(search.get('next'));
  const [values, setValues] = useState<Credentials>({ email: '', password: '', confirm: '' });
  const [touched, setTouched] = useState<Partial<Record<keyof Credentials, boolean>>>({});
  const [submitted, setSubmitted] = useState(false);
  const [formError, setFormError] = useState(() => {
    const at = storedRetryAt();
    return at ? lockedOutMessage(at) : '';
  });
  const [busy, setBusy] = useState(false);
  const [showPassword, setShowPassword] = useState(false);
  /** When a rate-limited user may try again (ms since the epoch), 0 when not limited. */
  const [retryAt, setRetryAt] = useState(storedRetryAt);
  const [now, setNow] = useState(Date.now);
  const emailRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  const confirmRef = useRef<HTMLInputElement>(null);
  const submitRef = useRef<HTMLButtonElement>(null);
  // A server error takes focus as it appears (a button that was clicked is disabled while busy).
  const focusAlert = useCallback((alert: HTMLDivElement | null) => alert?.focus(), []);

  useEffect(() => {
    if (auth.state.status === 'authenticated') navigate(next, { replace: true });
  }, [auth.state.status, next]);

  useEffect(() => {
    if (!retryAt) return;
    if (now >= retryAt) {
      window.sessionStorage.removeItem(RETRY_AT_KEY);
      setRetryAt(0);
      setFormError((message) => message && 'You can try again now.');
      return;
    }
    // Ticks when the seconds shown change; Date.now() keeps a throttled background tab right.
    const timer = setTimeout(() => setNow(Date.now()), (retryAt - now) % 1000 || 1000);
    return () => clearTimeout(timer);
  }, [retryAt, now]);
  const lockedFor = Math.max(0, Math.ceil((retryAt - now) / 1000));

  const errors: FieldErrors = validateCredentials(values, mode);
  const visible = (field: keyof Credentials) => (submitted || touched[field] ? errors[field] : undefined);

  const set = (field: keyof Credentials) => (value: string) => {
    setValues((v) => ({ ...v, [field]: value }));
    // A lock-out's message stays until it ends: it says why the button is disabled.
    if (!retryAt) setFormError('');
  };
  const blur = (field: keyof Credentials) => (event: FocusEvent) => {
    // The submit checks every field; an error shown now would move the button from under
    // the pointer, and the click would be lost.
    if (event.relatedTarget === submitRef.current) return;
    // A field tabbed through untyped is not yet wrong: the submit says what is missing.
    if (!values[field]) return;
    setTouched((t) => ({ ...t, [field]: true }));
  };

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    setFormError('');
    if (errors.email) return emailRef.current?.focus();
    if (errors.password) return passwordRef.current?.focus();
    if (errors.confirm) return confirmRef.current?.focus();
    setBusy(true);
    try {
      if (signup) await auth.signup(values.email, values.password);
      else await auth.login(values.email, values.password);
      navigate(next, { replace: true });
    } catch (error) {
      const wait = error instanceof ApiError && error.status === 429 ? error.retryAfter : undefined;
      if (wait) {
        const at = Date.now() + wait * 1000;
        setNow(Date.now());
        setRetryAt(at);
        window.sessionStorage.setItem(RETRY_AT_KEY, String(at));
        setFormError(lockedOutMessage(at));
      } else {
        setFormError(serverMessage(error, mode));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="auth-page">
      <form className="card auth-card" onSubmit={onSubmit} noValidate aria-labelledby="auth-title">
        <h1 id="auth-title">{signup ? 'Create your account' : 'Welcome back'}</h1>
        <p className="muted">
          {signup ? 'Upload photos and get labels in seconds.' : 'Log in to see your photos.'}
        </p>
        {formError && (
          <div className="alert error" role="alert" tabIndex={-1} ref={focusAlert}>
            {formError}
          </div>
        )}
        <Field
          label="Email"
          type="email"
          value={values.email}
          error={visible('email')}
          autoComplete="email"
          onChange={set('email')}
          onBlur={blur('email')}
          inputRef={emailRef}
        />
        <Field
          label="Password"
          type={showPassword ? 'text' : 'password'}
          value={values.password}
          error={visible('password')}
          hint={signup ? `At least ${MIN_PASSWORD_LENGTH} characters.` : undefined}
          autoComplete={signup ? 'new-password' : 'current-password'}
          onChange={set('password')}
          onBlur={blur('password')}
          inputRef={passwordRef}
        />
        {signup && (
          <Field
            label="Confirm password"
            type={showPassword ? 'text' : 'password'}
            value={values.confirm ?? ''}
            error={visible('confirm')}
            autoComplete="new-password"
            onChange={set('confirm')}
            onBlur={blur('confirm')}
            inputRef={confirmRef}
          />
        )}
        <label className="checkbox">
          <input type="checkbox" checked={showPassword} onChange={(e) => setShowPassword(e.target.checked)} />
          Show password
        </label>
        <button ref={submitRef} type="submit" className="button primary block" disabled={busy || lockedFor > 0}>
          {busy
            ? signup
              ? 'Creating account…'
              : 'Logging in…'
            : lockedFor > 0
              ? `Try again in ${lockedFor} s`
              : signup
                ? 'Sign up'
                : 'Log in'}
        </button>
        <p className="muted small center">
          {signup ? (
            <>
              Already have an account? <Link to={`/login${search.get('next') ? `?next=${encodeURIComponent(next)}` : ''}`}>Log in</Link>
            </>
          ) : (
            <>
              New to Argus? <Link to={`/signup${search.get('next') ? `?next=${encodeURIComponent(next)}` : ''}`}>Create an account</Link>
            </>
          )}
        </p>
      </form>
    </div>
  );
}
