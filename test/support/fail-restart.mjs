// A restart that does not help (the service will not start): the e2e test's unfixable fault.
process.stderr.write('Job for utm.service failed because the control process exited with error code.\n');
process.exit(1);
