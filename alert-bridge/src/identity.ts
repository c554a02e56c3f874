import { createHash } from 'node:crypto';
import type { Config } from './config.js';

export const PLACE_LABELS = ['chain', 'region', 'store', 'till', 'device'] as const;
export type Place = Record<(typeof PLACE_LABELS)[number], string | null>;

export interface Identity {
  key: string;
  incidentClass: string;
  /** The family the class belongs to (knowledge base); the key is built from it. */
  family: string;
  storeScope: boolean;
  place: Place;
}

/**
 * The ticket key is the incident class's family (the class itself unless the knowledge base puts it in
 * one) plus the labels that locate the problem, in a fixed order,
 * so repeats, HA duplicates and partial groups of the same problem always land on one ticket
 * (jiralert derives its key from sorted group labels the same way). Labels such as instance, job
 * or severity are left out on purpose: they change between scrapes/rules without changing the problem.
 */
export function identify(
  labels: Record<string, string>,
  tickets: Config['tickets'],
  familyOf: (incidentClass: string) => string = (c) => c,
): Identity {
  const incidentClass = incidentClassOf(labels);
  const storeScope = tickets.store_scope_classes.includes(incidentClass) || (!labels.till && !!labels.store);
  const place: Place = { chain: null, region: null, store: null, till: null, device: null };
  const family = familyOf(incidentClass);
  const parts = [escapeKeyPart(family)];
  for (const l of PLACE_LABELS) {
    const v = labels[l];
    if (v === undefined || v === '') continue;
    if (storeScope && (l === 'till' || l === 'device')) continue;
    place[l] = v;
    parts.push(`${l}=${escapeKeyPart(v)}`);
  }
  return { key: parts.join('|'), incidentClass, family, storeScope, place };
}

/**
 * The key's separators inside a value are percent-encoded, so `store="a|till=b"` can never produce the
 * key of `store=a, till=b`; values without `%`, `|` or `=` (every real id) keep their plain form.
 */
export function escapeKeyPart(v: string): string {
  return /[%|=]/.test(v) ? v.replace(/%/g, '%25').replace(/\|/g, '%7C').replace(/=/g, '%3D') : v;
}

/** The alert's incident class: its `incident_class` label, else one derived from its name. */
export function incidentClassOf(labels: Record<string, string>): string {
  return labels.incident_class?.trim() || `unclassified.${snake(labels.alertname ?? 'unknown')}`;
}

function snake(s: string): string {
  return s
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toLowerCase();
}

/** Alertmanager sends a fingerprint; when a sender omits it, derive one from the sorted labels. */
export function fingerprintOf(labels: Record<string, string>, given?: string): string {
  if (given) return given;
  const h = createHash('sha256');
  for (const k of Object.keys(labels).sort()) h.update(`${k}\u0000${labels[k]}\u0001`);
  return h.digest('hex').slice(0, 16);
}
