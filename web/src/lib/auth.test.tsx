import { act, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { User } from '../api/types';
import { ADMIN, USER, mockFetch } from '../test/fakes';
import { AuthProvider, useAuth } from './auth';

/** One browser tab's view of the session, with its log-in and log-out. */
function Tab({ name }: { name: string }) {
  const { state, login, logout, deleteAccount } = useAuth();
  return (
    <section aria-label={name}>
      <output data-testid={`${name}-user`}>{state.user?.email ?? state.status}</output>
      <button type="button" onClick={() => void login('root@example.com', 'secret-password')}>
        {`${name} log in`}
      </button>
      <button type="button" onClick={() => void logout()}>
        {`${name} log out`}
      </button>
      <button type="button" onClick={() => void deleteAccount('secret-password')}>
        {`${name} delete account`}
      </button>
    </section>
  );
}

/** Two tabs of one browser, each with its own view of the session. */
function renderTabs(first: User | null, second: User | null) {
  render(
    <>
      <AuthProvider initialUser={first}>
        <Tab name="first" />
      </AuthProvider>
      <AuthProvider initialUser={second}>
        <Tab name="second" />
      </AuthProvider>
    </>,
  );
}

/** A page that asks about its session, as it does when its event stream is lost. */
function SessionCheck() {
  const { state, checkSession } = useAuth();
  return (
    <>
      <output data-testid="user">{state.user?.email ?? state.status}</output>
      <button type="button" onClick={checkSession}>
        check
      </button>
    </>
  );
}

describe('session check', () => {
  it('logs the page out when the session ended elsewhere', async () => {
    mockFetch({
      'GET /api/v1/auth/me': {
        status: 401,
        body: { error: { code: 'unauthenticated', message: 'the session has ended; log in again' } },
      },
    });
    render(
      <AuthProvider initialUser={USER}>
        <SessionCheck />
      </AuthProvider>,
    );
    await act(async () => screen.getByText('check').click());
    await waitFor(() => expect(screen.getByTestId('user').textContent).toBe('anonymous'));
  });

  it('keeps the session when the server cannot be reached', async () => {
    mockFetch({
      'GET /api/v1/auth/me': () => {
        throw new TypeError('Failed to fetch');
      },
    });
    render(
      <AuthProvider initialUser={USER}>
        <SessionCheck />
      </AuthProvider>,
    );
    await act(async () => screen.getByText('check').click());
    expect(screen.getByTestId('user').textContent).toBe(USER.email);
  });
});

describe('auth across tabs', () => {
  it('a log-out in one tab logs the others out too', async () => {
    mockFetch({ 'POST /api/v1/auth/logout': { status: 204 } });
    renderTabs(USER, USER);
    expect(screen.getByTestId('second-user').textContent).toBe(USER.email);
    await act(async () => screen.getByText('first log out').click());
    await waitFor(() => expect(screen.getByTestId('second-user').textContent).toBe('anonymous'));
    expect(screen.getByTestId('first-user').textContent).toBe('anonymous');
  });

  it('deleting the account in one tab takes the others to the home page, logged out', async () => {
    mockFetch({ 'DELETE /api/v1/auth/me': { status: 204 } });
    window.history.replaceState(null, '', '/gallery');
    renderTabs(USER, USER);
    await act(async () => screen.getByText('first delete account').click());
    await waitFor(() => expect(screen.getByTestId('second-user').textContent).toBe('anonymous'));
    expect(window.location.pathname).toBe('/');
  });

  it('a log-in in one tab shows the new account in the others', async () => {
    mockFetch({
      'POST /api/v1/auth/login': { body: { user: ADMIN } },
      'GET /api/v1/auth/me': { body: { user: ADMIN } },
    });
    renderTabs(null, USER);
    await act(async () => screen.getByText('first log in').click());
    await waitFor(() => expect(screen.getByTestId('second-user').textContent).toBe(ADMIN.email));
    expect(screen.getByTestId('first-user').textContent).toBe(ADMIN.email);
  });
});
