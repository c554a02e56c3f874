// Certificates for TLS tests, made by the openssl command line: a CA, servers and clients with the SANs
// a test needs, each as DIR/NAME.crt and DIR/NAME.key (PEM, RSA 2048, valid two days).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const openssl = (dir: string, ...args: string[]) =>
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });

/** A self-signed certificate (also a CA); `san` like `IP:127.0.0.1,DNS:till`. */
export function selfSignedCert(dir: string, name: string, subject: string, san?: string): void {
  openssl(
    dir,
    ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', subject],
    ...['-keyout', `${name}.key`, '-out', `${name}.crt`],
    ...(san ? ['-addext', `subjectAltName=${san}`] : []),
  );
}

/** A certificate signed by DIR/CA.crt and CA.key, as a fleet CA issues one to a till or a scraper. */
export function signedCert(
  dir: string,
  name: string,
  subject: string,
  opts: { ca: string; san?: string },
): void {
  openssl(
    dir,
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    subject,
  );
  writeFileSync(join(dir, `${name}.ext`), opts.san ? `subjectAltName=${opts.san}\n` : '');
  openssl(
    dir,
    ...['x509', '-req', '-in', `${name}.csr`, '-days', '2', '-out', `${name}.crt`, '-extfile', `${name}.ext`],
    ...['-CA', `${opts.ca}.crt`, '-CAkey', `${opts.ca}.key`, '-CAcreateserial'],
  );
}
