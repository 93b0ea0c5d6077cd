import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { App } from './App';
import { ADMIN, FakeEventSource, makeImage, mockFetch, USER } from './test/fakes';
import { renderApp } from './test/render';

describe('app shell and routing', () => {
  it('shows the landing page to visitors with sign-up and log-in links', () => {
    mockFetch({});
    renderApp('/');
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Know what is in every photo.');
    expect(screen.getByRole('link', { name: 'Create a free account' }).getAttribute('href')).toBe('/signup');
    const nav = screen.getByRole('navigation', { name: 'Main' });
    expect(within(nav).getByRole('link', { name: 'Log in' })).toBeTruthy();
    expect(FakeEventSource.instances).toHaveLength(0);
  });

  it('asks for the session on load and sends visitors of private pages to log in', async () => {
    const { calls } = mockFetch({ 'GET /api/v1/auth/me': { status: 401, body: { error: { code: 'unauthenticated', message: '' } } } });
    window.history.replaceState(null, '', '/gallery');
    render(<App services={{ eventSource: FakeEventSource.factory }} />);
    await waitFor(() => expect(window.location.pathname).toBe('/login'));
    expect(window.location.search).toBe('?next=%2Fgallery');
    expect(calls[0].path).toBe('/api/v1/auth/me');
  });

  it('does not ask for a session without the CSRF cookie a log-in sets beside it', async () => {
    const { calls } = mockFetch({});
    document.cookie = 'argus_csrf=; path=/; max-age=0';
    try {
      window.history.replaceState(null, '', '/gallery');
      render(<App services={{ eventSource: FakeEventSource.factory }} />);
      await waitFor(() => expect(window.location.pathname).toBe('/login'));
      expect(calls.filter((c) => c.path === '/api/v1/auth/me')).toHaveLength(0);
    } finally {
      document.cookie = 'argus_csrf=test-csrf-token; path=/';
    }
  });

  it('opens the live event stream for a logged-in user, navigates client-side and logs out', async () => {
    const { calls } = mockFetch({
      'GET /api/v1/images': { body: { images: [], next_cursor: '' } },
      'GET /api/v1/tokens': { body: { tokens: [] } },
      'POST /api/v1/auth/logout': { status: 204 },
    });
    renderApp('/gallery', { user: ADMIN });
    await screen.findByTestId('empty-state');
    expect(FakeEventSource.latest().url).toBe('/api/v1/events');
    await act(async () => FakeEventSource.latest().emit('ready'));
    expect(screen.getByText('Live')).toBeTruthy();

    const nav = screen.getByRole('navigation', { name: 'Main' });
    expect(within(nav).getByRole('link', { name: 'Gallery' }).getAttribute('aria-current')).toBe('page');
    expect(within(nav).getByRole('link', { name: 'Ops' })).toBeTruthy();
    fireEvent.click(within(nav).getByRole('link', { name: 'Settings' }));
    await screen.findByRole('heading', { name: 'Settings' });
    expect(window.location.pathname).toBe('/settings');
    expect(document.activeElement).toBe(document.getElementById('main'));

    await act(async () => {
      fireEvent.click(within(nav).getByRole('button', { name: 'Log out' }));
    });
    await waitFor(() => expect(window.location.pathname).toBe('/login'));
    expect(document.activeElement).toBe(document.getElementById('main'));
    expect(calls.find((c) => c.path === '/api/v1/auth/logout')!.headers['x-csrf-token']).toBe('test-csrf-token');
    expect(FakeEventSource.instances.every((s) => s.closed)).toBe(true);
  });

  it('hides Ops from members and toggles the phone menu', async () => {
    mockFetch({ 'GET /api/v1/images': { body: { images: [], next_cursor: '' } } });
    renderApp('/gallery', { user: USER });
    await screen.findByTestId('empty-state');
    const nav = screen.getByRole('navigation', { name: 'Main' });
    expect(within(nav).queryByRole('link', { name: 'Ops' })).toBeNull();
    const toggle = screen.getByRole('button', { name: 'Menu' });
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    fireEvent.click(toggle);
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    expect(nav.classList.contains('open')).toBe(true);
    within(nav).getByRole('link', { name: 'Settings' }).focus();
    fireEvent.keyDown(document.activeElement!, { key: 'Escape' });
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    expect(nav.classList.contains('open')).toBe(false);
    expect(document.activeElement).toBe(toggle);

    // Tabbing on out of the open menu closes it; moving within it does not.
    fireEvent.click(toggle);
    const settings = within(nav).getByRole('link', { name: 'Settings' });
    fireEvent.blur(within(nav).getByRole('link', { name: 'Gallery' }), { relatedTarget: settings });
    expect(nav.classList.contains('open')).toBe(true);
    fireEvent.blur(within(nav).getByRole('button', { name: 'Log out' }), {
      relatedTarget: screen.getByLabelText('Search by label or category'),
    });
    expect(nav.classList.contains('open')).toBe(false);
  });

  it('marks Gallery as the current section on a photo’s page', async () => {
    mockFetch({ 'GET /api/v1/images/abc': { body: makeImage({ id: 'abc' }) } });
    renderApp('/images/abc', { user: USER });
    await screen.findByTestId('labels');
    const nav = screen.getByRole('navigation', { name: 'Main' });
    expect(within(nav).getByRole('link', { name: 'Gallery' }).getAttribute('aria-current')).toBe('true');
    expect(within(nav).getByRole('link', { name: 'Settings' }).getAttribute('aria-current')).toBeNull();
  });

  it('returns to the log-in page when the session expires', async () => {
    mockFetch({ 'GET /api/v1/images': { status: 401, body: { error: { code: 'unauthenticated', message: 'log in' } } } });
    renderApp('/gallery?label=dog', { user: USER });
    await waitFor(() => expect(window.location.pathname).toBe('/login'));
    expect(window.location.search).toBe('?next=%2Fgallery%3Flabel%3Ddog');
  });

  it('has a not-found page', () => {
    mockFetch({});
    renderApp('/no/such/page');
    expect(screen.getByRole('heading', { name: 'Page not found' })).toBeTruthy();
  });
});
