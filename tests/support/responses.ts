/** Checks of an answer of the test server, for tests that call it with `fetch` / `TestServer.request`. */
import { expect } from 'vitest';
import type { Schemas } from '../../src/contract.ts';

/** The test fails unless `response` has `status` (its body shown if not); its JSON body, parsed. */
export async function expectStatus<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

/** The test fails unless `response` is an application/problem+json answer with `status`; the problem. */
export async function expectProblem(response: Response, status: number): Promise<Schemas['Problem']> {
  const problem = await expectStatus<Schemas['Problem']>(response, status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(problem.status).toBe(status);
  return problem;
}
