// A handful of inline icons (stroke paths, 24×24), decorative unless labelled.
const PATHS: Record<string, string> = {
  upload: 'M12 16V4m0 0l-5 5m5-5l5 5M4 16v3a1 1 0 001 1h14a1 1 0 001-1v-3',
  trash: 'M4 7h16M10 11v6m4-6v6M6 7l1 12a1 1 0 001 1h8a1 1 0 001-1l1-12M9 7V4h6v3',
  search: 'M11 18a7 7 0 100-14 7 7 0 000 14zm5-2l5 5',
  check: 'M5 12l5 5L20 7',
  x: 'M6 6l12 12M18 6L6 18',
  menu: 'M4 7h16M4 12h16M4 17h16',
  image: 'M4 5h16v14H4zM4 15l4-4 5 5 3-3 4 4M15 9.5a1 1 0 100-.01',
  arrowLeft: 'M19 12H5m0 0l6-6m-6 6l6 6',
  activity: 'M3 12h4l3-8 4 16 3-8h4',
  key: 'M15 7a4 4 0 11-3.5 6L4 20.5V17h3v-3h3l1.5-1.5A4 4 0 0115 7z',
  paw: 'M8 8.5a1.5 2 0 100-.01M16 8.5a1.5 2 0 100-.01M5 13a1.5 1.8 0 100-.01M19 13a1.5 1.8 0 100-.01M12 13c-3 0-5 3-5 5s2 2 5 1c3 1 5 1 5-1s-2-5-5-5z',
  alert: 'M12 8v5m0 3.5v.01M10.3 3.9L2.4 18a2 2 0 001.7 3h15.8a2 2 0 001.7-3L13.7 3.9a2 2 0 00-3.4 0z',
  copy: 'M9 9h10v10H9zM5 15V5h10',
  logo: 'M2 12s3.5-7 10-7 10 7 10 7-3.5 7-10 7S2 12 2 12zm10 3a3 3 0 100-6 3 3 0 000 6z',
};

export type IconName = keyof typeof PATHS;

export function Icon({ name, size = 20, label }: { name: IconName; size?: number; label?: string }) {
  return (
    <svg
      className="icon"
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth={2}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden={label ? undefined : true}
      role={label ? 'img' : undefined}
      aria-label={label}
      focusable="false"
    >
      <path d={PATHS[name]} />
    </svg>
  );
}
