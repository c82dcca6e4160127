/**
 * The outbound side of reruns (REQUIREMENTS §5): the SSRF guard, one attempt of the call and its
 * classification, against a real HTTP server on 127.0.0.1 playing the external system.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LookupAddress } from 'node:dns';
import { createServer } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo, LookupFunction } from 'node:net';
import {
  ADDRESS_REFUSED_CODE,
  checkTargetUrl,
  createGuardedLookup,
  guardedLookup,
  internalAddressKind,
  parseAllowedHostEntry,
  type OutboundPolicy,
} from '../../src/reruns/outbound-guard.ts';
import {
  bodyExcerpt,
  callTarget,
  parseRetryAfter,
  retryDelaySeconds,
  RERUN_USER_AGENT,
  type AttemptOutcome,
  type OutboundRequest,
} from '../../src/reruns/outbound-call.ts';
import {
  destroySocket,
  hang,
  respond,
  startFakeExternal,
  type FakeExternal,
} from '../support/fake-external.ts';

const policy = (allowedHosts: string[], allowPrivateAddresses = false): OutboundPolicy => ({
  allowedHosts,
  allowPrivateAddresses,
});

const refusedReason = (url: string, allowedHosts: string[]): string => {
  const check = checkTargetUrl(url, policy(allowedHosts));
  if (check.ok) throw new Error(`${url} was allowed by ${allowedHosts.join(',')}`);
  return check.reason;
};

interface LookupResult {
  error: NodeJS.ErrnoException | null;
  address: string | LookupAddress[];
  family?: number;
}

const lookupWith = (lookup: LookupFunction, hostname: string, all: boolean): Promise<LookupResult> =>
  new Promise((resolve) =>
    lookup(hostname, { all }, (error, address, family) => resolve({ error, address, family })),
  );

describe('checkTargetUrl', () => {
  it('allows a listed host and port, case-insensitively, with or without a trailing dot', () => {
    const check = checkTargetUrl('https://API.Example.com./hooks/rerun?x=1', policy(['api.EXAMPLE.com']));
    expect(check).toMatchObject({ ok: true, allowPrivateAddresses: false });
    expect(check.ok && check.url.pathname).toBe('/hooks/rerun');
  });

  it('refuses an unparsable URL without repeating it', () => {
    const reason = refusedReason('not a url secret-token', ['example.com']);
    expect(reason).toBe('The rerun target is not a valid absolute URL.');
  });

  it('refuses schemes other than http and https', () => {
    expect(refusedReason('ftp://example.com/file', ['example.com'])).toMatch(
      /scheme "ftp"; only http and https/,
    );
    expect(refusedReason('file:///etc/passwd', ['example.com'])).toMatch(/scheme "file"/);
  });

  it('refuses userinfo in the URL without repeating it', () => {
    const reason = refusedReason('https://robot:hunter2@example.com/x', ['example.com']);
    expect(reason).toMatch(/host example\.com contains a user name or password/);
    expect(reason).not.toContain('hunter2');
    expect(reason).not.toContain('robot');
  });

  it('refuses a host not on the list, naming host and port but not path or query', () => {
    const reason = refusedReason('https://evil.example.net:8443/steal?token=s3cret', ['example.com']);
    expect(reason).toBe(
      'The host evil.example.net (port 8443) is not on the rerun allow-list (RERUN_ALLOWED_HOSTS).',
    );
  });

  it('refuses everything when the list is empty (or only blanks)', () => {
    expect(refusedReason('https://example.com/', [])).toMatch(/allow-list \(RERUN_ALLOWED_HOSTS\) is empty/);
    expect(refusedReason('https://example.com/', [' ', ''])).toMatch(/is empty/);
  });

  it('matches ports: an entry with a port allows only that port (default ports included), one without any port', () => {
    expect(checkTargetUrl('https://example.com/', policy(['example.com:443'])).ok).toBe(true);
    expect(checkTargetUrl('http://example.com/', policy(['example.com:80'])).ok).toBe(true);
    expect(checkTargetUrl('https://example.com:8443/', policy(['example.com:443'])).ok).toBe(false);
    expect(checkTargetUrl('http://example.com/', policy(['example.com:443'])).ok).toBe(false);
    expect(checkTargetUrl('https://example.com:8443/', policy(['example.com'])).ok).toBe(true);
    expect(checkTargetUrl('http://example.com:1/', policy(['example.com'])).ok).toBe(true);
  });

  it('matches *.suffix against subdomains only, not the bare suffix or look-alikes', () => {
    const allowed = ['*.Automation.example.com'];
    expect(checkTargetUrl('https://eu.automation.example.com/', policy(allowed)).ok).toBe(true);
    expect(checkTargetUrl('https://a.b.automation.example.com/', policy(allowed)).ok).toBe(true);
    expect(checkTargetUrl('https://automation.example.com/', policy(allowed)).ok).toBe(false);
    expect(checkTargetUrl('https://evilautomation.example.com/', policy(allowed)).ok).toBe(false);
    expect(checkTargetUrl('https://automation.example.com.evil.net/', policy(allowed)).ok).toBe(false);
    expect(
      checkTargetUrl('https://eu.automation.example.com:9000/', policy(['*.automation.example.com:443'])).ok,
    ).toBe(false);
  });

  it('matches IP literals as the URL parser normalises them, and lets a listed literal reach private addresses', () => {
    expect(checkTargetUrl('http://127.0.0.1:8080/', policy(['127.0.0.1:8080']))).toMatchObject({
      ok: true,
      allowPrivateAddresses: true,
    });
    expect(checkTargetUrl('http://127.1:8080/', policy(['127.0.0.1:8080'])).ok).toBe(true);
    expect(checkTargetUrl('http://[::1]:8080/', policy(['[0:0::1]:8080']))).toMatchObject({ ok: true });
    expect(checkTargetUrl('http://[::1]:9090/', policy(['[::1]:8080'])).ok).toBe(false);
    expect(checkTargetUrl('http://[::1]/', policy(['::1'])).ok).toBe(true);
  });

  it('does not let an IPv4-mapped IPv6 literal pass as the listed IPv4 address', () => {
    expect(refusedReason('http://[::ffff:127.0.0.1]:8080/', ['127.0.0.1:8080'])).toMatch(
      /host \[::ffff:7f00:1\] \(port 8080\) is not on the rerun allow-list/,
    );
  });

  it('reports private addresses as allowed for names only when the policy allows them', () => {
    expect(checkTargetUrl('http://localhost/', policy(['localhost']))).toMatchObject({
      ok: true,
      allowPrivateAddresses: false,
    });
    expect(checkTargetUrl('http://localhost/', policy(['localhost'], true))).toMatchObject({
      ok: true,
      allowPrivateAddresses: true,
    });
  });

  it('ignores entries that are not host entries, so a typo never widens the list', () => {
    expect(parseAllowedHostEntry('https://example.com')).toBeUndefined();
    expect(parseAllowedHostEntry('example.com/path')).toBeUndefined();
    expect(parseAllowedHostEntry('example.com:99999')).toBeUndefined();
    expect(parseAllowedHostEntry('*')).toBeUndefined();
    expect(parseAllowedHostEntry('*.10.0.0.1')).toBeUndefined();
    expect(parseAllowedHostEntry('[::1')).toBeUndefined();
    expect(parseAllowedHostEntry(' *.Example.COM:8443 ')).toEqual({
      kind: 'suffix',
      host: 'example.com',
      port: 8443,
    });
    expect(parseAllowedHostEntry('[::1]:80')).toEqual({ kind: 'ip', host: '[::1]', port: 80 });
    expect(checkTargetUrl('https://example.com/', policy(['*', 'https://example.com'])).ok).toBe(false);
  });
});

describe('guarded lookup', () => {
  it.each([
    ['0.0.0.0', 'an unspecified address'],
    ['::', 'an unspecified address'],
    ['127.0.0.1', 'a loopback address'],
    ['127.255.0.9', 'a loopback address'],
    ['::1', 'a loopback address'],
    ['10.1.2.3', 'a private address'],
    ['172.16.0.1', 'a private address'],
    ['172.31.255.255', 'a private address'],
    ['192.168.1.1', 'a private address'],
    ['100.64.0.1', 'a shared (carrier-grade NAT) address'],
    ['169.254.169.254', 'a link-local address'],
    ['fe80::1', 'a link-local address'],
    ['fe80::1%eth0', 'a link-local address'],
    ['fc00::1', 'a unique-local address'],
    ['fd12:3456::1', 'a unique-local address'],
    ['224.0.0.1', 'a multicast address'],
    ['ff02::1', 'a multicast address'],
    ['255.255.255.255', 'a broadcast or reserved address'],
    ['::ffff:127.0.0.1', 'a loopback address'],
    ['::ffff:7f00:1', 'a loopback address'],
    ['::ffff:169.254.169.254', 'a link-local address'],
    ['::ffff:a00:1', 'a private address'],
    ['64:ff9b::a9fe:a9fe', 'a link-local address'],
    ['2002:c0a8:101::1', 'a private address'],
  ])('classifies %s as %s', (address, kind) => {
    expect(internalAddressKind(address)).toBe(kind);
  });

  it.each([
    '8.8.8.8',
    '93.184.215.14',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
  ])('treats %s as public', (address) => {
    expect(internalAddressKind(address)).toBeUndefined();
  });

  it('refuses the cloud metadata address before any connection, for both lookup forms', async () => {
    for (const all of [true, false]) {
      const { error, address } = await lookupWith(guardedLookup, '169.254.169.254', all);
      expect(error?.code).toBe(ADDRESS_REFUSED_CODE);
      expect(error?.message).toBe(
        'The address 169.254.169.254 is a link-local address and rerun calls to it are refused; list the IP ' +
          'address itself on the rerun allow-list, or allow private addresses, to permit it.',
      );
      expect(address).toBe('');
    }
  });

  it('refuses an IPv4-mapped IPv6 loopback address', async () => {
    const { error } = await lookupWith(guardedLookup, '::ffff:127.0.0.1', true);
    expect(error?.code).toBe(ADDRESS_REFUSED_CODE);
    expect(error?.message).toMatch(/::ffff:127\.0\.0\.1 is a loopback address/);
  });

  it('refuses a name that resolves to loopback, naming both', async () => {
    const { error } = await lookupWith(guardedLookup, 'localhost', false);
    expect(error?.code).toBe(ADDRESS_REFUSED_CODE);
    expect(error?.message).toMatch(
      /^The host localhost resolves to (127\.0\.0\.1|::1), which is a loopback address/,
    );
  });

  it('answers like dns.lookup for allowed addresses: an array with all, else address and family', async () => {
    expect(await lookupWith(guardedLookup, '8.8.8.8', true)).toEqual({
      error: null,
      address: [{ address: '8.8.8.8', family: 4 }],
      family: undefined,
    });
    expect(await lookupWith(guardedLookup, '2606:4700::1111', false)).toEqual({
      error: null,
      address: '2606:4700::1111',
      family: 6,
    });
    const permissive = createGuardedLookup({ allowPrivateAddresses: true });
    expect(await lookupWith(permissive, '127.0.0.1', false)).toEqual({
      error: null,
      address: '127.0.0.1',
      family: 4,
    });
  });

  it('passes resolution failures through', async () => {
    const { error } = await lookupWith(guardedLookup, 'no-such-host.invalid', true);
    expect(error?.code).toMatch(/^(ENOTFOUND|EAI_AGAIN)$/);
  });
});

describe('callTarget', () => {
  let external: FakeExternal;
  let local: OutboundPolicy;
  const call = (
    overrides: Partial<OutboundRequest> = {},
    usePolicy: OutboundPolicy = local,
  ): Promise<AttemptOutcome> =>
    callTarget(
      {
        method: 'POST',
        url: `${external.url}/hooks/rerun?step_run_id=42`,
        headers: {},
        body: { step_run_id: 42 },
        timeoutSeconds: 5,
        ...overrides,
      },
      usePolicy,
    );

  beforeAll(async () => {
    external = await startFakeExternal();
    local = policy([`127.0.0.1:${external.port}`]);
  });
  afterAll(async () => {
    await external?.close();
  });
  beforeEach(() => external.reset([respond(200, { ok: true })]));

  it('sends the JSON body, method, path and headers as given, UTF-8 intact', async () => {
    const body = { step_run_id: 42, note: 'Kør igen: æøå ÆØÅ 🚀', nested: { list: [1, null, true] } };
    const outcome = await call({ body, headers: { Authorization: 'Bearer abc', 'X-Correlation-Id': 'r-1' } });
    expect(outcome).toEqual({ kind: 'success', status: 200, durationMs: expect.any(Number) as number });
    expect(external.requests).toHaveLength(1);
    const [received] = external.requests;
    expect(received).toMatchObject({ method: 'POST', path: '/hooks/rerun?step_run_id=42', body });
    expect(received.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(JSON.stringify(body))),
      'user-agent': RERUN_USER_AGENT,
      authorization: 'Bearer abc',
      'x-correlation-id': 'r-1',
    });
  });

  it('sends PUT when asked, and keeps its own content type and user agent over the caller’s', async () => {
    await call({
      method: 'PUT',
      headers: { 'content-type': 'text/plain', 'User-Agent': 'curl/8', Host: 'evil' },
    });
    const [received] = external.requests;
    expect(received.method).toBe('PUT');
    expect(received.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(received.headers['user-agent']).toBe(RERUN_USER_AGENT);
    expect(received.headers.host).toBe(`127.0.0.1:${external.port}`);
  });

  it('classifies 503 twice then 200 as two server errors and a success, with status and body excerpt', async () => {
    external.reset([
      respond(503, 'Down for maintenance\r\nInjected: line'),
      respond(503, { error: 'busy' }),
      respond(200),
    ]);
    const outcomes = [await call(), await call(), await call()];
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['server_error', 'server_error', 'success']);
    expect(outcomes[0]).toMatchObject({
      status: 503,
      message: `127.0.0.1 answered 503 Service Unavailable: Down for maintenance Injected: line`,
      // The same without what the target answered, for records that must not keep it.
      summary: '127.0.0.1 answered 503 Service Unavailable',
    });
    expect(outcomes[1]).toMatchObject({
      status: 503,
      message: '127.0.0.1 answered 503 Service Unavailable: {"error":"busy"}',
    });
    expect(external.requests.map((request) => request.number)).toEqual([1, 2, 3]);
  });

  it('classifies 429 as rate_limit with Retry-After in delta-seconds', async () => {
    external.reset([respond(429, 'slow down', { 'Retry-After': '1' })]);
    const outcome = await call();
    expect(outcome).toMatchObject({ kind: 'rate_limit', status: 429, retryAfterSeconds: 1 });
    expect(retryDelaySeconds(outcome, 5)).toBe(5);
    expect(retryDelaySeconds(outcome, 0)).toBe(1);
  });

  it('classifies 429 as rate_limit with Retry-After as an HTTP-date', async () => {
    external.reset([respond(429, '', { 'Retry-After': new Date(Date.now() + 120_000).toUTCString() })]);
    const outcome = await call();
    expect(outcome.kind).toBe('rate_limit');
    const seconds = outcome.kind === 'success' ? undefined : outcome.retryAfterSeconds;
    expect(seconds).toBeGreaterThanOrEqual(118);
    expect(seconds).toBeLessThanOrEqual(120);
    expect(retryDelaySeconds(outcome, 30)).toBe(seconds);
  });

  it('classifies 429 without a usable Retry-After as rate_limit without retryAfterSeconds', async () => {
    external.reset([respond(429), respond(429, '', { 'Retry-After': 'soon' })]);
    for (const outcome of [await call(), await call()]) {
      expect(outcome).toMatchObject({
        kind: 'rate_limit',
        status: 429,
        message: '127.0.0.1 answered 429 Too Many Requests.',
      });
      expect(outcome).not.toHaveProperty('retryAfterSeconds', expect.anything());
      expect(retryDelaySeconds(outcome, 7)).toBe(7);
    }
  });

  it('classifies 400 as client_error', async () => {
    external.reset([respond(400, { detail: 'unknown subprocess_id' })]);
    expect(await call()).toMatchObject({
      kind: 'client_error',
      status: 400,
      message: '127.0.0.1 answered 400 Bad Request: {"detail":"unknown subprocess_id"}',
    });
  });

  it('does not follow a redirect, even to an allowed place', async () => {
    external.reset([respond(302, '', { Location: `${external.url}/elsewhere?token=x` }), respond(200)]);
    const outcome = await call();
    expect(outcome).toEqual({
      kind: 'client_error',
      status: 302,
      message: '127.0.0.1 answered 302 Found; redirects are not followed.',
      summary: '127.0.0.1 answered 302 Found',
      durationMs: expect.any(Number) as number,
    });
    expect(external.requests).toHaveLength(1);
  });

  it('uses successStatuses instead of 2xx when given', async () => {
    external.reset([respond(404), respond(202)]);
    const onlyOkOr404 = (status: number) => status === 200 || status === 404;
    expect(await call({ successStatuses: onlyOkOr404 })).toMatchObject({ kind: 'success', status: 404 });
    expect(await call({ successStatuses: onlyOkOr404 })).toMatchObject({
      kind: 'client_error',
      status: 202,
      message: '127.0.0.1 answered 202 Accepted, which is not a success status for this target.',
    });
  });

  it('reads at most 8 KiB of a large answer and keeps the message short', async () => {
    external.reset([respond(500, 'x'.repeat(5_000_000))]);
    const outcome = await call();
    expect(outcome).toMatchObject({ kind: 'server_error', status: 500 });
    const message = outcome.kind === 'success' ? '' : outcome.message;
    expect(message.startsWith('127.0.0.1 answered 500 Internal Server Error: xxx')).toBe(true);
    expect(message.endsWith('x…')).toBe(true);
    expect(message.length).toBeLessThan(360);
  });

  it('times out when the target never answers, within the fractional timeout', async () => {
    external.reset([hang()]);
    const outcome = await call({ timeoutSeconds: 0.3 });
    expect(outcome).toMatchObject({
      kind: 'timeout',
      message: '127.0.0.1 did not answer completely within 0.3 s.',
    });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(280);
    expect(outcome.durationMs).toBeLessThan(2_000);
    expect(external.requests).toHaveLength(1);
  });

  it('times out when the answer starts but its body never ends', async () => {
    external.reset([{ action: 'respond', status: 200, body: 'partial', stallBody: true }]);
    const outcome = await call({ timeoutSeconds: 0.3 });
    expect(outcome.kind).toBe('timeout');
    expect(outcome.durationMs).toBeGreaterThanOrEqual(280);
  });

  it('reports a destroyed socket as network_error', async () => {
    external.reset([destroySocket()]);
    expect(await call()).toMatchObject({
      kind: 'network_error',
      message: 'Could not complete the call to 127.0.0.1: socket hang up (ECONNRESET).',
    });
    expect(external.requests).toHaveLength(1);
  });

  it('reports a port nobody listens on as network_error', async () => {
    const probe = createServer().listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => probe.once('listening', () => resolve()));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const outcome = await call({ url: `http://127.0.0.1:${port}/` }, policy([`127.0.0.1:${port}`]));
    expect(outcome).toMatchObject({ kind: 'network_error' });
    expect(outcome.kind !== 'success' && outcome.message).toMatch(
      /^Could not complete the call to 127\.0\.0\.1: .*ECONNREFUSED/,
    );
  });

  it('refuses a host not on the list and sends nothing', async () => {
    const outcome = await call({}, policy(['example.com']));
    expect(outcome).toMatchObject({
      kind: 'refused',
      message: `The host 127.0.0.1 (port ${external.port}) is not on the rerun allow-list (RERUN_ALLOWED_HOSTS).`,
    });
    expect(external.requests).toHaveLength(0);
  });

  it('refuses 127.0.0.1 reached through a listed name, and sends nothing', async () => {
    const outcome = await call(
      { url: `http://localhost:${external.port}/x` },
      policy([`localhost:${external.port}`]),
    );
    expect(outcome.kind).toBe('refused');
    expect(outcome.kind !== 'success' && outcome.message).toMatch(
      /^The host localhost resolves to .*loopback address/,
    );
    expect(external.requests).toHaveLength(0);
  });

  it('reaches a listed name on loopback when private addresses are allowed', async () => {
    const outcome = await call(
      { url: `http://localhost:${external.port}/x` },
      policy([`localhost:${external.port}`], true),
    );
    expect(outcome).toMatchObject({ kind: 'success', status: 200 });
    expect(external.requests).toHaveLength(1);
  });

  it('refuses userinfo and non-http schemes before sending', async () => {
    const withUser = await call({ url: `http://user:pw@127.0.0.1:${external.port}/` });
    expect(withUser).toMatchObject({ kind: 'refused' });
    expect(withUser.kind !== 'success' && withUser.message).not.toContain('pw');
    expect(await call({ url: `ftp://127.0.0.1:${external.port}/` })).toMatchObject({ kind: 'refused' });
    expect(external.requests).toHaveLength(0);
  });

  it('refuses an IPv4-mapped IPv6 literal of a listed IPv4 address', async () => {
    const outcome = await call({ url: `http://[::ffff:127.0.0.1]:${external.port}/` });
    expect(outcome.kind).toBe('refused');
    expect(external.requests).toHaveLength(0);
  });

  it('refuses what it cannot send instead of throwing', async () => {
    expect(await call({ body: { n: 1n } })).toMatchObject({
      kind: 'refused',
      message: 'The request body cannot be serialised as JSON.',
    });
    const badHeader = await call({ headers: { 'X-Bad': 'a\r\nInjected: yes' } });
    expect(badHeader).toMatchObject({ kind: 'refused' });
    expect(badHeader.kind !== 'success' && badHeader.message).toMatch(/^The request could not be sent: /);
    expect(await call({ timeoutSeconds: 0 })).toMatchObject({ kind: 'refused' });
    expect(await call({ timeoutSeconds: Number.NaN })).toMatchObject({ kind: 'refused' });
    expect(external.requests).toHaveLength(0);
  });
});

describe('callTarget over https', () => {
  let external: FakeExternal;

  beforeAll(async () => {
    external = await startFakeExternal([respond(200)], { tls: true });
  });
  afterAll(async () => {
    await external?.close();
  });

  it('serves a certificate a client that trusts it accepts (so the refusal below is about trust)', async () => {
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = httpsRequest(`${external.url}/`, { method: 'POST', ca: external.certificatePem }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', reject);
      req.end('{}');
    });
    expect(status).toBe(200);
    external.reset();
  });

  it('refuses a self-signed certificate as network_error, sending nothing', async () => {
    const outcome = await callTarget(
      { method: 'POST', url: `${external.url}/hooks`, headers: {}, body: { a: 1 }, timeoutSeconds: 5 },
      policy([`127.0.0.1:${external.port}`]),
    );
    expect(outcome).toMatchObject({
      kind: 'network_error',
      message:
        'The TLS certificate of 127.0.0.1 was refused: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT).',
    });
    expect(external.requests).toHaveLength(0);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');

  it.each([
    ['0', 0],
    ['  42 ', 42],
    ['86400', 86_400],
    ['999999999', 86_400],
    ['Sun, 01 Mar 2026 12:00:30 GMT', 30],
    ['Sunday, 01-Mar-26 12:01:00 GMT', 60],
    ['Sun Mar  1 12:00:05 2026', 5],
    ['Sun, 01 Mar 2026 11:00:00 GMT', 0],
    ['Mon, 01 Mar 2027 12:00:00 GMT', 86_400],
  ])('reads %j as %d seconds', (value, seconds) => {
    expect(parseRetryAfter(value, now)).toBe(seconds);
  });

  it.each([undefined, '', '-5', '1.5', 'soon', '1e3', 'Sun, 99 Foo 2026'])('rejects %j', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});

describe('bodyExcerpt', () => {
  it('keeps one line without control or format characters, at most 300 characters', () => {
    expect(bodyExcerpt(Buffer.from('  a\u0000b\u001b[31m\tc\u202e\u2028d  '))).toBe('a b [31m c d');
    const long = bodyExcerpt(Buffer.from('ø'.repeat(1000)));
    expect(Array.from(long)).toHaveLength(300);
    expect(long.endsWith('ø…')).toBe(true);
  });
});
