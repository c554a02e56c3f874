import { inspect } from 'node:util';

// A token or password that never leaks through JSON.stringify, util.inspect or a template string,
// so a /config dump or a log line cannot print it by accident (jiralert habit).
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '<secret>';
  }
  toJSON(): string {
    return '<secret>';
  }
  [inspect.custom](): string {
    return '<secret>';
  }
}
