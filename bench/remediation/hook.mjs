// The program behind the bench's restart_utm / restart_marking (bench/remediation/replay.ts): the till
// agent runs it as a fixed argv, as it would run systemctl; it asks the fleet model to restart the service.
// Usage: node hook.mjs MODEL_URL TILL SERVICE
const [url, till, service] = process.argv.slice(2);
const res = await fetch(`${url}/restart/${encodeURIComponent(till)}/${encodeURIComponent(service)}`, {
  method: 'POST',
});
process.stdout.write(`${service} restarted: ${await res.text()}\n`);
process.exit(res.ok ? 0 : 1);
