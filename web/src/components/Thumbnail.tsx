import { useState } from 'react';
import { urls } from '../api/client';
import type { Image } from '../api/types';
import { useResync } from '../lib/live';
import { Icon } from './Icon';

type Stage = 'thumb' | 'file' | 'broken';

/**
 * The 256-pixel thumbnail, which the server makes from the stored file on first request,
 * whatever the image's status; a thumbnail that cannot be made falls back to the file,
 * a broken file to a placeholder. Both fail alike while the server is gone, so the
 * thumbnail is asked for again when the live stream comes back.
 */
export function Thumbnail({ image, alt }: { image: Image; alt: string }) {
  // The fallback stage belongs to one image; a new one starts over.
  const [state, setState] = useState<{ id: string; stage: Stage }>({ id: image.id, stage: 'thumb' });
  const stage: Stage = state.id === image.id ? state.stage : 'thumb';
  const setStage = (next: Stage) => setState({ id: image.id, stage: next });
  useResync(() => stage !== 'thumb' && setStage('thumb'));
  if (stage === 'broken') {
    return (
      <div className="thumb-placeholder" role="img" aria-label={alt}>
        <Icon name="image" size={32} />
      </div>
    );
  }
  const src = stage === 'thumb' ? urls.thumbnail(image.id) : urls.file(image.id);
  return (
    <img
      src={src}
      alt={alt}
      loading="lazy"
      decoding="async"
      width={image.width || undefined}
      height={image.height || undefined}
      onError={() => setStage(stage === 'thumb' ? 'file' : 'broken')}
    />
  );
}
