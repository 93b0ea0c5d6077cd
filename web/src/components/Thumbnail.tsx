import { useState } from 'react';
import { urls } from '../api/client';
import type { Image } from '../api/types';
import { Icon } from './Icon';

type Stage = 'thumb' | 'file' | 'broken';

/**
 * The worker-made thumbnail (256 px) once the image is done, else the file itself;
 * a missing thumbnail falls back to the file, a broken file to a placeholder.
 */
export function Thumbnail({ image, alt }: { image: Image; alt: string }) {
  const preferThumb = image.status === 'done';
  // The fallback stage belongs to one image in one state; a new one starts over.
  const key = `${image.id}:${preferThumb}`;
  const [state, setState] = useState<{ key: string; stage: Stage }>({ key, stage: preferThumb ? 'thumb' : 'file' });
  const stage: Stage = state.key === key ? state.stage : preferThumb ? 'thumb' : 'file';
  const setStage = (next: Stage) => setState({ key, stage: next });
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
