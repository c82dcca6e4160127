import { describe, expect, it } from 'vitest';
import { pageOffset, sendPageHeaders } from '../../src/routes/pagination.ts';

function pageOf(originalUrl: string, page: number, size: number, total: number) {
  const headers: Record<string, string> = {};
  const request = { originalUrl, protocol: 'http', host: 'api.example:8000' } as unknown as Parameters<
    typeof sendPageHeaders
  >[0];
  const meta = sendPageHeaders(
    request,
    { setHeader: (name: string, value: string) => (headers[name] = value) } as never,
    { page, size },
    total,
  );
  const links = Object.fromEntries(
    (headers['Link'] ?? '').split(', ').map((part) => {
      const [, url = '', rel = ''] = /^<([^>]+)>; rel="(\w+)"$/.exec(part) ?? [];
      return [rel, url];
    }),
  );
  return { meta, headers, links };
}

describe('page/size pagination', () => {
  it('computes the offset of a page', () => {
    expect(pageOffset({ page: 1, size: 50 })).toBe(0);
    expect(pageOffset({ page: 3, size: 20 })).toBe(40);
  });

  it('a middle page links first, last, prev and next, keeping the other parameters', () => {
    const { meta, headers, links } = pageOf(
      '/api/v1/runs/?status=failed&page=2&size=10&meta_filter=a%3Ab',
      2,
      10,
      25,
    );
    expect(meta).toEqual({ total: 25, page: 2, size: 10, pages: 3 });
    expect(headers).toMatchObject({
      'X-Total-Count': '25',
      'X-Page': '2',
      'X-Page-Size': '10',
      'X-Total-Pages': '3',
    });
    expect(links).toEqual({
      first: 'http://api.example:8000/api/v1/runs/?page=1&size=10&status=failed&meta_filter=a%3Ab',
      last: 'http://api.example:8000/api/v1/runs/?page=3&size=10&status=failed&meta_filter=a%3Ab',
      prev: 'http://api.example:8000/api/v1/runs/?page=1&size=10&status=failed&meta_filter=a%3Ab',
      next: 'http://api.example:8000/api/v1/runs/?page=3&size=10&status=failed&meta_filter=a%3Ab',
    });
  });

  it('the first page has no prev, the last no next', () => {
    expect(Object.keys(pageOf('/x', 1, 10, 25).links).sort()).toEqual(['first', 'last', 'next']);
    expect(Object.keys(pageOf('/x', 3, 10, 25).links).sort()).toEqual(['first', 'last', 'prev']);
  });

  it('no items: 0 pages, first and last both page 1', () => {
    const { meta, links } = pageOf('/x', 1, 50, 0);
    expect(meta.pages).toBe(0);
    expect(links).toEqual({
      first: 'http://api.example:8000/x?page=1&size=50',
      last: 'http://api.example:8000/x?page=1&size=50',
    });
  });

  it('a page past the end points prev at the last page', () => {
    expect(pageOf('/x', 9, 10, 25).links['prev']).toBe('http://api.example:8000/x?page=3&size=10');
  });
});
