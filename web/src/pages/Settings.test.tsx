import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { FakeEventSource, mockFetch, USER } from '../test/fakes';
import { renderApp } from '../test/render';

describe('settings: API tokens', () => {
  it('selects the token for a manual copy where the page may not use the clipboard', async () => {
    mockFetch({
      'GET /api/v1/tokens': { body: { tokens: [] } },
      'POST /api/v1/tokens': { status: 201, body: { id: 't2', name: 'ci', token: 'argus_secret_456' } },
    });
    renderApp('/settings', { user: USER });
    await screen.findByText('No tokens yet.');
    fireEvent.change(screen.getByLabelText('Token name'), { target: { value: 'ci' } });
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: /Create token/ }));
    });
    // jsdom, like a page served over plain HTTP from another host, has no navigator.clipboard.
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Copy' }));
    });
    expect(screen.getByText(/press Ctrl\+C/)).toBeTruthy();
    expect(window.getSelection()?.toString()).toBe('argus_secret_456');
  });

  it('lists, creates (showing the secret once) and revokes tokens', async () => {
    const { calls } = mockFetch({
      'GET /api/v1/tokens': {
        body: { tokens: [{ id: 't1', name: 'laptop', created_at_ms: 1_700_000_000_000, last_used_at_ms: null }] },
      },
      'POST /api/v1/tokens': { status: 201, body: { id: 't2', name: 'backup script', token: 'argus_secret_123' } },
      'DELETE /api/v1/tokens/t1': { status: 204 },
    });
    renderApp('/settings', { user: USER });
    expect(await screen.findByRole('cell', { name: 'laptop' })).toBeTruthy();
    expect(screen.getByText('Never')).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: /Create token/ }));
    expect(screen.getByText(/Give the token a name/)).toBeTruthy();

    fireEvent.change(screen.getByLabelText('Token name'), { target: { value: 'backup script' } });
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: /Create token/ }));
    });
    expect(screen.getByTestId('new-token').textContent).toBe('argus_secret_123');
    expect(calls.find((c) => c.method === 'POST')!.body).toEqual({ name: 'backup script' });
    expect(screen.getAllByRole('row')).toHaveLength(3);
    // Last, as the server lists them: a reload keeps the order.
    expect(screen.getAllByRole('row')[2].textContent).toContain('backup script');

    // The secret is in no live region: a change there would read it out again.
    expect(screen.getByTestId('new-token').closest('[role="status"], [role="alert"], [aria-live]')).toBeNull();

    fireEvent.click(screen.getByRole('button', { name: 'I have saved it' }));
    expect(screen.queryByTestId('new-token')).toBeNull();
    expect(document.activeElement).toBe(screen.getByLabelText('Token name'));

    fireEvent.click(screen.getByRole('button', { name: 'Revoke laptop' }));
    const dialog = screen.getByRole('dialog');
    await act(async () => {
      fireEvent.click(within(dialog).getByRole('button', { name: 'Revoke' }));
    });
    expect(screen.queryByRole('cell', { name: 'laptop' })).toBeNull();
    expect(document.activeElement).toBe(screen.getByLabelText('Token name'));
    expect(calls.find((c) => c.method === 'DELETE')!.headers['x-csrf-token']).toBe('test-csrf-token');
  });

  it('takes a token revoked meanwhile elsewhere as revoked, and its row goes', async () => {
    mockFetch({
      'GET /api/v1/tokens': {
        body: { tokens: [{ id: 't1', name: 'laptop', created_at_ms: 1_700_000_000_000, last_used_at_ms: null }] },
      },
      'DELETE /api/v1/tokens/t1': { status: 404, body: { error: { code: 'not_found', message: 'no such API token' } } },
    });
    renderApp('/settings', { user: USER });
    fireEvent.click(await screen.findByRole('button', { name: 'Revoke laptop' }));
    await act(async () => {
      fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Revoke' }));
    });
    expect(screen.queryByRole('cell', { name: 'laptop' })).toBeNull();
    expect(screen.queryByRole('alert')).toBeNull();
    await waitFor(() => expect(screen.getByRole('status').textContent).toBe('Token laptop had already been revoked.'));
  });

  it('loads the list again once the server is back, or on Try again', async () => {
    let down = true;
    mockFetch({
      'GET /api/v1/tokens': () => {
        if (down) throw new TypeError('Failed to fetch');
        return { body: { tokens: [{ id: 't1', name: 'laptop', created_at_ms: 1_700_000_000_000, last_used_at_ms: null }] } };
      },
    });
    renderApp('/settings', { user: USER });
    expect((await screen.findByRole('alert')).textContent).toMatch(/Could not load your tokens|Cannot reach/);
    await act(async () => screen.getByRole('button', { name: 'Try again' }).click());
    expect(await screen.findByRole('alert')).toBeTruthy();
    down = false;
    await act(async () => FakeEventSource.latest().fail());
    await waitFor(() => expect(FakeEventSource.instances).toHaveLength(2), { timeout: 2500 });
    await act(async () => FakeEventSource.latest().emit('open'));
    expect(await screen.findByRole('cell', { name: 'laptop' })).toBeTruthy();
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('is found with a slash after its path too', async () => {
    mockFetch({ 'GET /api/v1/tokens': { body: { tokens: [] } } });
    renderApp('/settings/', { user: USER });
    expect(await screen.findByRole('heading', { name: 'Settings' })).toBeTruthy();
  });

  it('refuses names over 100 characters and keeps long ones whole in a title', async () => {
    const long = 'x'.repeat(100);
    const { calls } = mockFetch({
      'GET /api/v1/tokens': { body: { tokens: [{ id: 't1', name: long, created_at_ms: 1, last_used_at_ms: null }] } },
    });
    renderApp('/settings', { user: USER });
    const cell = await screen.findByRole('cell', { name: long });
    expect(cell.querySelector('.token-name')!.getAttribute('title')).toBe(long);
    const input = screen.getByLabelText('Token name');
    expect(screen.getByText('Up to 100 characters.').id).toBe(input.getAttribute('aria-describedby'));
    fireEvent.change(input, { target: { value: 'y'.repeat(300) } });
    expect((input as HTMLInputElement).value).toHaveLength(300);
    fireEvent.click(screen.getByRole('button', { name: /Create token/ }));
    expect(screen.getByText('Use at most 100 characters; this name has 300.')).toBeTruthy();
    expect(calls.some((c) => c.method === 'POST')).toBe(false);
  });
});

describe('settings: password', () => {
  it('checks the fields, then changes the password with the current one', async () => {
    let answer = { status: 403, body: { error: { code: 'wrong_password', message: 'the password is wrong' } } };
    const { calls } = mockFetch({
      'GET /api/v1/tokens': { body: { tokens: [] } },
      'POST /api/v1/auth/password': () => answer,
    });
    renderApp('/settings', { user: USER });
    const form = (await screen.findByRole('heading', { name: 'Password' })).closest('section')!;
    const change = within(form).getByRole('button', { name: 'Change password' });
    const type = (label: string, value: string) =>
      fireEvent.change(within(form).getByLabelText(label), { target: { value } });

    fireEvent.click(change);
    expect(within(form).getByText('Enter your current password.')).toBeTruthy();
    expect(document.activeElement).toBe(within(form).getByLabelText('Current password'));
    type('Current password', 'old secret 1');
    type('New password', '😀😀😀😀😀😀😀');
    fireEvent.click(change);
    expect(within(form).getByText('Use at least 8 characters.')).toBeTruthy();
    type('New password', 'old secret 1');
    fireEvent.click(change);
    expect(within(form).getByText('Choose a password other than the current one.')).toBeTruthy();
    type('New password', 'new secret 22');
    type('Confirm new password', 'new secret 2');
    fireEvent.click(change);
    expect(within(form).getByText('The passwords do not match.')).toBeTruthy();
    expect(calls.some((c) => c.method === 'POST')).toBe(false);

    type('Confirm new password', 'new secret 22');
    await act(async () => fireEvent.click(change));
    expect(within(form).getByText('That is not your current password.')).toBeTruthy();
    expect(document.activeElement).toBe(within(form).getByLabelText('Current password'));

    answer = { status: 204, body: undefined as never };
    await act(async () => fireEvent.click(change));
    const posted = calls.filter((c) => c.method === 'POST');
    expect(posted.at(-1)!.body).toEqual({ current_password: 'old secret 1', new_password: 'new secret 22' });
    expect(posted.at(-1)!.headers['x-csrf-token']).toBe('test-csrf-token');
    expect(within(form).getByRole('status').textContent).toContain('Password changed');
    expect((within(form).getByLabelText('Current password') as HTMLInputElement).value).toBe('');
  });
});

describe('settings: deleting the account', () => {
  it('asks for the password, and leaves signed out for the home page', async () => {
    let answer = { status: 403, body: { error: { code: 'wrong_password', message: 'the password is wrong' } } };
    const { calls } = mockFetch({
      'GET /api/v1/tokens': { body: { tokens: [] } },
      'DELETE /api/v1/auth/me': () => answer,
    });
    renderApp('/settings', { user: USER });
    fireEvent.click(await screen.findByRole('button', { name: 'Delete account…' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete your account?' });
    const password = within(dialog).getByLabelText('Password');
    expect(document.activeElement).toBe(password);
    const confirm = within(dialog).getByRole('button', { name: 'Delete account' });
    await act(async () => fireEvent.click(confirm));
    expect(within(dialog).getByText('Enter your password to confirm.')).toBeTruthy();
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);

    fireEvent.change(password, { target: { value: 'guess' } });
    await act(async () => fireEvent.click(confirm));
    expect(within(dialog).getByText('That is not your password.')).toBeTruthy();
    expect(window.location.pathname).toBe('/settings');
    expect(document.activeElement).toBe(password);

    // The only administrator may not go: said as a refusal, not as a wrong password.
    answer = {
      status: 409,
      body: {
        error: {
          code: 'conflict',
          message: 'you are the only administrator: another account must be made one first',
        },
      },
    };
    fireEvent.change(password, { target: { value: 'the password' } });
    await act(async () => fireEvent.click(confirm));
    expect(within(dialog).getByRole('alert').textContent).toBe(
      'You are the only administrator: another account must be made one first',
    );
    expect(password.getAttribute('aria-invalid')).toBeNull();
    expect(document.activeElement).toBe(password);

    answer = { status: 204, body: undefined as never };
    fireEvent.change(password, { target: { value: 'the password' } });
    await act(async () => fireEvent.submit(password.closest('form')!));
    expect(calls.filter((c) => c.method === 'DELETE').at(-1)!.body).toEqual({ password: 'the password' });
    expect(window.location.pathname).toBe('/');
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(screen.queryByRole('link', { name: 'Settings' })).toBeNull();
  });
});
