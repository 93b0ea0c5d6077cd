import { act, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { mockFetch, USER } from '../test/fakes';
import { renderApp } from '../test/render';

describe('layout', () => {
  it('says so and keeps the user in when the server cannot be reached to log out', async () => {
    mockFetch({
      'GET /api/v1/images': { body: { images: [], next_cursor: '' } },
      'POST /api/v1/auth/logout': () => Promise.reject(new TypeError('Failed to fetch')),
    });
    renderApp('/gallery', { user: USER });
    await screen.findByTestId('empty-state');
    await act(async () => screen.getByRole('button', { name: 'Log out' }).click());
    expect((await screen.findByRole('alert')).textContent).toMatch(/Not logged out: the server cannot be reached/);
    expect(screen.getByRole('button', { name: 'Log out' })).toBeTruthy();
    expect(window.location.pathname).toBe('/gallery');

    mockFetch({
      'GET /api/v1/images': { body: { images: [], next_cursor: '' } },
      'POST /api/v1/auth/logout': { status: 204 },
    });
    await act(async () => screen.getByRole('button', { name: 'Log out' }).click());
    expect(window.location.pathname).toBe('/login');
    expect(screen.queryByRole('button', { name: 'Log out' })).toBeNull();
  });
});
