/**
 * `npm audit --omit=dev` for CI: every advisory against a production dependency fails the run unless it
 * is listed, with its reason, in .ci/audit-allowlist.json. When the registry's advisory endpoint cannot be
 * reached (some closed networks answer it with 405), the step says so loudly and passes: it cannot
 * judge what it cannot see, and it does not pretend it did.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

interface Advisory {
  source?: number;
  url?: string;
  title?: string;
  severity?: string;
  name?: string;
}
interface AuditReport {
  statusCode?: number;
  message?: string;
  vulnerabilities?: Record<string, { name: string; severity: string; via: (Advisory | string)[] }>;
}

let output: string;
try {
  output = execFileSync('npm', ['audit', '--omit=dev', '--json'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
} catch (error) {
  // npm audit exits 1 when it finds something; its JSON is on stdout either way.
  output = (error as { stdout?: string }).stdout ?? '';
}
const report = JSON.parse(output) as AuditReport;
if (report.vulnerabilities === undefined) {
  process.stdout.write(
    `WARNING: npm audit could not query the advisory endpoint (${report.message ?? 'no report'}); ` +
      'production dependencies were NOT audited in this run.\n',
  );
  process.exit(0);
}
const allowList = (
  JSON.parse(readFileSync(new URL('./audit-allowlist.json', import.meta.url), 'utf8')) as {
    allowed: Record<string, string>;
  }
).allowed;
const findings = Object.values(report.vulnerabilities).flatMap((vulnerability) =>
  vulnerability.via
    .filter((via): via is Advisory => typeof via === 'object')
    .map((via) => ({
      package: vulnerability.name,
      severity: via.severity ?? vulnerability.severity,
      ...via,
    })),
);
const unlisted = findings.filter((finding) => finding.url === undefined || !(finding.url in allowList));
for (const finding of findings) {
  const listed = finding.url !== undefined && finding.url in allowList;
  process.stdout.write(
    `${listed ? 'allowed ' : 'FINDING '} ${finding.package} ${finding.severity}: ${finding.title ?? ''} ${finding.url ?? ''}` +
      (listed ? ` — ${allowList[finding.url ?? '']}` : '') +
      '\n',
  );
}
process.stdout.write(
  `npm audit --omit=dev: ${findings.length} advisories, ${unlisted.length} not on the allow-list\n`,
);
process.exit(unlisted.length === 0 ? 0 : 1);
