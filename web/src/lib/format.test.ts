import { describe, expect, it } from 'vitest';
import { withArticle } from './format';

describe('withArticle', () => {
  it('puts "an" before a vowel and "a" before the rest', () => {
    expect(withArticle('Australian Terrier')).toBe('an Australian Terrier');
    expect(withArticle('Irish setter')).toBe('an Irish setter');
    expect(withArticle('golden retriever')).toBe('a golden retriever');
  });
});
