import { describe, expect, it } from 'vitest';
import { findLeaks } from '../helpers/fixture.ts';

const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';

describe('the secrets check on connector output', () => {
  it('should catch a whole token and a token signature alone', () => {
    const lines = ['ok line', `Bearer ${token}`, `sig=${token.split('.')[2] ?? ''}`];
    expect(findLeaks([{ lines }], [token])).toHaveLength(2);
  });

  it('should pass clean output and ignore values too short to be secrets', () => {
    expect(findLeaks([{ lines: ['Added nodeinfo.dev', 'status 200'] }], [token, 'abc'])).toEqual([]);
  });
});
