// Shapes of the Argus JSON API (README "HTTP API", src/api/openapi.json).

export type ImageStatus = 'queued' | 'processing' | 'done' | 'failed';

export interface Label {
  wnid: string;
  name: string;
  confidence: number;
  parents: string[];
}

export interface SpiritDog {
  wnid: string;
  name: string;
  confidence: number;
}

export interface Image {
  id: string;
  status: ImageStatus;
  filename: string;
  content_type: string;
  size_bytes: number;
  width: number;
  height: number;
  uploaded_at_ms: number;
  /** When the current round of classification began: a retry after a failure starts a new one. */
  queued_at_ms?: number;
  urls: { self: string; file: string };
  labels?: Label[];
  spirit_dog?: SpiritDog;
  model?: string;
  error?: string;
  timings?: { queued_ms?: number; inference_ms?: number; total_ms?: number };
}

export interface ImagePage {
  images: Image[];
  next_cursor: string;
  /** With a label: 'words' when no photo has it as a label or category, and the photos
   * listed have one holding its words. */
  label_match?: 'term' | 'words';
}

export interface User {
  id: string | number;
  email: string;
  is_admin: boolean;
}

export interface ApiToken {
  id: string | number;
  name: string;
  created_at_ms: number;
  last_used_at_ms: number | null;
}

export interface CreatedToken {
  id: string | number;
  name: string;
  token: string;
}

export interface ScalerDecision {
  at_ms: number;
  action: string;
  from: number;
  to: number;
  depth: number;
  reason: string;
}

export interface OpsStatus {
  queue: { ready: number; in_flight: number; dead: number };
  images: { queued: number; processing: number; done: number; failed: number };
  /** Absent under `argus web`, whose workers a separate `argus scaler` (or KEDA) scales. */
  scaler?: {
    desired: number;
    running: number;
    stopping: number;
    crashes: number;
    /** Workers in a row that exited soon after starting; the scaler waits longer after each. */
    failed_starts?: number;
    /** Cores idle over the scaler's last tick; a worker beyond the first waits for one. */
    idle_cores?: number;
    worker_pids: number[];
    decisions: ScalerDecision[];
  };
  /**
   * What an accepted upload survives (--durability): any process's crash, or a power loss too.
   * Absent when no store follows it (the cluster profile: PostgreSQL, NATS and S3 decide).
   */
  durability?: 'process' | 'power';
}

export const FINAL_STATUSES: readonly ImageStatus[] = ['done', 'failed'];

export function isFinal(status: ImageStatus): boolean {
  return status === 'done' || status === 'failed';
}

function rank(status: ImageStatus): number {
  return status === 'queued' ? 0 : status === 'processing' ? 1 : 2;
}

/**
 * Whether `known` is a later state of the image than `image`: a later round (a failed image
 * tried again), or further on in the same round. A late, older answer never moves an image
 * backwards, and a new round moves a failed image back to queued.
 */
export function isLater(known: Image, image: Image): boolean {
  const knownRound = known.queued_at_ms ?? 0;
  const round = image.queued_at_ms ?? 0;
  if (knownRound !== round) return knownRound > round;
  return rank(known.status) > rank(image.status);
}
