import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { Image } from '../api/types';
import { FakeEventSource, makeImage, mockFetch, USER } from '../test/fakes';
import { renderApp } from '../test/render';
import { loadStyles } from '../test/styles';
import { categoriesOf } from './ImageDetail';

const dogPhoto: Image = makeImage({
  id: 'abc123',
  filename: 'rex.jpg',
  labels: [
    { wnid: 'n02099601', name: 'golden retriever', confidence: 0.71, parents: ['dog', 'mammal', 'animal'] },
    { wnid: 'n02099712', name: 'Labrador retriever', confidence: 0.12, parents: ['dog', 'mammal', 'animal'] },
    { wnid: 'n02104029', name: 'kuvasz', confidence: 0.06, parents: ['dog', 'mammal', 'animal'] },
    { wnid: 'n02102318', name: 'cocker spaniel', confidence: 0.04, parents: ['dog', 'mammal', 'animal'] },
    { wnid: 'n04409515', name: 'tennis ball', confidence: 0.02, parents: ['device'] },
    { wnid: 'n00000001', name: 'sixth label', confidence: 0.01, parents: [] },
  ],
  spirit_dog: { wnid: 'n02099601', name: 'golden retriever', confidence: 0.74 },
});

describe('image detail', () => {
  it('shows the photo, the top-5 labels with confidence bars, categories and the spirit dog', async () => {
    mockFetch({ 'GET /api/v1/images/abc123': { body: dogPhoto } });
    renderApp('/images/abc123', { user: USER });
    await screen.findByRole('heading', { level: 1, name: 'golden retriever' });
    expect(screen.getByAltText('Photo: golden retriever').getAttribute('src')).toBe('/api/v1/images/abc123/file');

    const labels = within(screen.getByTestId('labels')).getAllByRole('listitem').filter((li) => li.classList.contains('label-row'));
    expect(labels).toHaveLength(5);
    expect(screen.queryByText('sixth label')).toBeNull();
    const meters = within(screen.getByTestId('labels')).getAllByRole('meter');
    expect(meters.map((m) => m.getAttribute('aria-valuetext'))).toEqual(['71.0%', '12.0%', '6.0%', '4.0%', '2.0%']);
    expect(meters[0].getAttribute('aria-label')).toBe('golden retriever confidence');

    const chips = within(screen.getByRole('list', { name: 'Parent categories' })).getAllByRole('link');
    expect(chips.map((c) => c.textContent)).toEqual(['dog', 'mammal', 'animal']);
    expect(chips[0].getAttribute('href')).toBe('/gallery?label=dog');
    // Each label's categories are shown, but only the list above links: not a dozen "dog" links.
    const ofTopLabel = within(screen.getByRole('list', { name: 'Categories of golden retriever' }));
    expect(ofTopLabel.getAllByRole('listitem').map((item) => item.textContent)).toEqual(['dog', 'mammal', 'animal']);
    expect(ofTopLabel.queryAllByRole('link')).toHaveLength(0);
    expect(screen.getAllByRole('link', { name: 'dog' })).toHaveLength(1);

    const spirit = screen.getByTestId('spirit-dog');
    expect(within(spirit).getByText('golden retriever')).toBeTruthy();
    expect(within(spirit).getByRole('meter').getAttribute('aria-valuetext')).toBe('74.0%');
    expect(spirit.textContent).toContain('looks most like a golden retriever (74.0%).');
    expect(within(spirit).getByRole('img').getAttribute('src')).toBe('/api/v1/breeds/n02099601/photo');
    // The title is set by an effect, which may run after the heading is on screen.
    await waitFor(() => expect(document.title).toBe('Golden retriever · Argus'));
  });

  it('updates from queued to done live over events', async () => {
    loadStyles();
    const queued = { ...dogPhoto, status: 'queued' as const, labels: undefined, spirit_dog: undefined };
    mockFetch({ 'GET /api/v1/images/abc123': { body: queued } });
    renderApp('/images/abc123', { user: USER });
    expect((await screen.findByTestId('pending')).textContent).toMatch(/Waiting for a worker/);
    const heading = screen.getByRole('heading', { level: 1 });
    expect(heading.textContent).toBe('rex.jpg');
    expect(heading.classList.contains('label-text')).toBe(false);
    const source = FakeEventSource.latest();
    await act(async () => source.emit('image', makeImage({ id: 'other' })));
    expect(screen.getByTestId('pending')).toBeTruthy();
    await act(async () => source.emit('image', { ...queued, status: 'processing' }));
    expect(screen.getByTestId('pending').textContent).toMatch(/Classifying/);
    await act(async () => source.emit('image', dogPhoto));
    expect(screen.queryByTestId('pending')).toBeNull();
    expect(screen.getByTestId('spirit-dog')).toBeTruthy();
    expect(screen.getByRole('heading', { level: 1 }).classList.contains('label-text')).toBe(true);
  });

  it('shows why classification failed', async () => {
    mockFetch({
      'GET /api/v1/images/abc123': {
        body: {
          ...dogPhoto,
          status: 'failed',
          labels: undefined,
          spirit_dog: undefined,
          error: 'unsupported image format',
          timings: { queued_ms: 3, inference_ms: 0, total_ms: 5 },
        },
      },
    });
    renderApp('/images/abc123', { user: USER });
    expect((await screen.findByTestId('failure')).textContent).toContain('Unsupported image format');
    // No model ever saw it: no inference time.
    expect(screen.queryByText('Inference')).toBeNull();
    expect(screen.getByText('Waited in queue')).toBeTruthy();
  });

  it('tries a failed photo again, and follows its new round past the last one’s failure', async () => {
    const failed = { ...dogPhoto, status: 'failed' as const, labels: undefined, spirit_dog: undefined, queued_at_ms: 1000, error: 'gave up after 3 attempts' };
    let retry = { status: 503, body: { error: { code: 'queue_full', message: '40 images are waiting; retry shortly' } } } as {
      status: number;
      body: unknown;
    };
    const { calls } = mockFetch({
      'GET /api/v1/images/abc123': { body: failed },
      'POST /api/v1/images/abc123/retry': () => retry,
    });
    renderApp('/images/abc123', { user: USER });
    const failure = await screen.findByTestId('failure');
    await act(async () => fireEvent.click(within(failure).getByRole('button', { name: 'Try again' })));
    expect(within(failure).getByRole('alert').textContent).toBe('40 images are waiting; retry shortly');

    retry = { status: 202, body: { ...failed, status: 'queued', error: undefined, queued_at_ms: 2000 } };
    const button = within(failure).getByRole('button', { name: 'Try again' });
    button.focus();
    await act(async () => fireEvent.click(button));
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(2);
    expect(calls.at(-1)!.headers['x-csrf-token']).toBe('test-csrf-token');
    expect(screen.queryByTestId('failure')).toBeNull();
    expect(screen.getByTestId('pending').textContent).toContain('Waiting for a worker');
    // The button went with the failure: the focus is on the photo's title and status, not lost.
    expect(document.activeElement).toBe(screen.getByRole('heading', { level: 1 }).parentElement);
    expect(document.activeElement?.textContent).toContain('Queued');
    // A late event of the failed round does not bring the failure back; the new round's do.
    await act(async () => FakeEventSource.latest().emit('image', failed));
    expect(screen.queryByTestId('failure')).toBeNull();
    await act(async () => FakeEventSource.latest().emit('image', { ...dogPhoto, queued_at_ms: 2000 }));
    expect(screen.getByTestId('labels')).toBeTruthy();
  });

  it('deletes after confirmation and returns to the gallery', async () => {
    const { calls } = mockFetch({
      'GET /api/v1/images/abc123': { body: dogPhoto },
      'DELETE /api/v1/images/abc123': { status: 204 },
      'GET /api/v1/images': { body: { images: [], next_cursor: '' } },
    });
    renderApp('/images/abc123', { user: USER });
    const entries = window.history.length;
    fireEvent.click(await screen.findByRole('button', { name: 'Delete photo' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete this photo?' });
    await act(async () => {
      fireEvent.click(within(dialog).getByRole('button', { name: 'Delete' }));
    });
    await waitFor(() => expect(window.location.pathname).toBe('/gallery'));
    // Replaced, so that Back does not return to a photo that is gone.
    expect(window.history.length).toBe(entries);
    const del = calls.find((c) => c.method === 'DELETE')!;
    expect(del.path).toBe('/api/v1/images/abc123');
    expect(del.headers['x-csrf-token']).toBe('test-csrf-token');
  });

  it('says not found for an unknown (or someone else’s) photo', async () => {
    mockFetch({});
    renderApp('/images/nope', { user: USER });
    expect((await screen.findByTestId('detail-error')).textContent).toContain('Photo not found');
  });

  it('loads again by itself when the live stream comes back after the server was gone, or on Try again', async () => {
    let down = true;
    mockFetch({
      'GET /api/v1/images/abc123': () => {
        if (down) throw new TypeError('Failed to fetch');
        return { body: dogPhoto };
      },
    });
    renderApp('/images/abc123', { user: USER });
    expect((await screen.findByTestId('detail-error')).textContent).toContain('Could not load the photo');
    await act(async () => screen.getByRole('button', { name: 'Try again' }).click());
    expect((await screen.findByTestId('detail-error')).textContent).toContain('Could not load the photo');
    down = false;
    await act(async () => FakeEventSource.latest().fail());
    await waitFor(() => expect(FakeEventSource.instances).toHaveLength(2), { timeout: 2500 });
    await act(async () => FakeEventSource.latest().emit('open'));
    await screen.findByRole('heading', { level: 1, name: 'golden retriever' });
  });

  it('says so when the photo is deleted in another tab', async () => {
    mockFetch({ 'GET /api/v1/images/abc123': { body: dogPhoto } });
    renderApp('/images/abc123', { user: USER });
    await screen.findByTestId('labels');
    fireEvent.click(screen.getByRole('button', { name: 'Delete photo' }));
    await act(async () => FakeEventSource.latest().emit('image', { id: 'other', status: 'deleted' }));
    expect(screen.getByTestId('labels')).toBeTruthy();
    await act(async () => FakeEventSource.latest().emit('image', { id: 'abc123', status: 'deleted' }));
    expect(screen.getByTestId('detail-error').textContent).toContain('Photo deleted');
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(screen.queryByTestId('labels')).toBeNull();
  });

  it('shows the photo again when the same photo is uploaded again after its deletion elsewhere', async () => {
    mockFetch({ 'GET /api/v1/images/abc123': { body: dogPhoto } });
    renderApp('/images/abc123', { user: USER });
    await screen.findByTestId('labels');
    await act(async () => FakeEventSource.latest().emit('image', { id: 'abc123', status: 'deleted' }));
    expect(screen.getByTestId('detail-error').textContent).toContain('Photo deleted');
    await act(async () =>
      FakeEventSource.latest().emit('image', { ...dogPhoto, status: 'queued', labels: undefined, queued_at_ms: 5000 }),
    );
    expect(screen.queryByTestId('detail-error')).toBeNull();
    expect(screen.getByText('Queued')).toBeTruthy();
  });

  it('lists parent categories most specific first without repeats', () => {
    expect(categoriesOf(dogPhoto)).toEqual(['dog', 'mammal', 'animal']);
  });
});
