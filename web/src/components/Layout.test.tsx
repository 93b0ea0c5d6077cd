import { act, fireEvent, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { controlledUploader, imageFile, makeImage, mockFetch, USER } from '../test/fakes';
import { renderApp } from '../test/render';

function makeImageFor(filename: string, i: number) {
  return makeImage({ id: `sent${i}`, filename, status: 'queued', labels: undefined });
}

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

  it('asks before a log-out cancels files not yet sent', async () => {
    const { calls } = mockFetch({
      'GET /api/v1/images': { body: { images: [], next_cursor: '' } },
      'POST /api/v1/auth/logout': { status: 204 },
    });
    const { upload, uploads } = controlledUploader();
    renderApp('/gallery', { user: USER, services: { upload } });
    const empty = await screen.findByTestId('empty-state');
    await act(async () => {
      fireEvent.drop(within(empty).getByTestId('dropzone'), {
        dataTransfer: { files: [imageFile('a.jpg'), imageFile('b.jpg')], types: ['Files'] },
      });
    });
    await act(async () => screen.getByRole('button', { name: 'Log out' }).click());
    const dialog = screen.getByRole('dialog');
    expect(dialog.textContent).toContain('2 photos have not been sent yet. Logging out cancels them.');
    expect(calls.some((c) => c.path === '/api/v1/auth/logout')).toBe(false);
    await act(async () => within(dialog).getByRole('button', { name: 'Cancel' }).click());
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(window.location.pathname).toBe('/gallery');

    // Once they are sent, nothing is asked.
    await act(async () => uploads.forEach((u, i) => u.resolve({ ...makeImageFor(u.file.name, i) })));
    await act(async () => screen.getByRole('button', { name: 'Log out' }).click());
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(window.location.pathname).toBe('/login');
  });

  it('logs out and cancels the unsent files once the user says so', async () => {
    const { calls } = mockFetch({
      'GET /api/v1/images': { body: { images: [], next_cursor: '' } },
      'POST /api/v1/auth/logout': { status: 204 },
    });
    const { upload } = controlledUploader();
    renderApp('/gallery', { user: USER, services: { upload } });
    const empty = await screen.findByTestId('empty-state');
    await act(async () => {
      fireEvent.drop(within(empty).getByTestId('dropzone'), {
        dataTransfer: { files: [imageFile('a.jpg')], types: ['Files'] },
      });
    });
    await act(async () => screen.getByRole('button', { name: 'Log out' }).click());
    expect(screen.getByRole('dialog').textContent).toContain('1 photo has not been sent yet. Logging out cancels it.');
    await act(async () => screen.getByRole('button', { name: 'Log out and cancel' }).click());
    expect(calls.some((c) => c.path === '/api/v1/auth/logout')).toBe(true);
    expect(window.location.pathname).toBe('/login');
  });
});
