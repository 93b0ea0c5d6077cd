// One polite aria-live region for the whole app: status changes are read out once.
import {
  type ReactNode,
  createContext,
  useCallback,
  useContext,
  useEffect,
  useRef,
  useState,
} from 'react';

const AnnounceContext = createContext<(message: string) => void>(() => {});

export function AnnouncerProvider({ children }: { children: ReactNode }) {
  const [message, setMessage] = useState('');
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  // Messages that come together (a photo's result and the batch it ended) are read out
  // together: the last one alone left the others unsaid.
  const queued = useRef<string[]>([]);
  // An event that comes after the app went away (a fetch answered late) must not schedule
  // an update of it: the timer then fired after a test's window was gone.
  const mounted = useRef(true);
  const announce = useCallback((text: string) => {
    if (!mounted.current) return;
    // Clearing first makes screen readers repeat an identical message.
    setMessage('');
    if (!queued.current.includes(text)) queued.current.push(text);
    clearTimeout(pending.current);
    pending.current = setTimeout(() => {
      setMessage(queued.current.map((part) => (/[.!?]$/.test(part) ? part : `${part}.`)).join(' '));
      queued.current = [];
    }, 50);
  }, []);
  // A message still pending when the app goes away must not update it afterwards.
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
      clearTimeout(pending.current);
    };
  }, []);
  return (
    <AnnounceContext.Provider value={announce}>
      {children}
      <div className="visually-hidden" role="status" aria-live="polite" aria-atomic="true">
        {message}
      </div>
    </AnnounceContext.Provider>
  );
}

export function useAnnounce() {
  return useContext(AnnounceContext);
}
