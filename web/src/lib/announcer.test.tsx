import { act, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AnnouncerProvider, useAnnounce } from './announcer';

function Announcing({ text }: { text: string }) {
  const announce = useAnnounce();
  return <button onClick={() => announce(text)}>Announce</button>;
}

describe('AnnouncerProvider', () => {
  afterEach(() => vi.useRealTimers());

  it('reads out the latest message in its live region', () => {
    vi.useFakeTimers();
    render(
      <AnnouncerProvider>
        <Announcing text="3 photos classified" />
      </AnnouncerProvider>,
    );
    fireEvent.click(screen.getByText('Announce'));
    act(() => vi.advanceTimersByTime(100));
    expect(screen.getByRole('status').textContent).toBe('3 photos classified.');
  });

  it('reads out together the messages that come at once, each once', () => {
    vi.useFakeTimers();
    function Two() {
      const announce = useAnnounce();
      return (
        <button
          onClick={() => {
            announce('Status: Done, sock');
            announce('Uploads finished: 2 done, 0 failed.');
            announce('Status: Done, sock');
          }}
        >
          Both
        </button>
      );
    }
    render(
      <AnnouncerProvider>
        <Two />
      </AnnouncerProvider>,
    );
    fireEvent.click(screen.getByText('Both'));
    act(() => vi.advanceTimersByTime(100));
    expect(screen.getByRole('status').textContent).toBe('Status: Done, sock. Uploads finished: 2 done, 0 failed.');
  });

  it('leaves no pending update behind when it goes away', () => {
    vi.useFakeTimers();
    const { unmount } = render(
      <AnnouncerProvider>
        <Announcing text="done" />
      </AnnouncerProvider>,
    );
    fireEvent.click(screen.getByText('Announce'));
    unmount();
    expect(vi.getTimerCount()).toBe(0);
  });
});
