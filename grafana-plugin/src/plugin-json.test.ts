import { z } from 'zod';
import pluginJson from './plugin.json';

/**
 * plugin.json against Grafana's plugin.json schema (docs/sources/developers/plugins/plugin.schema.json in
 * grafana/grafana). The schema ships in no npm package we can install here, so this restates, by hand, the
 * parts that apply to a panel: required keys, the id and version patterns, no unknown keys. Written from the
 * published schema, not copied from it.
 */
const id = /^[0-9a-z]+-([0-9a-z]+-)?(app|panel|datasource|secretsmanager|transformer)$/;
const grafanaDependency =
  /^(<=|>=|<|>|=|~|\^)?([0-9]+)(\.[0-9x*]+)(\.[0-9x*]+)?(\s(<=|>=|<|=>)?([0-9]+)(\.[0-9x]+)(\.[0-9x]+))?$/;

const schema = z.strictObject({
  $schema: z.string().optional(),
  id: z.string().regex(id),
  type: z.enum(['app', 'datasource', 'panel', 'renderer', 'secretsmanager', 'transformer']),
  name: z.string().min(1),
  info: z.strictObject({
    author: z
      .strictObject({ name: z.string().optional(), email: z.string().optional(), url: z.string().optional() })
      .optional(),
    description: z.string().optional(),
    keywords: z.array(z.string()).min(1),
    links: z.array(z.strictObject({ name: z.string().optional(), url: z.string().optional() })).optional(),
    logos: z.strictObject({ small: z.string(), large: z.string() }),
    screenshots: z.array(z.strictObject({ name: z.string().optional(), path: z.string().optional() })).optional(),
    updated: z.string().regex(/^(\d{4}-\d{2}-\d{2}|%TODAY%)$/),
    version: z.string().regex(/^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)|(%VERSION%)$/),
  }),
  dependencies: z.strictObject({
    grafanaDependency: z.string().regex(grafanaDependency),
    grafanaVersion: z.string().optional(),
    plugins: z.array(z.object({ id: z.string(), name: z.string(), type: z.string(), version: z.string() })).optional(),
  }),
  skipDataQuery: z.boolean().optional(),
});

describe('plugin.json', () => {
  it('passes the checks of Grafana plugin.json schema', () => {
    const r = schema.safeParse(pluginJson);
    expect(r.success ? [] : r.error.issues).toEqual([]);
  });

  it('is the tillwatch-hierarchy-panel panel for Grafana 13.0.2 and later', () => {
    expect(pluginJson).toMatchObject({
      id: 'tillwatch-hierarchy-panel',
      type: 'panel',
      dependencies: { grafanaDependency: '>=13.0.2' },
    });
  });

  it('would reject an id outside the naming convention (the check can fail)', () => {
    expect(schema.safeParse({ ...pluginJson, id: 'Tillwatch_Hierarchy' }).success).toBe(false);
  });
});
