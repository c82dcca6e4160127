import { expect } from 'vitest';

/** The pagination headers every list endpoint sends (REQUIREMENTS §3), checked against the page asked. */
export function expectPageHeaders(
  response: Response,
  page: { page: number; size: number; total: number },
): string {
  const pages = Math.ceil(page.total / page.size);
  expect(response.headers.get('x-total-count')).toBe(String(page.total));
  expect(response.headers.get('x-page')).toBe(String(page.page));
  expect(response.headers.get('x-page-size')).toBe(String(page.size));
  expect(response.headers.get('x-total-pages')).toBe(String(pages));
  const link = response.headers.get('link') ?? '';
  // page and size come first in every link; the request's other parameters follow them.
  expect(link).toMatch(new RegExp(`[?&]page=1&size=${page.size}(&[^>]*)?>; rel="first"`));
  expect(link).toMatch(new RegExp(`[?&]page=${Math.max(pages, 1)}&size=${page.size}(&[^>]*)?>; rel="last"`));
  return link;
}
