import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/client';
import { FakeEventSource, controlledUploader, imageFile, makeImage, mockFetch, USER } from '../test/fakes';
import { renderApp } from '../test/render';

function rows() {
  return screen.getAllByTestId('upload-row');
}

function rowFor(name: string) {
  return rows().find((row) => row.textContent?.includes(name))!;
}

function statusOf(name: string) {
  return within(rowFor(name)).getByTestId('upload-status').textContent;
}

function progressOf(name: string) {
  return within(rowFor(name)).getByRole('progressbar').getAttribute('aria-valuenow');
}

async function startWith(files: File[]) {
  mockFetch({ 'GET /api/v1/images': { body: { images: [], next_cursor: '' } } });
  const uploader = controlledUploader();
  renderApp('/gallery', { user: USER, services: { upload: uploader.upload } });
  await screen.findByTestId('empty-state');
  const input = document.querySelector('input[type=file]') as HTMLInputElement;
  await act(async () => {
    fireEvent.change(input, { target: { files } });
  });
  return uploader;
}

describe('upload list', () => {
  it('shows per-file progress, then queued → classifying → done live from events', async () => {
    const { uploads } = await startWith([imageFile('cat.jpg'), imageFile('dog.png', 'image/png')]);
    expect(uploads).toHaveLength(2);
    expect(rows()).toHaveLength(2);
    expect(statusOf('cat.jpg')).toBe('Uploading 0%');

    await act(async () => uploads[0].progress(0.42));
    expect(progressOf('cat.jpg')).toBe('42');
    expect(statusOf('cat.jpg')).toBe('Uploading 42%');

    const queued = makeImage({ id: 'cat1', filename: 'cat.jpg', status: 'queued', labels: undefined, spirit_dog: undefined });
    await act(async () => uploads[0].resolve(queued));
    expect(progressOf('cat.jpg')).toBe('100');
    expect(statusOf('cat.jpg')).toBe('Queued');

    const source = FakeEventSource.latest();
    await act(async () => source.emit('image', { ...queued, status: 'processing' }));
    expect(statusOf('cat.jpg')).toBe('Classifying');

    const done = makeImage({
      id: 'cat1',
      filename: 'cat.jpg',
      labels: [{ wnid: 'n02123045', name: 'tabby cat', confidence: 0.77, parents: ['cat', 'mammal', 'animal'] }],
    });
    await act(async () => source.emit('image', done));
    expect(statusOf('cat.jpg')).toBe('Done');
    expect(rowFor('cat.jpg').textContent).toContain('tabby cat');
    expect(screen.getByTestId('upload-summary').textContent).toMatch(/1 done · 1 in progress/);
    // The finished image also shows up in the gallery without a reload.
    expect(screen.getAllByTestId('gallery-item')).toHaveLength(1);
  });

  it('says when a file is the same photo as another row’s', async () => {
    const { uploads } = await startWith([imageFile('rex.jpg'), imageFile('rex copy.jpg'), imageFile('cat.jpg')]);
    const rex = makeImage({ id: 'rex1', filename: 'rex.jpg' });
    await act(async () => uploads[0].resolve(rex));
    await act(async () => uploads[1].resolve({ ...rex, filename: 'rex copy.jpg' }));
    await act(async () => uploads[2].resolve(makeImage({ id: 'cat1', filename: 'cat.jpg' })));
    expect(within(rowFor('rex copy.jpg')).getByTestId('same-photo').textContent).toBe(
      'Same photo as rex.jpg: one in the gallery',
    );
    expect(within(rowFor('rex.jpg')).queryByTestId('same-photo')).toBeNull();
    expect(within(rowFor('cat.jpg')).queryByTestId('same-photo')).toBeNull();
    expect(statusOf('rex copy.jpg')).toBe('Done');
  });

  it('shows the failure reason from the server', async () => {
    const { uploads } = await startWith([imageFile('broken.jpg')]);
    const queued = makeImage({ id: 'b1', filename: 'broken.jpg', status: 'queued', labels: undefined });
    await act(async () => uploads[0].resolve(queued));
    await act(async () =>
      FakeEventSource.latest().emit('image', { ...queued, status: 'failed', error: 'corrupt JPEG data' }),
    );
    expect(statusOf('broken.jpg')).toMatch(/^Failed/);
    expect(rowFor('broken.jpg').textContent).toContain('Corrupt JPEG data');
  });

  it('reports a rejected upload (413) in sizes, then refuses bigger files without sending them', async () => {
    const { uploads } = await startWith([
      imageFile('huge.jpg', 'image/jpeg', 3_000_000),
      imageFile('a.jpg'),
      imageFile('b.jpg'),
      imageFile('bigger.jpg', 'image/jpeg', 4_000_000),
    ]);
    expect(uploads).toHaveLength(3);
    await act(async () =>
      uploads[0].reject(new ApiError(413, 'too_large', 'huge.jpg: 3000000 bytes is over the limit of 2097152 bytes')),
    );
    expect(statusOf('huge.jpg')).toBe('Failed');
    expect(within(rowFor('huge.jpg')).getByRole('note').textContent).toBe('2.9 MB is over the 2 MB limit.');
    expect(rowFor('huge.jpg').textContent).toContain(' · 2.9 MB');
    expect(statusOf('bigger.jpg')).toBe('Failed');
    expect(within(rowFor('bigger.jpg')).getByRole('note').textContent).toBe('3.8 MB is over the 2 MB limit.');
    expect(uploads.map((u) => u.file.name)).not.toContain('bigger.jpg');
  });

  it('offers Retry after a dropped connection or a busy server, not for a refused file', async () => {
    const { uploads } = await startWith([imageFile('a.jpg'), imageFile('b.jpg'), imageFile('c.jpg')]);
    await act(async () =>
      uploads[0].reject(new ApiError(0, 'network_error', 'The upload was interrupted. Check your connection.')),
    );
    await act(async () => uploads[1].reject(new ApiError(503, 'queue_full', '900 images are waiting; retry shortly')));
    await act(async () => uploads[2].reject(new ApiError(415, 'unsupported_media', 'c.jpg: not a supported image')));
    expect(statusOf('a.jpg')).toBe('Failed');
    expect(within(rowFor('c.jpg')).queryByRole('button', { name: /retry/i })).toBeNull();
    expect(within(rowFor('b.jpg')).getByRole('button', { name: 'Retry upload of b.jpg' })).toBeTruthy();

    await act(async () => within(rowFor('a.jpg')).getByRole('button', { name: 'Retry upload of a.jpg' }).click());
    expect(uploads).toHaveLength(4);
    expect(uploads[3].file.name).toBe('a.jpg');
    expect(statusOf('a.jpg')).toBe('Uploading 0%');
    expect(within(rowFor('a.jpg')).queryByRole('note')).toBeNull();
    await act(async () => uploads[3].resolve(makeImage({ id: 'a1', filename: 'a.jpg', status: 'queued' })));
    expect(statusOf('a.jpg')).toBe('Queued');
    expect(screen.getByTestId('upload-summary').textContent).toContain('2 failed');
  });

  it('marks the rows of a deleted photo, links them no more, and leaves the same bytes sent again alone', async () => {
    const { uploads } = await startWith([imageFile('rex.jpg'), imageFile('rex copy.jpg'), imageFile('cat.jpg')]);
    const rex = makeImage({ id: 'rex1', filename: 'rex.jpg' });
    await act(async () => uploads[0].resolve(rex));
    await act(async () => uploads[1].resolve({ ...rex, filename: 'rex copy.jpg' }));
    await act(async () => uploads[2].resolve(makeImage({ id: 'cat1', filename: 'cat.jpg' })));
    expect(within(rowFor('rex.jpg')).getByRole('link', { name: 'rex.jpg' })).toBeTruthy();

    await act(async () => FakeEventSource.latest().emit('image', { id: 'rex1', status: 'deleted' }));
    expect(statusOf('rex.jpg')).toBe('Deleted');
    expect(statusOf('rex copy.jpg')).toBe('Deleted');
    expect(within(rowFor('rex.jpg')).queryByRole('link')).toBeNull();
    expect(within(rowFor('rex copy.jpg')).queryByTestId('same-photo')).toBeNull();
    expect(statusOf('cat.jpg')).toBe('Done');
    expect(screen.getByTestId('upload-summary').textContent).toBe('1 done · 2 deleted');

    // The same bytes uploaded again are a new photo, with a row of its own.
    await act(async () => {
      fireEvent.change(document.querySelector('input[type=file]') as HTMLInputElement, {
        target: { files: [imageFile('rex again.jpg')] },
      });
    });
    const again = makeImage({ id: 'rex1', filename: 'rex again.jpg', status: 'queued' });
    await act(async () => uploads[3].resolve(again));
    await act(async () => FakeEventSource.latest().emit('image', { ...again, status: 'processing' }));
    expect(statusOf('rex again.jpg')).toBe('Classifying');
    expect(within(rowFor('rex again.jpg')).queryByTestId('same-photo')).toBeNull();
    expect(statusOf('rex.jpg')).toBe('Deleted');
  });

  it('sends again by itself what failed while the server was gone, once the stream is back', async () => {
    const { uploads } = await startWith([imageFile('a.jpg'), imageFile('b.jpg'), imageFile('c.jpg')]);
    FakeEventSource.latest().emit('open');
    await act(async () =>
      uploads[0].reject(new ApiError(0, 'network_error', 'The upload was interrupted. Check your connection.')),
    );
    await act(async () =>
      uploads[1].reject(new ApiError(503, 'shutting_down', 'the server is shutting down; retry shortly')),
    );
    await act(async () => uploads[2].reject(new ApiError(415, 'unsupported_media', 'c.jpg: not a supported image')));
    await act(async () => {
      FakeEventSource.latest().endResponse();
      FakeEventSource.latest().endResponse();
    });
    await waitFor(() => expect(FakeEventSource.instances).toHaveLength(2), { timeout: 2500 });
    expect(uploads).toHaveLength(3);
    await act(async () => FakeEventSource.latest().emit('open'));
    expect(uploads.map((u) => u.file.name)).toEqual(['a.jpg', 'b.jpg', 'c.jpg', 'a.jpg', 'b.jpg']);
    expect(statusOf('a.jpg')).toBe('Uploading 0%');
    expect(statusOf('c.jpg')).toBe('Failed');
  });

  it('leaves out the file name the server puts before its reason', async () => {
    const { uploads } = await startWith([imageFile('fake.jpg')]);
    await act(async () =>
      uploads[0].reject(new ApiError(415, 'unsupported_media', 'fake.jpg: not a supported image (JPEG, PNG)')),
    );
    expect(within(rowFor('fake.jpg')).getByRole('note').textContent).toBe('Not a supported image (JPEG, PNG)');
  });

  it('moves a row on an event that comes between the upload’s answer and the next render', async () => {
    const { uploads } = await startWith([imageFile('quick.jpg')]);
    const done = makeImage({ id: 'q1', filename: 'quick.jpg' });
    await act(async () => {
      uploads[0].resolve({ ...done, status: 'queued', labels: undefined, spirit_dog: undefined });
      // The answer is handled, but React has not rendered it yet when the event comes.
      await Promise.resolve();
      FakeEventSource.latest().emit('image', done);
    });
    expect(statusOf('quick.jpg')).toBe('Done');
    const card = screen.getByTestId('gallery-item');
    expect(card.textContent).toContain('golden retriever');
    expect(card.querySelector('.badge')).toBeNull();
  });

  it('shows cancelled uploads as cancelled, not failed, and clears them with the finished', async () => {
    const { uploads } = await startWith(['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg'].map((name) => imageFile(name)));
    fireEvent.click(screen.getByRole('button', { name: 'Cancel upload of a.jpg' }));
    fireEvent.click(screen.getByRole('button', { name: 'Cancel upload of d.jpg' }));
    await act(async () => {});
    expect(uploads[0].aborted).toBe(true);
    expect(statusOf('a.jpg')).toBe('Cancelled');
    expect(statusOf('d.jpg')).toBe('Cancelled');
    expect(rowFor('a.jpg').dataset.phase).toBe('cancelled');
    expect(screen.getByTestId('upload-summary').textContent).toBe('0 done · 2 cancelled · 2 in progress');
    expect(uploads.map((u) => u.file.name)).toEqual(['a.jpg', 'b.jpg', 'c.jpg']);
    screen.getByRole('button', { name: 'Clear finished' }).focus();
    fireEvent.click(screen.getByRole('button', { name: 'Clear finished' }));
    expect(rows().map((row) => row.dataset.phase)).toEqual(['uploading', 'uploading']);
    // The button went with the press: focus goes to the first row's control, not to <body>.
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Cancel upload of b.jpg' }));
  });

  it('keeps the focus in the list when a dismissed row goes', async () => {
    const { uploads } = await startWith(['a.jpg', 'b.jpg'].map((name) => imageFile(name)));
    fireEvent.click(screen.getByRole('button', { name: 'Cancel upload of a.jpg' }));
    fireEvent.click(screen.getByRole('button', { name: 'Cancel upload of b.jpg' }));
    await act(async () => {});
    expect(uploads).toHaveLength(2);
    const dismissA = screen.getByRole('button', { name: 'Dismiss a.jpg' });
    dismissA.focus();
    fireEvent.click(dismissA);
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Dismiss b.jpg' }));
    fireEvent.click(screen.getByRole('button', { name: 'Dismiss b.jpg' }));
    expect(screen.queryByTestId('upload-row')).toBeNull();
    expect(document.activeElement?.id).toBe('main');
  });

  it('never moves a status backwards when an old answer arrives late', async () => {
    const { uploads } = await startWith([imageFile('fast.jpg')]);
    const done = makeImage({ id: 'f1', filename: 'fast.jpg' });
    // The event arrives before the upload's own answer.
    await act(async () => FakeEventSource.latest().emit('image', done));
    await act(async () => uploads[0].resolve({ ...done, status: 'queued' }));
    expect(statusOf('fast.jpg')).toBe('Done');
  });

  it('rejects files the server cannot classify and uploads at most three at once', async () => {
    const files = [
      imageFile('notes.txt', 'text/plain'),
      imageFile('scan.tif', 'image/tiff'),
      ...Array.from({ length: 5 }, (_, i) => imageFile(`p${i}.jpg`)),
    ];
    const { uploads } = await startWith(files);
    expect(statusOf('notes.txt')).toBe('Failed');
    expect(rowFor('notes.txt').textContent).toMatch(/Not a supported image: choose JPEG, PNG, WebP, GIF, HEIC or AVIF/);
    expect(statusOf('scan.tif')).toBe('Failed');
    expect(uploads).toHaveLength(3);
    expect(statusOf('p4.jpg')).toBe('Waiting');
    await act(async () => uploads[0].resolve(makeImage({ id: 'x0', filename: 'p0.jpg', status: 'queued' })));
    await act(async () => new Promise((r) => setTimeout(r, 10)));
    expect(uploads).toHaveLength(4);
  });

  it('sends nothing more once the user logs out: uploads under way stop, the waiting ones never go', async () => {
    const { uploads } = await startWith(Array.from({ length: 5 }, (_, i) => imageFile(`p${i}.jpg`)));
    expect(uploads).toHaveLength(3);
    mockFetch({ 'POST /api/v1/auth/logout': { status: 204 } });
    await act(async () => screen.getByRole('button', { name: 'Log out' }).click());
    await act(async () => screen.getByRole('button', { name: 'Log out and cancel' }).click());
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Log out' })).toBeNull());
    expect(uploads.map((upload) => upload.aborted)).toEqual([true, true, true]);
    await act(async () => new Promise((r) => setTimeout(r, 10)));
    expect(uploads).toHaveLength(3);
  });

  it('asks before the tab is closed while files wait to be sent, not once they are', async () => {
    const { uploads } = await startWith([imageFile('p0.jpg')]);
    const leaving = () => {
      const event = new Event('beforeunload', { cancelable: true });
      window.dispatchEvent(event);
      return event.defaultPrevented;
    };
    expect(leaving()).toBe(true);
    await act(async () => uploads[0].resolve(makeImage({ id: 'x0', filename: 'p0.jpg', status: 'queued' })));
    expect(leaving()).toBe(false);
  });

  it('reads out the files refused at once, then one summary when a drop of many has settled', async () => {
    const { uploads } = await startWith([imageFile('notes.txt', 'text/plain'), imageFile('p0.jpg'), imageFile('p1.jpg')]);
    const live = () => screen.getByRole('status').textContent;
    await waitFor(() => expect(live()).toBe('notes.txt: not a supported image.'));
    await act(async () => uploads[0].resolve(makeImage({ id: 'x0', filename: 'p0.jpg' })));
    await act(async () => uploads[1].reject(new ApiError(400, 'invalid_argument', 'p1.jpg: truncated JPEG')));
    // With what the last file's failure said at the same moment.
    await waitFor(() => expect(live()).toMatch(/(^|\. )Uploads finished: 1 done, 2 failed\.$/));
  });

  it('accepts dropped files', async () => {
    mockFetch({ 'GET /api/v1/images': { body: { images: [], next_cursor: '' } } });
    const { upload, uploads } = controlledUploader();
    renderApp('/gallery', { user: USER, services: { upload } });
    const empty = await screen.findByTestId('empty-state');
    const zone = within(empty).getByTestId('dropzone');
    await act(async () => {
      fireEvent.drop(zone, { dataTransfer: { files: [imageFile('drop.jpg')] } });
    });
    expect(uploads.map((u) => u.file.name)).toEqual(['drop.jpg']);
  });

  it('opens a dropped folder: its photos and its subfolders’ are sent, other files left out', async () => {
    mockFetch({ 'GET /api/v1/images': { body: { images: [], next_cursor: '' } } });
    const { upload, uploads } = controlledUploader();
    renderApp('/gallery', { user: USER, services: { upload } });
    const fileEntry = (file: File) => ({ isFile: true, isDirectory: false, name: file.name, file: (ok: (f: File) => void) => ok(file) });
    // The reader gives its entries in two batches, then an empty one, as Chromium does past 100.
    const folderEntry = (name: string, entries: object[]) => ({
      isFile: false,
      isDirectory: true,
      name,
      createReader: () => {
        const batches = [entries.slice(0, 1), entries.slice(1), []];
        return { readEntries: (ok: (batch: object[]) => void) => ok(batches.shift() ?? []) };
      },
    });
    const holiday = folderEntry('holiday', [
      fileEntry(imageFile('b10.jpg')),
      fileEntry(new File(['x'], '.DS_Store')),
      fileEntry(imageFile('._b10.jpg')),
      folderEntry('day 2', [fileEntry(imageFile('c.png', 'image/png'))]),
      fileEntry(imageFile('b9.jpg')),
    ]);
    const item = (entry: object, file: File) => ({ kind: 'file', webkitGetAsEntry: () => entry, getAsFile: () => file });
    const loose = imageFile('loose.jpg');
    const empty = await screen.findByTestId('empty-state');
    await act(async () => {
      fireEvent.drop(within(empty).getByTestId('dropzone'), {
        dataTransfer: {
          items: [
            item(holiday, new File([], 'holiday')),
            item(fileEntry(loose), loose),
            item(folderEntry('notes', [fileEntry(new File(['x'], 'todo.txt'))]), new File([], 'notes')),
          ],
          files: [],
          types: ['Files'],
        },
      });
    });
    // Three are sent at once, the fourth waits its turn.
    await waitFor(() => expect(uploads.map((u) => u.file.name)).toEqual(['b9.jpg', 'b10.jpg', 'c.png']));
    const rows = screen.getAllByTestId('upload-row').map((row) => row.textContent);
    expect(rows).toHaveLength(4);
    expect(rows[3]).toContain('loose.jpg');
    expect(screen.getByTestId('dropzone-note').textContent).toBe('No photos in “notes”.');
  });

  // Dropped on a photo card, the browser opened the file in place of the app.
  it('takes files dropped anywhere on the gallery, and those on the drop area once', async () => {
    mockFetch({ 'GET /api/v1/images': { body: { images: [makeImage({ id: 'c1' })], next_cursor: '' } } });
    const { upload, uploads } = controlledUploader();
    renderApp('/gallery', { user: USER, services: { upload } });
    const card = await screen.findByTestId('gallery-item');
    let taken = true;
    await act(async () => {
      taken = fireEvent.drop(card, { dataTransfer: { files: [imageFile('on-card.jpg')], types: ['Files'] } });
    });
    expect(taken).toBe(false); // the browser does not open it
    await act(async () => {
      fireEvent.drop(screen.getByTestId('dropzone'), {
        dataTransfer: { files: [imageFile('on-zone.jpg')], types: ['Files'] },
      });
    });
    expect(uploads.map((u) => u.file.name)).toEqual(['on-card.jpg', 'on-zone.jpg']);
  });
});
