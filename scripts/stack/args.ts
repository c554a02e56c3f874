/** `HOST:PORT` → parts, with an error naming the option (the CLIs here take loopback addresses). */
export function parseListen(option: string, value: string | undefined): { host: string; port: number } {
  const m = /^(.+):(\d{1,5})$/.exec(value ?? '');
  if (!m) {
    throw new Error(`${option}: expected HOST:PORT, got ${JSON.stringify(value ?? '')}`);
  }
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}
