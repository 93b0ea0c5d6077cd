import { describe, expect, it } from 'vitest';
import { asSentence, labelTitle, raisesFirstLetter, withArticle } from './format';

describe('withArticle', () => {
  it('puts "an" before a vowel and "a" before the rest', () => {
    expect(withArticle('Australian Terrier')).toBe('an Australian Terrier');
    expect(withArticle('Irish setter')).toBe('an Irish setter');
    expect(withArticle('golden retriever')).toBe('a golden retriever');
  });
});

describe('asSentence', () => {
  it('capitalises a server reason and groups its long counts, not the digits of an id', () => {
    expect(asSentence('image is 12000 x 9000 pixels (108000000 pixels), over the limit of 100000000 pixels')).toBe(
      'Image is 12,000 x 9,000 pixels (108,000,000 pixels), over the limit of 100,000,000 pixels',
    );
    expect(asSentence('the JPEG data is truncated (the file is cut short)')).toBe(
      'The JPEG data is truncated (the file is cut short)',
    );
    expect(asSentence('no image 8fa6fb5812345 or 12345678ab')).toBe('No image 8fa6fb5812345 or 12345678ab');
    expect(asSentence('took 1.234567 s')).toBe('Took 1.234567 s');
    expect(asSentence('')).toBe('');
  });
});

describe('labelTitle', () => {
  it('raises a label’s first letter unless its first word is cased already', () => {
    expect(labelTitle('golden retriever')).toBe('Golden retriever');
    expect(labelTitle('Black and Tan Coonhound')).toBe('Black and Tan Coonhound');
    expect(labelTitle('iPod')).toBe('iPod');
    expect(raisesFirstLetter('iPod')).toBe(false);
    expect(raisesFirstLetter('tench')).toBe(true);
  });
});
