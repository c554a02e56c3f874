// YAML in and out for every TillWatch package, through the `yaml` package (YAML 1.2 core schema:
// no sexagesimal numbers, `no` stays a string). A syntax error or a duplicate key is a ConfigError
// at file:line:column; later errors of the same parse are usually echoes of the first, so only the
// first is reported.
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, stringify, type Document } from 'yaml';
import { ConfigError } from './error.js';

/**
 * One YAML document of `file`, for callers that edit a file and write it back with its comments
 * (the stack's rendered configs); a syntax error or duplicate key throws at file:line:column.
 */
export function parseYamlDocument(text: string, file: string): Document {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter });
  const first = doc.errors[0];
  if (first) {
    const { line, col } = lineCounter.linePos(first.pos[0]);
    // The parser's advice here is for programmers (parseAllDocuments); a config is one document.
    const message =
      first.code === 'MULTIPLE_DOCS' ? 'the file holds more than one YAML document (---)' : first.message;
    throw new ConfigError(file, { message: `invalid YAML: ${message}`, line, column: col });
  }
  return doc;
}

/** The parsed value of one YAML document (null for an empty file). `file` names it in errors. */
export function parseYaml(text: string, file: string): unknown {
  const doc = parseYamlDocument(text, file);
  try {
    return doc.toJS();
  } catch (err) {
    // Unresolved aliases and alias bombs surface only while building the value.
    throw new ConfigError(file, { message: `invalid YAML: ${(err as Error).message}` });
  }
}

/** The text of a config file, or a ConfigError naming it and why it cannot be read. */
export function readConfigFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // Node's message repeats the path ("ENOENT: no such file or directory, open '/x.yml'").
    const why = e.code
      ? `${e.code}: ${e.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '')}`
      : e.message;
    throw new ConfigError(file, { message: `cannot read the file: ${why}` });
  }
}

/** Reads and parses a YAML file; every failure is a ConfigError naming the file. */
export function loadYamlFile(file: string): unknown {
  return parseYaml(readConfigFile(file), file);
}

/** YAML for generated files (agent configs, inventories): block style, no line folding, no anchors. */
export function toYaml(value: unknown, opts: { singleQuote?: boolean } = {}): string {
  return stringify(value, {
    lineWidth: 0,
    aliasDuplicateObjects: false,
    singleQuote: opts.singleQuote ?? false,
  });
}
