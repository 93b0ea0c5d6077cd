import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { FakeEventSource, FakeIntersectionObserver, controlledUploader, makeImage, mockFetch, USER } from '../test/fakes';
import { renderApp } from '../test/render';
import { loadStyles } from '../test/styles';
import { matchesLabel } from '../lib/search';

const page1 = Array.from({ length: 3 }, (_, i) => makeImage({ id: `a${i}`, uploaded_at_ms: 3000 - i }));
const page2 = Array.from({ length: 2 }, (_, i) => makeImage({ id: `b${i}`, uploaded_at_ms: 2000 - i }));

/** The gallery's two pages: page1, then page2 from its cursor. */
function twoPages(url: URL) {
  return url.searchParams.get('cursor') === 'next1'
    ? { body: { images: page2, next_cursor: '' } }
    : { body: { images: page1, next_cursor: 'next1' } };
}

/** The observer watching for the end of the list: React attaches it in an effect, which
 * may run after the items are on the page. */
async function sentinelObserver() {
  return waitFor(() => {
    const observer = FakeIntersectionObserver.instances.find((o) => o.elements.length > 0);
    if (!observer) throw new Error('nothing observes the end of the gallery yet');
    return observer;
  });
}

function items() {
  return screen.queryAllByTestId('gallery-item');
}

/** The gallery with the first page's three photos, all selected. */
async function selectAllOfTheFirstPage() {
    mockFetch({ 'GET /api/v1/images': { body: { images: page1, next_cursor: '' } } });
    renderApp('/gallery', { user: USER });
    await waitFor(() => expect(items()).toHaveLength(3));
    fireEvent.click(screen.getByRole('button', { name: 'Select' }));
    fireEvent.click(screen.getByRole('button', { name: 'Select all' }));
    expect(screen.getByTestId('selected-count').textContent).toBe('3 selected');
}

describe('gallery', () => {
  it('invites a first upload when there are no photos', async () => {
    mockFetch({ 'GET /api/v1/images': { body: { images: [], next_cursor: '' } } });
    renderApp('/gallery', { user: USER });
    const empty = await screen.findByTestId('empty-state');
    expect(within(empty).getByRole('heading').textContent).toBe('Upload your first photo');
    // The formats the server classifies: it refuses TIFF (415).
    const picker = within(empty).getByLabelText('Choose photos') as HTMLInputElement;
    expect(picker.accept.split(',')).toEqual(expect.arrayContaining(['image/jpeg', '.heic', '.avif']));
    expect(picker.accept).not.toMatch(/tif/i);
    expect(empty.textContent).toContain('JPEG, PNG, WebP, GIF, HEIC or AVIF · many at once');
    expect(screen.queryByRole('toolbar')).toBeNull();
  });

  it('keeps a picker when the first uploads fail and the gallery is still empty', async () => {
    mockFetch({ 'GET /api/v1/images': { body: { images: [], next_cursor: '' } } });
    renderApp('/gallery', { user: USER });
    const empty = await screen.findByTestId('empty-state');
    const notes = new File(['hello'], 'notes.txt', { type: 'text/plain' });
    fireEvent.change(within(empty).getByLabelText('Choose photos'), { target: { files: [notes] } });
    await waitFor(() => expect(screen.getByTestId('upload-row').dataset.phase).toBe('failed'));
    // Nothing is on its way: the page must not promise photos, and must let the user try again.
    expect(screen.queryByText(/will appear here/)).toBeNull();
    expect(screen.getByLabelText('Choose photos')).toBeTruthy();
  });

  it('keeps the picker a chooser was opened from while the page finishes loading empty', async () => {
    let answer!: () => void;
    mockFetch({
      'GET /api/v1/images': () =>
        new Promise((resolve) => {
          answer = () => resolve({ body: { images: [], next_cursor: '' } });
        }),
    });
    const uploader = controlledUploader();
    renderApp('/gallery', { user: USER, services: { upload: uploader.upload } });
    const opened = (await screen.findByLabelText('Choose photos')) as HTMLInputElement;
    await act(async () => answer());
    await screen.findByTestId('empty-state');
    expect(opened.isConnected).toBe(true);
    await act(async () => {
      fireEvent.change(opened, { target: { files: [new File(['x'], 'cat.jpg', { type: 'image/jpeg' })] } });
    });
    expect(uploader.uploads).toHaveLength(1);
  });

  it('shows newest first with the top label, and loads more when the end scrolls into view', async () => {
    const { calls } = mockFetch({
      'GET /api/v1/images': twoPages,
    });
    renderApp('/gallery', { user: USER });
    await waitFor(() => expect(items()).toHaveLength(3));
    expect(items().map((el) => el.dataset.id)).toEqual(['a0', 'a1', 'a2']);
    expect(items()[0].textContent).toContain('golden retriever');
    expect(items()[0].textContent).toContain('82%');
    const thumb = items()[0].querySelector('img')!;
    expect(thumb.getAttribute('src')).toBe('/api/v1/images/a0/thumbnail');
    fireEvent.error(thumb);
    expect(items()[0].querySelector('img')!.getAttribute('src')).toBe('/api/v1/images/a0/file');

    const observer = await sentinelObserver();
    expect(observer.elements[0]).toBe(screen.getByTestId('scroll-sentinel'));
    await act(async () => observer.trigger());
    await waitFor(() => expect(items()).toHaveLength(5));
    const listCalls = calls.filter((c) => c.path === '/api/v1/images');
    expect(listCalls[1].url.searchParams.get('cursor')).toBe('next1');
    expect(listCalls[1].url.searchParams.get('limit')).toBe('30');
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
  });

  it('comes back by Back as it was left: the same photos, scrolled as they were', async () => {
    let uploadedElsewhere: ReturnType<typeof makeImage>[] = [];
    const { calls } = mockFetch({
      'GET /api/v1/images': (url) => {
        const pages = twoPages(url);
        return url.searchParams.get('cursor')
          ? pages
          : { body: { ...pages.body, images: [...uploadedElsewhere, ...pages.body.images] } };
      },
      'GET /api/v1/tokens': { body: { tokens: [] } },
    });
    const scrollTo = vi.fn();
    window.scrollTo = scrollTo as unknown as typeof window.scrollTo;
    renderApp('/gallery', { user: USER });
    await waitFor(() => expect(items()).toHaveLength(3));
    const observer = await sentinelObserver();
    await act(async () => observer.trigger());
    await waitFor(() => expect(items()).toHaveLength(5));
    Object.defineProperty(window, 'scrollY', { value: 640, configurable: true });
    fireEvent.scroll(window);

    await act(async () => fireEvent.click(screen.getByRole('link', { name: 'Settings' })));
    await screen.findByRole('heading', { name: 'Settings' });
    // Deleted in another tab meanwhile, and one uploaded there.
    await act(async () => FakeEventSource.latest().emit('image', { id: 'a1', status: 'deleted' }));
    uploadedElsewhere = [makeImage({ id: 'n0', uploaded_at_ms: 4000 })];
    Object.defineProperty(window, 'scrollY', { value: 0, configurable: true });
    await act(async () => {
      window.history.replaceState(null, '', '/gallery');
      window.dispatchEvent(new PopStateEvent('popstate'));
    });
    expect(items().map((el) => el.dataset.id).slice(-4)).toEqual(['a0', 'a2', 'b0', 'b1']);
    expect(scrollTo.mock.calls.at(-1)).toEqual([0, 640]);
    // Only the newest page is read again, for what came meanwhile.
    await waitFor(() => expect(items().map((el) => el.dataset.id)).toEqual(['n0', 'a0', 'a2', 'b0', 'b1']));
    const listCalls = () => calls.filter((c) => c.path === '/api/v1/images');
    expect(listCalls()).toHaveLength(3);
    expect(listCalls()[2].url.searchParams.get('cursor')).toBeNull();

    // A link to the gallery, unlike Back, shows it afresh from the top.
    await act(async () => fireEvent.click(screen.getByRole('link', { name: 'Settings' })));
    await screen.findByRole('heading', { name: 'Settings' });
    await act(async () => fireEvent.click(screen.getAllByRole('link', { name: 'Gallery' })[0]));
    await waitFor(() => expect(listCalls()).toHaveLength(4));
  });

  it('gives the focus back to the card of the photo opened when Back returns', async () => {
    mockFetch({
      'GET /api/v1/images': { body: { images: page1, next_cursor: '' } },
      'GET /api/v1/images/a2': { body: page1[2] },
    });
    window.scrollTo = vi.fn() as unknown as typeof window.scrollTo;
    renderApp('/gallery', { user: USER });
    await waitFor(() => expect(items()).toHaveLength(3));
    const card = items()[2].querySelector('a')!;
    card.focus();
    await act(async () => fireEvent.click(card));
    await screen.findByTestId('labels');
    await act(async () => {
      window.history.replaceState(null, '', '/gallery');
      window.dispatchEvent(new PopStateEvent('popstate'));
    });
    await waitFor(() => expect(items()).toHaveLength(3));
    expect(document.activeElement).toBe(items()[2].querySelector('a'));
  });

  it('reads its newest photos again when the server says the stream missed events', async () => {
    let listed = page1;
    mockFetch({ 'GET /api/v1/images': () => ({ body: { images: listed, next_cursor: '' } }) });
    renderApp('/gallery', { user: USER });
    await waitFor(() => expect(items()).toHaveLength(3));
    await act(async () => FakeEventSource.latest().emit('ready', {}, '100'));
    // Meanwhile, in another browser: a1 deleted, n0 uploaded; their events left the window.
    listed = [makeImage({ id: 'n0', uploaded_at_ms: 4000 }), page1[0], page1[2]];
    await act(async () => FakeEventSource.latest().emit('ready', { missed: true }, '200'));
    await waitFor(() => expect(items().map((el) => el.dataset.id)).toEqual(['n0', 'a0', 'a2']));
  });

  it('searches by label, including parent categories', async () => {
    const dog = makeImage({ id: 'dog1' });
    const { calls } = mockFetch({
      'GET /api/v1/images': (url) => ({
        body: { images: url.searchParams.get('label') === 'dog' ? [dog] : page1, next_cursor: '' },
      }),
    });
    renderApp('/gallery', { user: USER });
    await waitFor(() => expect(items()).toHaveLength(3));
    fireEvent.change(screen.getByLabelText('Search by label or category'), { target: { value: ' Dog ' } });
    fireEvent.submit(screen.getByRole('search'));
    await screen.findByRole('heading', { name: 'Photos of “dog”' });
    await waitFor(() => expect(items()).toHaveLength(1));
    expect(window.location.search).toBe('?label=dog');
    expect(calls[calls.length - 1].url.searchParams.get('label')).toBe('dog');
    // Said where a screen reader is: focus stays in the search box.
    await waitFor(() => expect(screen.getByRole('status', { name: '' }).textContent).toBe('1 photo of “dog”.'));
  });

  it('gives the search box the focus when Show all photos leaves a search', async () => {
    mockFetch({ 'GET /api/v1/images': { body: { images: page1, next_cursor: '' } } });
    renderApp('/gallery?label=dog', { user: USER });
    await waitFor(() => expect(items()).toHaveLength(3));
    const showAll = screen.getByRole('link', { name: 'Show all photos' });
    showAll.focus();
    await act(async () => fireEvent.click(showAll));
    expect(window.location.search).toBe('');
    expect(document.activeElement).toBe(screen.getByLabelText('Search by label or category'));
  });

  it('says when a search found the words of labels, and adds live photos whose labels hold them', async () => {
    mockFetch({
      'GET /api/v1/images': { body: { images: [makeImage({ id: 'gs1', uploaded_at_ms: 1000 })], next_cursor: '', label_match: 'words' } },
    });
    renderApp('/gallery?label=retriever%20golden', { user: USER });
    await waitFor(() => expect(items()).toHaveLength(1));
    expect(screen.getByText(/No label or category is “retriever golden”: labels with these words\./)).toBeTruthy();
    const labrador = makeImage({
      id: 'lab1',
      uploaded_at_ms: 9000,
      labels: [{ wnid: 'n02099712', name: 'Labrador retriever golden', confidence: 0.9, parents: ['dog'] }],
    });
    const tench = makeImage({
      id: 'tench1',
      uploaded_at_ms: 9500,
      labels: [{ wnid: 'n01440764', name: 'tench', confidence: 0.9, parents: ['fish'] }],
    });
    await act(async () => {
      FakeEventSource.latest().emit('image', labrador);
      FakeEventSource.latest().emit('image', tench);
    });
    expect(items().map((el) => el.dataset.id)).toEqual(['lab1', 'gs1']);
  });

  it('says so when a search finds nothing', async () => {
    mockFetch({ 'GET /api/v1/images': { body: { images: [], next_cursor: '' } } });
    renderApp('/gallery?label=vehicle', { user: USER });
    expect((await screen.findByTestId('empty-search')).textContent).toContain('No photos of “vehicle” yet');
  });

  // The server finds no photo for separators alone; the page listed every photo for them.
  it('searches for separators alone as the server does, finding nothing', async () => {
    const { calls } = mockFetch({ 'GET /api/v1/images': { body: { images: [], next_cursor: '', label_match: 'words' } } });
    renderApp('/gallery?label=_', { user: USER });
    expect((await screen.findByTestId('empty-search')).textContent).toContain('No photos of “_” yet');
    expect(calls.some((c) => c.path === '/api/v1/images' && c.url.searchParams.get('label') === '_')).toBe(true);
    await waitFor(() => expect(screen.getByRole('status').textContent).toBe('No photos of “_”.'));
  });

  it('selects many photos and deletes them after confirming', async () => {
    const { calls } = mockFetch({
      'GET /api/v1/images': { body: { images: page1, next_cursor: '' } },
      'DELETE /api/v1/images/a0': { status: 204 },
      'DELETE /api/v1/images/a2': { status: 204 },
    });
    renderApp('/gallery', { user: USER });
    await waitFor(() => expect(items()).toHaveLength(3));
    fireEvent.click(screen.getByRole('button', { name: 'Select' }));
    const boxes = screen.getAllByRole('checkbox', { name: /^Select / });
    expect(boxes).toHaveLength(3);
    fireEvent.click(boxes[0]);
    fireEvent.click(boxes[2]);
    expect(screen.getByTestId('selected-count').textContent).toBe('2 selected');
    fireEvent.click(screen.getByRole('button', { name: 'Delete 2' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete 2 photos?' });
    expect(document.activeElement).toBe(within(dialog).getByRole('button', { name: 'Cancel' }));
    await act(async () => {
      fireEvent.click(within(dialog).getByRole('button', { name: 'Delete' }));
    });
    await waitFor(() => expect(items().map((el) => el.dataset.id)).toEqual(['a1']));
    const deletes = calls.filter((c) => c.method === 'DELETE');
    expect(deletes.map((c) => c.path).sort()).toEqual(['/api/v1/images/a0', '/api/v1/images/a2']);
    expect(deletes.every((c) => c.headers['x-csrf-token'] === 'test-csrf-token')).toBe(true);
    expect(screen.getByText('Deleted 2 photos.')).toBeTruthy();
  });

  it('leaves a photo deleted in another tab out of the selection', async () => {
    await selectAllOfTheFirstPage();
    await act(async () => FakeEventSource.latest().emit('image', { id: 'a1', status: 'deleted' }));
    expect(screen.getByTestId('selected-count').textContent).toBe('2 selected');
    expect(screen.getByRole('button', { name: 'Delete 2' })).toBeTruthy();
  });

  it('cancels the delete dialog with Escape and leaves select mode with Escape', async () => {
    await selectAllOfTheFirstPage();
    fireEvent.click(screen.getByRole('button', { name: 'Delete 3' }));
    fireEvent.keyDown(screen.getByRole('dialog'), { key: 'Escape' });
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(items()).toHaveLength(3);
    fireEvent.keyDown(window, { key: 'Escape' });
    expect(screen.queryByRole('checkbox', { name: /^Select / })).toBeNull();
  });

  it('keeps keyboard focus on the toolbar as select mode starts and ends', async () => {
    mockFetch({ 'GET /api/v1/images': { body: { images: page1, next_cursor: '' } } });
    renderApp('/gallery', { user: USER });
    await waitFor(() => expect(items()).toHaveLength(3));
    const select = screen.getByRole('button', { name: 'Select' });
    select.focus();
    fireEvent.click(select);
    // The Select button is gone: focus must not fall back to the page.
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Select all' }));
    fireEvent.keyDown(window, { key: 'Escape' });
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Select' }));
    fireEvent.click(screen.getByRole('button', { name: 'Select' }));
    fireEvent.click(screen.getByRole('button', { name: 'Done' }));
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Select' }));
  });

  it('loads again by itself when the live stream comes back after the server was gone', async () => {
    let down = true;
    mockFetch({
      'GET /api/v1/images': () => {
        if (down) throw new TypeError('Failed to fetch');
        return { body: { images: page1, next_cursor: '' } };
      },
    });
    renderApp('/gallery', { user: USER });
    expect((await screen.findByRole('alert')).textContent).toContain('Cannot reach the server');
    down = false;
    // The hub reopens the stream after its backoff and asks for a resync once it is open.
    await act(async () => FakeEventSource.latest().fail());
    await waitFor(() => expect(FakeEventSource.instances).toHaveLength(2), { timeout: 2500 });
    expect(screen.getByRole('alert').textContent).toContain('Cannot reach the server');
    await act(async () => FakeEventSource.latest().emit('open'));
    await waitFor(() => expect(items()).toHaveLength(3));
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('asks again for thumbnails that failed while the server was gone once the stream is back', async () => {
    mockFetch({ 'GET /api/v1/images': { body: { images: page1, next_cursor: '' } } });
    renderApp('/gallery', { user: USER });
    await waitFor(() => expect(items()).toHaveLength(3));
    FakeEventSource.latest().emit('open');
    // The server is gone: the thumbnail and then the file fail, and a placeholder is left.
    fireEvent.error(items()[0].querySelector('img')!);
    fireEvent.error(items()[0].querySelector('img')!);
    expect(items()[0].querySelector('img')).toBeNull();
    expect(items()[1].querySelector('img')!.getAttribute('src')).toBe('/api/v1/images/a1/thumbnail');
    await act(async () => {
      FakeEventSource.latest().endResponse();
      FakeEventSource.latest().endResponse();
    });
    await waitFor(() => expect(FakeEventSource.instances).toHaveLength(2), { timeout: 2500 });
    expect(items()[0].querySelector('img')).toBeNull();
    await act(async () => FakeEventSource.latest().emit('open'));
    expect(items()[0].querySelector('img')!.getAttribute('src')).toBe('/api/v1/images/a0/thumbnail');
  });

  it('updates cards live from events', async () => {
    const pending = makeImage({ id: 'p1', status: 'processing', labels: undefined, uploaded_at_ms: 5000 });
    mockFetch({ 'GET /api/v1/images': { body: { images: [pending], next_cursor: '' } } });
    renderApp('/gallery', { user: USER });
    await waitFor(() => expect(items()).toHaveLength(1));
    expect(items()[0].textContent).toContain('Classifying');
    // The server makes thumbnails from the stored file, so one is shown before the result.
    expect(items()[0].querySelector('img')!.getAttribute('src')).toBe('/api/v1/images/p1/thumbnail');
    await act(async () => FakeEventSource.latest().emit('image', makeImage({ id: 'p1', uploaded_at_ms: 5000 })));
    expect(items()[0].textContent).toContain('golden retriever');
    expect(items()[0].textContent).not.toContain('Classifying');
  });

  it('drops a card whose photo was deleted in another tab, and adds one uploaded there', async () => {
    const kept = makeImage({ id: 'k1', uploaded_at_ms: 5000 });
    const gone = makeImage({ id: 'g1', uploaded_at_ms: 4000 });
    mockFetch({ 'GET /api/v1/images': { body: { images: [kept, gone], next_cursor: '' } } });
    renderApp('/gallery', { user: USER });
    await waitFor(() => expect(items()).toHaveLength(2));
    await act(async () => FakeEventSource.latest().emit('image', { id: 'g1', status: 'deleted' }));
    expect(items()).toHaveLength(1);
    await act(async () => FakeEventSource.latest().emit('image', makeImage({ id: 'n1', uploaded_at_ms: 6000 })));
    expect(items()).toHaveLength(2);
  });

  it('moves a photo uploaded again to the top, as the server lists it', async () => {
    mockFetch({ 'GET /api/v1/images': { body: { images: page1, next_cursor: '' } } });
    renderApp('/gallery', { user: USER });
    await waitFor(() => expect(items()).toHaveLength(3));
    const ids = () => items().map((item) => item.getAttribute('data-id'));
    expect(ids()).toEqual(['a0', 'a1', 'a2']);
    await act(async () => FakeEventSource.latest().emit('image', makeImage({ id: 'a2', uploaded_at_ms: 4000 })));
    expect(ids()).toEqual(['a2', 'a0', 'a1']);
  });
});

describe('gallery cards', () => {
  it('show a pending photo’s file name as it is, and capitalise labels only', async () => {
    loadStyles();
    const pending = makeImage({ id: 'p2', status: 'queued', filename: 'n01614925_bald_eagle.JPEG', labels: undefined });
    mockFetch({ 'GET /api/v1/images': { body: { images: [pending, makeImage({ id: 'd2' })], next_cursor: '' } } });
    renderApp('/gallery', { user: USER });
    await waitFor(() => expect(items()).toHaveLength(2));
    const [name, label] = items().map((item) => item.querySelector('.card-label')!);
    expect(name.textContent).toBe('n01614925_bald_eagle.JPEG');
    expect(getComputedStyle(name).textTransform).not.toBe('capitalize');
    expect(label.textContent).toBe('golden retriever');
    // Its first letter only: "Black and Tan Coonhound" keeps its "and".
    expect(label.classList.contains('label-text')).toBe(true);
    expect(name.classList.contains('label-text')).toBe(false);
    expect(getComputedStyle(label).textTransform).not.toBe('capitalize');
  });

  it('keep an event that came while their page was on its way', async () => {
    let answer!: (page: { images: unknown[]; next_cursor: string }) => void;
    const queued = makeImage({ id: 'r1', status: 'queued', labels: undefined });
    mockFetch({
      'GET /api/v1/images': () => new Promise((resolve) => (answer = (body) => resolve({ body }))),
    });
    renderApp('/gallery', { user: USER });
    await waitFor(() => expect(answer).toBeDefined());
    await act(async () => FakeEventSource.latest().emit('image', makeImage({ id: 'r1' })));
    await act(async () => answer({ images: [queued], next_cursor: '' }));
    await waitFor(() => expect(items()).toHaveLength(1));
    expect(items()[0].textContent).toContain('golden retriever');
    expect(items()[0].querySelector('.badge')).toBeNull();
  });
});

describe('matchesLabel', () => {
  it('matches label names and parent categories', () => {
    const image = makeImage();
    expect(matchesLabel(image, 'dog')).toBe(true);
    expect(matchesLabel(image, 'Golden Retriever')).toBe(true);
    expect(matchesLabel(image, 'vehicle')).toBe(false);
    // Like the server, a label under 10 % (after the top one) is not a search term.
    const weak = makeImage({
      labels: [
        { wnid: 'n01440764', name: 'tench', confidence: 0.9, parents: ['fish', 'animal'] },
        { wnid: 'n02099601', name: 'golden retriever', confidence: 0.05, parents: ['dog', 'mammal', 'animal'] },
      ],
    });
    expect(matchesLabel(weak, 'fish')).toBe(true);
    expect(matchesLabel(weak, 'dog')).toBe(false);
  });

  it('compares words as the server does, and words within a term when the server did', () => {
    const image = makeImage({
      labels: [
        { wnid: 'n02108089', name: 'German Shepherd Dog', confidence: 0.8, parents: ['dog', 'mammal'] },
        { wnid: 'n02012849', name: 'crane (bird)', confidence: 0.15, parents: ['bird'] },
        { wnid: 'n02109525', name: 'St. Bernard', confidence: 0.12, parents: ['dog'] },
      ],
    });
    expect(matchesLabel(image, 'german-shepherd  DOG')).toBe(true);
    expect(matchesLabel(image, 'st bernard')).toBe(true);
    expect(matchesLabel(image, 'crane')).toBe(true);
    expect(matchesLabel(image, 'german shepherd')).toBe(false);
    expect(matchesLabel(image, 'german shepherd', true)).toBe(true);
    expect(matchesLabel(image, 'shepherd', true)).toBe(true);
    expect(matchesLabel(image, 'shep', true)).toBe(false);
    expect(matchesLabel(image, 'dog german', true)).toBe(false);
    expect(matchesLabel(image, 'crane bird')).toBe(true);
    expect(matchesLabel(image, 'St Bernard’s', true)).toBe(false);
  });

  it('leaves out apostrophes, and finds nothing for separators alone', () => {
    const image = makeImage({
      labels: [{ wnid: 'n03325584', name: "lady's slipper", confidence: 0.9, parents: ['plant'] }],
    });
    expect(matchesLabel(image, 'lady’s slipper')).toBe(true);
    expect(matchesLabel(image, 'ladys slipper')).toBe(true);
    expect(matchesLabel(image, '')).toBe(true);
    expect(matchesLabel(image, '_')).toBe(false);
  });
});
