import { render } from '@testing-library/react';
import { App } from '../App';
import type { User } from '../api/types';
import type { Services } from '../lib/services';
import { FakeEventSource } from './fakes';

/** Renders the whole app at a path with a known user and fake services. */
export function renderApp(path: string, { user = null, services = {} }: { user?: User | null; services?: Partial<Services> } = {}) {
  window.history.replaceState(null, '', path);
  FakeEventSource.instances = [];
  return render(<App initialUser={user} services={{ eventSource: FakeEventSource.factory, ...services }} />);
}
