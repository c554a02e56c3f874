#!/usr/bin/env node
// The "program" of the demo's restart_utm / restart_marking actions (issue 19): on a real till the
// allowlist names /usr/bin/systemctl or net.exe; a simulated till's services live in the fleet simulator,
// so restarting one is a request to its control API, which clears exactly the faults a restart clears
// (simulator/README.md, "Fleet"). The till's action agent runs this as a fixed argv, like any program.
// Usage: node restart-service.mjs CONTROL_URL TILL SERVICE
const [control, till, service] = process.argv.slice(2);
if (!control || !till || !service) {
  process.stderr.write('usage: restart-service.mjs CONTROL_URL TILL SERVICE\n');
  process.exit(2);
}
const res = await fetch(
  `${control}/tills/${encodeURIComponent(till)}/services/${encodeURIComponent(service)}/restart`,
  { method: 'POST', signal: AbortSignal.timeout(10_000) },
);
const body = await res.text();
if (!res.ok) {
  process.stderr.write(
    `restart of ${service} on ${till} failed: control API answered ${res.status} ${body}\n`,
  );
  process.exit(1);
}
const { cleared } = JSON.parse(body);
process.stdout.write(
  `${service} on ${till} restarted${cleared.length ? `; it no longer shows ${cleared.join(', ')}` : '; it was not faulty'}\n`,
);
