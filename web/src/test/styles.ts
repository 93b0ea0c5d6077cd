import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { onTestFinished } from 'vitest';

/** The app's stylesheet as text: Vitest does not load CSS (`css: false`). */
export const STYLESHEET = readFileSync(resolve(__dirname, '../styles.css'), 'utf8');

/** Adds the stylesheet to the document for one test, so getComputedStyle sees its rules. */
export function loadStyles() {
  const style = document.createElement('style');
  style.textContent = STYLESHEET;
  document.head.append(style);
  onTestFinished(() => style.remove());
}
