import { describe, expect, it } from 'vitest';
import { axisMax, niceCeil } from './LineChart';

describe('chart axis', () => {
  it('rounds the top of the axis up to four even steps', () => {
    expect(niceCeil(0.7)).toBe(1);
    expect(niceCeil(2.1)).toBe(2.5);
    expect(niceCeil(0)).toBe(1);
    expect(axisMax(5, true)).toBe(8);
    expect(axisMax(4, true)).toBe(4);
    expect(axisMax(0.9, false)).toBe(1);
    expect(axisMax(37, false)).toBe(40);
    expect(axisMax(0.3, true)).toBe(4);
  });
});
