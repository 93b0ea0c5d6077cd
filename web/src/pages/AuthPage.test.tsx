import { act, fireEvent, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { formatTime } from '../lib/format';
import { mockFetch, USER } from '../test/fakes';
import { renderApp } from '../test/render';
import { safeNext } from './AuthPage';

function fill(label: RegExp, value: string) {
  fireEvent.change(screen.getByLabelText(label), { target: { value } });
}

/** The alert as it enters the document, before any timer could have run. */
function alertAppears(): Promise<HTMLElement> {
  return new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      const alert = document.querySelector<HTMLElement>('[role=alert]');
      if (!alert) return;
      observer.disconnect();
      resolve(alert);
    });
    observer.observe(document.body, { childList: true, subtree: true });
  });
}

const noImages = { 'GET /api/v1/images': { body: { images: [], next_cursor: '' } } };

describe('sign-up form', () => {
  it('shows validation messages on submit without calling the server', () => {
    const { calls } = mockFetch({});
    renderApp('/signup');
    fireEvent.click(screen.getByRole('button', { name: 'Sign up' }));
    expect(screen.getByText('Enter your email address.')).toBeTruthy();
    expect(screen.getByText('Enter your password.')).toBeTruthy();
    expect(screen.getByLabelText('Email').getAttribute('aria-invalid')).toBe('true');
    expect(document.activeElement).toBe(screen.getByLabelText('Email'));
    expect(calls).toHaveLength(0);
  });

  it('checks the email has an @, the password 8 characters and the confirmation', () => {
    mockFetch({});
    renderApp('/signup');
    fill(/^Email/, 'ada.example.com');
    fill(/^Password/, 'short');
    fill(/^Confirm password/, 'different');
    fireEvent.click(screen.getByRole('button', { name: 'Sign up' }));
    expect(screen.getByText(/Enter an email address like/)).toBeTruthy();
    expect(screen.getByText('Use at least 8 characters.')).toBeTruthy();
    fill(/^Password/, 'long enough');
    expect(screen.queryByText('Use at least 8 characters.')).toBeNull();
    expect(screen.getByText('The passwords do not match.')).toBeTruthy();
  });

  it('validates a field once it loses focus', () => {
    mockFetch({});
    renderApp('/signup');
    fill(/^Email/, 'nope');
    expect(screen.queryByText(/Enter an email address like/)).toBeNull();
    fireEvent.blur(screen.getByLabelText(/^Email/));
    expect(screen.getByText(/Enter an email address like/)).toBeTruthy();
  });

  it('leaves a field tabbed through untyped to the submit', () => {
    mockFetch({});
    renderApp('/login');
    fireEvent.blur(screen.getByLabelText(/^Email/));
    fireEvent.blur(screen.getByLabelText(/^Password/));
    expect(screen.queryByText('Enter your email address.')).toBeNull();
    expect(screen.getByLabelText(/^Email/).getAttribute('aria-invalid')).toBeNull();
  });

  it('signs up with the CSRF header and opens the gallery', async () => {
    const { calls } = mockFetch({
      'POST /api/v1/auth/signup': { status: 201, body: { user: USER } },
      ...noImages,
    });
    renderApp('/signup');
    fill(/^Email/, ' ada@example.com ');
    fill(/^Password/, 'correct horse');
    fill(/^Confirm password/, 'correct horse');
    fireEvent.click(screen.getByRole('button', { name: 'Sign up' }));
    await screen.findByRole('heading', { name: 'Your photos' });
    expect(window.location.pathname).toBe('/gallery');
    expect(document.activeElement).toBe(screen.getByRole('main'));
    const signup = calls.find((c) => c.path === '/api/v1/auth/signup')!;
    expect(signup.body).toEqual({ email: 'ada@example.com', password: 'correct horse' });
    expect(signup.headers['x-csrf-token']).toBe('test-csrf-token');
  });

  it('lets a click on Sign up submit, and then focuses the mismatched confirmation', async () => {
    const { calls } = mockFetch({});
    renderApp('/signup');
    fill(/^Email/, 'ada@example.com');
    fill(/^Password/, 'correct horse');
    fill(/^Confirm password/, 'correct horsf');
    const button = screen.getByRole('button', { name: 'Sign up' });
    // Pressing the button moves focus to it before the click: an error shown then would
    // push the button away from the pointer, and the click would miss it.
    fireEvent.blur(screen.getByLabelText(/^Confirm password/), { relatedTarget: button });
    expect(screen.queryByText('The passwords do not match.')).toBeNull();
    fireEvent.click(button);
    expect(screen.getByText('The passwords do not match.')).toBeTruthy();
    expect(document.activeElement).toBe(screen.getByLabelText(/^Confirm password/));
    expect(calls).toHaveLength(0);
  });

  it('focuses the server’s refusal (409)', async () => {
    mockFetch({
      'POST /api/v1/auth/signup': { status: 409, body: { error: { code: 'signup_refused', message: 'x' } } },
    });
    renderApp('/signup');
    fill(/^Email/, 'ada@example.com');
    fill(/^Password/, 'correct horse');
    fill(/^Confirm password/, 'correct horse');
    const appeared = alertAppears();
    fireEvent.click(screen.getByRole('button', { name: 'Sign up' }));
    const alert = await appeared;
    expect(document.activeElement).toBe(alert);
    expect(alert.textContent).toMatch(/Could not create an account/);
  });

  it('shows the server message for a rejected sign-up', async () => {
    mockFetch({
      'POST /api/v1/auth/signup': {
        status: 400,
        body: { error: { code: 'invalid_argument', message: 'password must be at least 8 characters' } },
      },
    });
    renderApp('/signup');
    fill(/^Email/, 'ada@example.com');
    fill(/^Password/, '12345678');
    fill(/^Confirm password/, '12345678');
    fireEvent.click(screen.getByRole('button', { name: 'Sign up' }));
    expect((await screen.findByRole('alert')).textContent).toBe('password must be at least 8 characters');
  });
});

describe('log-in form', () => {
  it('says the credentials do not match on 401', async () => {
    mockFetch({
      'POST /api/v1/auth/login': { status: 401, body: { error: { code: 'invalid_credentials', message: 'x' } } },
    });
    renderApp('/login');
    fill(/^Email/, 'ada@example.com');
    fill(/^Password/, 'wrong');
    const appeared = alertAppears();
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    const alert = await appeared;
    expect(document.activeElement).toBe(alert);
    expect(alert.textContent).toMatch(/do not match an account/);
    expect(window.location.pathname).toBe('/login');
  });

  it('waits out Retry-After when rate limited, counting down on the button', async () => {
    const started = Date.now();
    mockFetch({
      'POST /api/v1/auth/login': {
        status: 429,
        body: { error: { code: 'rate_limited', message: 'too many' } },
        headers: { 'Retry-After': '2' },
      },
    });
    renderApp('/login');
    fill(/^Email/, 'ada@example.com');
    fill(/^Password/, 'whatever1');
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    const alert = await screen.findByRole('alert');
    // A time of day rather than a countdown in the alert, which would be read out each second.
    const times = [started, Date.now()].map((now) => `Too many attempts. You can try again at ${formatTime(now + 2000)}.`);
    expect(times).toContain(alert.textContent);
    const button = screen.getByRole('button', { name: 'Try again in 2 s' }) as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    // Correcting the password while locked out must not hide why the button is disabled.
    fill(/^Password/, 'whatever2');
    expect(times).toContain(screen.getByRole('alert').textContent);
    await waitFor(() => expect(button.textContent).toBe('Try again in 1 s'), { timeout: 1500 });
    expect(button.disabled).toBe(true);
    await waitFor(() => expect(button.textContent).toBe('Log in'), { timeout: 1500 });
    expect(button.disabled).toBe(false);
    await waitFor(() => expect(alert.textContent).toBe('You can try again now.'));
  });

  it('keeps the lock-out through a reload of the page', async () => {
    mockFetch({
      'POST /api/v1/auth/login': {
        status: 429,
        body: { error: { code: 'rate_limited', message: 'too many' } },
        headers: { 'Retry-After': '30' },
      },
    });
    const first = renderApp('/login');
    fill(/^Email/, 'ada@example.com');
    fill(/^Password/, 'whatever1');
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    await screen.findByRole('alert');
    first.unmount();
    renderApp('/login');
    const button = screen.getByRole('button', { name: /^Try again in \d+ s$/ }) as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    expect(screen.getByRole('alert').textContent).toMatch(/^Too many attempts\. You can try again at /);
  });

  it('logs in and moves focus to the page', async () => {
    mockFetch({
      'POST /api/v1/auth/login': { body: { user: USER } },
      ...noImages,
    });
    renderApp('/login');
    fill(/^Email/, 'ada@example.com');
    fill(/^Password/, 'password1');
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    await screen.findByRole('heading', { name: 'Your photos' });
    expect(document.activeElement).toBe(screen.getByRole('main'));
  });

  it('returns to the page that asked for a log-in', async () => {
    mockFetch({
      'POST /api/v1/auth/login': { body: { user: USER } },
      'GET /api/v1/tokens': { body: { tokens: [] } },
    });
    renderApp('/settings');
    await waitFor(() => expect(window.location.pathname).toBe('/login'));
    expect(window.location.search).toBe('?next=%2Fsettings');
    fill(/^Email/, 'ada@example.com');
    fill(/^Password/, 'password1');
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    });
    await screen.findByRole('heading', { name: 'Settings' });
    expect(window.location.pathname).toBe('/settings');
  });

  it('only follows same-site next paths', () => {
    expect(safeNext('/images/abc')).toBe('/images/abc');
    expect(safeNext('//evil.example')).toBe('/gallery');
    expect(safeNext('/\\evil.example')).toBe('/gallery');
    expect(safeNext('/%5Cevil.example')).toBe('/%5Cevil.example');
    expect(safeNext('/gallery?label=dog#top')).toBe('/gallery?label=dog#top');
    expect(safeNext('/api/v1/images')).toBe('/gallery');
    expect(safeNext('https://evil.example')).toBe('/gallery');
    expect(safeNext(null)).toBe('/gallery');
  });
});
