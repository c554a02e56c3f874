// The config kit: what every TillWatch package loads its files with (see README.md).
export { ConfigError, formatKeyPath, formatProblem, TOP_LEVEL, type ConfigProblem } from './error.js';
export {
  DURATION_SYNTAX,
  MAX_DURATION_MS,
  durationMs,
  durationProblem,
  formatDuration,
  parseDuration,
  positiveDurationMs,
} from './duration.js';
export { BYTE_SIZE_SYNTAX, byteSize, byteSizeProblem, parseByteSize } from './byte-size.js';
export { loadYamlFile, parseYaml, parseYamlDocument, readConfigFile, toYaml } from './yaml.js';
export { PARSE_OPTIONS, parseWith, problemsOf } from './issues.js';
export {
  USAGE_EXIT,
  UsageError,
  packageVersion,
  parseCli,
  suggest,
  unknownCommand,
  unknownOption,
  versionText,
  wantsHelp,
  wantsVersion,
  type CliOptions,
  type ParsedCli,
} from './cli.js';
