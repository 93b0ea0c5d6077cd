import { type ReactNode, createContext, useContext, useEffect, useRef, useState } from 'react';
import type { Image } from '../api/types';
import { type ConnectionState, ImageEventHub } from './events';
import { useAuth } from './auth';
import { useServices } from './services';

const HubContext = createContext<ImageEventHub | null>(null);

/** Opens the event stream while someone is logged in. */
export function LiveEventsProvider({ children }: { children: ReactNode }) {
  const { user, checkSession } = useAuth();
  const { eventSource, liveEvents } = useServices();
  const [hub, setHub] = useState<ImageEventHub | null>(null);
  const userId = user?.id;

  useEffect(() => {
    if (userId === undefined) {
      setHub(null);
      return;
    }
    const created = new ImageEventHub(eventSource);
    // A session ended elsewhere shows only as a lost stream: the page said Offline for good
    // instead of going to the log-in page.
    created.onLost(checkSession);
    if (liveEvents) created.start();
    setHub(created);
    return () => created.stop();
  }, [userId, eventSource, liveEvents, checkSession]);

  return <HubContext.Provider value={hub}>{children}</HubContext.Provider>;
}

export function useEventHub(): ImageEventHub | null {
  return useContext(HubContext);
}

/** Calls handler for every image update (events, upload answers). */
export function useImageUpdates(handler: (image: Image) => void) {
  const hub = useEventHub();
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    if (!hub) return;
    return hub.subscribe((image) => ref.current(image));
  }, [hub]);
}

/** Calls handler with the id of every image the account deletes, in any tab. */
export function useImageDeletions(handler: (id: string) => void) {
  const hub = useEventHub();
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    if (!hub) return;
    return hub.onDeleted((id) => ref.current(id));
  }, [hub]);
}

/** Calls handler when a stream opens after one was lost: events may have been missed. */
export function useResync(handler: () => void) {
  const hub = useEventHub();
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    if (!hub) return;
    return hub.onResync(() => ref.current());
  }, [hub]);
}

export function useConnectionState(): ConnectionState {
  const hub = useEventHub();
  const [state, setState] = useState<ConnectionState>(hub?.connectionState ?? 'closed');
  useEffect(() => {
    if (!hub) return;
    setState(hub.connectionState);
    return hub.onState(setState);
  }, [hub]);
  return state;
}
