// Side-effecting services behind a context so tests can inject fakes.
import { type ReactNode, createContext, useContext } from 'react';
import { type UploadFn, xhrUpload } from '../api/upload';
import type { EventSourceFactory } from './events';
import { sharedEventSource } from './shared-events';

export interface Services {
  eventSource: EventSourceFactory;
  upload: UploadFn;
  /** Polling interval of the ops dashboard. */
  opsIntervalMs: number;
  /** Whether to open the live event stream (off in tests that do not need it). */
  liveEvents: boolean;
}

export const defaultServices: Services = {
  eventSource: sharedEventSource(),
  upload: xhrUpload,
  opsIntervalMs: 3000,
  liveEvents: true,
};

const ServicesContext = createContext<Services>(defaultServices);

export function ServicesProvider({
  value,
  children,
}: {
  value?: Partial<Services>;
  children: ReactNode;
}) {
  return (
    <ServicesContext.Provider value={{ ...defaultServices, ...value }}>
      {children}
    </ServicesContext.Provider>
  );
}

export function useServices(): Services {
  return useContext(ServicesContext);
}
