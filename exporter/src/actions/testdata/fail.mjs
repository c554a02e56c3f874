// A restart that fails: prints why and exits 3.
process.stderr.write('Job for utm.service failed because the control process exited with error code.\n');
process.exit(3);
