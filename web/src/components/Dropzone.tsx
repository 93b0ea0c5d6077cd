import { type DragEvent, useEffect, useId, useRef, useState } from 'react';
import { useAnnounce } from '../lib/announcer';
import { droppedFiles } from '../lib/dropped';
import { IMAGE_EXTENSIONS, IMAGE_FORMATS, IMAGE_TYPES } from '../lib/uploads';
import { Icon } from './Icon';

const ACCEPT = [...IMAGE_TYPES, ...IMAGE_EXTENSIONS].join(',');

/** Drag and drop or a file picker; the label makes the whole area a keyboard-operable button. */
export function Dropzone({ onFiles, compact }: { onFiles(files: File[]): void; compact?: boolean }) {
  const inputId = useId();
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const depth = useRef(0);
  const zone = useRef<HTMLDivElement>(null);
  const [note, setNote] = useState('');
  const announce = useAnnounce();

  /** Sends on what a drop holds; it must be called during the drop event. */
  const takeDrop = (transfer: DataTransfer) => {
    droppedFiles(transfer).then(
      ({ files, emptyFolders }) => {
        const message = emptyFolders.length
          ? `No photos in ${emptyFolders.map((name) => `“${name}”`).join(', ')}.`
          : '';
        setNote(message);
        if (message) announce(message);
        if (files.length) onFiles(files);
      },
      () => {
        const message = 'The dropped folder could not be read. Open it and choose the photos instead.';
        setNote(message);
        announce(message);
      },
    );
  };
  const takeDropRef = useRef(takeDrop);
  takeDropRef.current = takeDrop;

  // Files dropped anywhere else on the page are uploads too: on a photo card the browser
  // opened the file instead, in place of the app. (Layout keeps the browser from opening
  // files dropped on other pages.)
  useEffect(() => {
    const onPageDrop = (event: globalThis.DragEvent) => {
      if (!event.dataTransfer?.types?.includes('Files')) return;
      if (event.target instanceof Node && zone.current?.contains(event.target)) return;
      event.preventDefault();
      takeDropRef.current(event.dataTransfer);
    };
    window.addEventListener('drop', onPageDrop);
    return () => window.removeEventListener('drop', onPageDrop);
  }, []);

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    depth.current = 0;
    setOver(false);
    if (event.dataTransfer) takeDropRef.current(event.dataTransfer);
  };

  return (
    <div
      ref={zone}
      className={`dropzone${over ? ' over' : ''}${compact ? ' compact' : ''}`}
      data-testid="dropzone"
      onDragEnter={(e) => {
        e.preventDefault();
        depth.current++;
        setOver(true);
      }}
      onDragOver={(e) => {
        e.preventDefault();
        if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
      }}
      onDragLeave={() => {
        depth.current = Math.max(0, depth.current - 1);
        if (depth.current === 0) setOver(false);
      }}
      onDrop={onDrop}
    >
      <Icon name="upload" size={compact ? 22 : 32} />
      <p className="dropzone-text">
        <strong>Drop photos here</strong>
        <span className="muted"> or </span>
      </p>
      <input
        ref={input}
        id={inputId}
        className="visually-hidden file-input"
        type="file"
        accept={ACCEPT}
        multiple
        onChange={(e) => {
          const files = [...(e.target.files ?? [])];
          setNote('');
          if (files.length) onFiles(files);
          e.target.value = '';
        }}
      />
      <label htmlFor={inputId} className="button primary">
        Choose photos
      </label>
      {!compact && <p className="muted small">{IMAGE_FORMATS} · many at once</p>}
      {note && (
        <p className="small dropzone-note" data-testid="dropzone-note">
          {note}
        </p>
      )}
    </div>
  );
}
