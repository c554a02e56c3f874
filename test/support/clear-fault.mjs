// The "restart" a simulated till runs in the remote-action end-to-end test: restarting the УТМ service
// is, for the fleet simulator, clearing the till's utm_hung fault through its control API.
// Usage: node clear-fault.mjs CONTROL_URL TILL FAULT
const [control, till, fault] = process.argv.slice(2);
const res = await fetch(`${control}/tills/${encodeURIComponent(till)}/faults/${encodeURIComponent(fault)}`, {
  method: 'DELETE',
});
process.stdout.write(`restart of ${till}: control API answered ${res.status}\n`);
process.exit(res.ok ? 0 : 1);
