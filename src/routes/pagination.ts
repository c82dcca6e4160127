import type { Request, Response } from 'express';

/** What building the links needs of a request (any handler's typed request has it). */
type LinkSource = Pick<Request, 'originalUrl' | 'protocol' | 'host'>;

export interface PageRequest {
  page: number;
  size: number;
}

export interface PageMeta {
  total: number;
  page: number;
  size: number;
  pages: number;
}

/** The page a list request asks for, with the contract's defaults (page 1 of 50). */
export function pageRequest(query: { page?: number; size?: number }): PageRequest {
  return { page: query.page ?? 1, size: query.size ?? 50 };
}

/** Offset of the first item of a page (pages are 1-based). */
export function pageOffset({ page, size }: PageRequest): number {
  return (page - 1) * size;
}

/**
 * The page metadata of the body (`total`, `page`, `size`, `pages`) and the headers of every list endpoint
 * (REQUIREMENTS §3): `Link` with first/last and prev/next where they exist, each keeping every other query
 * parameter of the request, plus `X-Total-Count`, `X-Page`, `X-Page-Size`, `X-Total-Pages`.
 */
export function sendPageHeaders(
  req: LinkSource,
  res: Pick<Response, 'setHeader'>,
  request: PageRequest,
  total: number,
): PageMeta {
  const pages = Math.ceil(total / request.size);
  const link = (page: number, rel: string) => `<${pageUrl(req, page, request.size)}>; rel="${rel}"`;
  const links = [link(1, 'first'), link(Math.max(pages, 1), 'last')];
  if (request.page > 1) links.push(link(Math.min(request.page - 1, Math.max(pages, 1)), 'prev'));
  if (request.page < pages) links.push(link(request.page + 1, 'next'));
  res.setHeader('Link', links.join(', '));
  res.setHeader('X-Total-Count', String(total));
  res.setHeader('X-Page', String(request.page));
  res.setHeader('X-Page-Size', String(request.size));
  res.setHeader('X-Total-Pages', String(pages));
  return { total, page: request.page, size: request.size, pages };
}

/** The request's URL for another page: `page` and `size` first (as the original), then the rest as sent. */
function pageUrl(req: LinkSource, page: number, size: number): string {
  // protocol and host honour X-Forwarded-Proto/-Host when TRUST_PROXY says the proxy is trusted.
  const url = new URL(req.originalUrl, `${req.protocol}://${req.host || 'localhost'}`);
  const others = [...url.searchParams].filter(([name]) => name !== 'page' && name !== 'size');
  url.search = new URLSearchParams([['page', String(page)], ['size', String(size)], ...others]).toString();
  return url.toString();
}
