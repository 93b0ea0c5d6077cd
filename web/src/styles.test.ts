import { describe, expect, it } from 'vitest';
import { STYLESHEET } from './test/styles';

/** The custom properties of the first block after `opening` ("{…}"). */
function tokens(opening: string): Record<string, string> {
  const start = STYLESHEET.indexOf('{', STYLESHEET.indexOf(opening));
  const block = STYLESHEET.slice(start, STYLESHEET.indexOf('}', start));
  return Object.fromEntries([...block.matchAll(/--([\w-]+):\s*(#[0-9a-f]{6});/gi)].map((m) => [m[1], m[2]]));
}

function luminance(hex: string): number {
  const channels = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  const [r, g, b] = channels.map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light + 0.05) / (dark + 0.05);
}

// Status badges and texts: colour on its soft tint, and on cards and rows.
const PAIRS = [
  ['success', 'success-soft'],
  ['danger', 'danger-soft'],
  ['warn', 'warn-soft'],
  ['accent', 'accent-soft'],
  ['text-muted', 'bg-sunken'],
  ['success', 'bg-elevated'],
  ['danger', 'bg-elevated'],
  ['warn', 'bg-elevated'],
  ['accent', 'bg-elevated'],
  ['text-muted', 'bg-elevated'],
];

describe('colour tokens', () => {
  const light = tokens(':root');
  const dark = { ...light, ...tokens('@media (prefers-color-scheme: dark)') };
  for (const [scheme, values] of [['light', light], ['dark', dark]] as const) {
    it(`give status text at least 4.5:1 contrast (${scheme})`, () => {
      for (const [fg, bg] of PAIRS) {
        expect(values[fg], fg).toBeDefined();
        expect(values[bg], bg).toBeDefined();
        expect(contrast(values[fg], values[bg]), `${fg} on ${bg}`).toBeGreaterThanOrEqual(4.5);
      }
    });
  }
});

describe('label names', () => {
  it('raise their first letter only, never each word', () => {
    expect(STYLESHEET).toMatch(/\.label-text::first-letter\s*{\s*text-transform: uppercase;/);
    const capitalized = [...STYLESHEET.matchAll(/([^{}]+){[^}]*text-transform: capitalize;/g)].map((m) => m[1].trim());
    expect(capitalized).toEqual(['.badge']); // statuses: one word each
  });
});
