import fc, { type Arbitrary } from 'fast-check';

/**
 * fast-check arbitraries built from the JSON Schemas of /openapi.json: values a schema accepts
 * (`valid`) and values it refuses (`invalid`), one rule broken at a time, plus the hostile text
 * of issue 12 (NUL, unpaired surrogates, controls, prototype keys, very long strings).
 *
 * `pool` gives real values (ids, usernames, role and preset names, client ids, token strings)
 * mixed into strings, so generated requests reach real records instead of only 404s.
 */

export interface Schema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  minProperties?: number;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
}

/** Strings an attacker tries first (issue 12), whatever the field. */
export const hostileStrings: readonly string[] = [
  // What PostgreSQL and jsonb refuse (issue 12): half the list, so a short run meets them.
  'x\u0000y',
  '\u0000',
  '\ud800',
  'a\udc00b',
  '\u0007bell',
  'line\nbreak',
  '\u202eevil',
  '',
  '../../../etc/passwd',
  "' OR 1=1 --",
  '__proto__',
  '🦄'.repeat(40),
  'x'.repeat(5000),
  '%ZZ',
];

const hostile = fc.constantFrom(...hostileStrings);

export type Pool = (name: string | undefined) => readonly string[];

const cap = (n: number | undefined, fallback: number) => Math.min(n ?? fallback, fallback);

function typesOf(schema: Schema): string[] {
  if (schema.type === undefined) return schema.properties ? ['object'] : [];
  return [schema.type].flat();
}

/** Values the schema accepts. `name` is the property the value is for, to draw on the pool. */
export function valid(schema: Schema, pool: Pool, name?: string): Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((alternative) => valid({ ...schema, anyOf: undefined, oneOf: undefined, ...alternative }, pool, name)));
  if (schema.allOf) return valid(mergeAll(schema), pool, name);
  const types = typesOf(schema);
  if (types.length > 1) return fc.oneof(...types.map((type) => valid({ ...schema, type }, pool, name)));
  switch (types[0]) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
    case 'number': {
      const min = schema.minimum ?? -1000;
      const max = schema.maximum ?? Math.max(min, 0) + 100_000;
      return fc.oneof(fc.constantFrom(min, max), fc.integer({ min: Math.ceil(min), max: Math.floor(max) }));
    }
    case 'array': {
      const items = schema.items ?? {};
      return fc.array(valid(items, pool, name), { minLength: schema.minItems ?? 0, maxLength: Math.max(schema.minItems ?? 0, cap(schema.maxItems, 3)) });
    }
    case 'object':
      return validObject(schema, pool);
    case 'string':
      return validString(schema, pool, name);
    default:
      return fc.oneof(fc.string(), fc.integer(), fc.boolean());
  }
}

function mergeAll(schema: Schema): Schema {
  const merged: Schema = { type: 'object', properties: {}, required: [] };
  for (const part of schema.allOf ?? []) {
    Object.assign(merged.properties as object, part.properties);
    merged.required = [...(merged.required ?? []), ...(part.required ?? [])];
  }
  return merged;
}

function validObject(schema: Schema, pool: Pool): Arbitrary<Record<string, unknown>> {
  const properties = schema.properties ?? {};
  const required = schema.required ?? [];
  const record = fc.record(
    Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, valid(value, pool, key)])),
    { requiredKeys: required },
  ) as Arbitrary<Record<string, unknown>>;
  const min = schema.minProperties ?? 0;
  const keys = Object.keys(properties);
  if (min === 0 || keys.length === 0) return record;
  // minProperties: top up with the first properties left out.
  return fc.tuple(record, fc.record(Object.fromEntries(keys.map((key) => [key, valid(properties[key] as Schema, pool, key)])))).map(([value, all]) => {
    const out = { ...value };
    for (const key of keys) {
      if (Object.keys(out).length >= min) break;
      if (!(key in out)) out[key] = all[key];
    }
    return out;
  });
}

function validString(schema: Schema, pool: Pool, name: string | undefined): Arbitrary<string> {
  const minLength = schema.minLength ?? 0;
  const maxLength = schema.maxLength ?? 200;
  const fits = (value: string) => [...value].length >= minLength && [...value].length <= maxLength && (schema.pattern === undefined || new RegExp(schema.pattern, 'u').test(value));
  let generated: Arbitrary<string>;
  if (schema.format === 'date-time') {
    generated = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true }).map((date) => date.toISOString());
  } else if (schema.format === 'email') {
    generated = fc.emailAddress().filter((email) => email.length <= maxLength);
  } else if (schema.pattern !== undefined) {
    generated = fc.stringMatching(new RegExp(schema.pattern, 'u'), { maxLength: cap(maxLength, 60) }).filter(fits);
  } else {
    // Free text: hostile strings the schema lets through are the ones the server itself must refuse or cope with.
    const text = fc.string({ minLength, maxLength: Math.max(minLength, cap(maxLength, 40)), unit: 'grapheme' }).filter(fits);
    const nasty = hostileStrings.filter(fits);
    generated = nasty.length > 0 ? fc.oneof(text, fc.constantFrom(...nasty)) : text;
  }
  const known = pool(name).filter(fits);
  return known.length > 0 ? fc.oneof({ arbitrary: fc.constantFrom(...known), weight: 2 }, { arbitrary: generated, weight: 1 }) : generated;
}

/** Values the schema refuses, or hostile ones it may accept (the server must then refuse them or cope). */
export function invalid(schema: Schema, pool: Pool, name?: string): Arbitrary<unknown> {
  const wrongType = fc.oneof(fc.constant(null), fc.integer(), fc.constant(true), fc.constant([]), fc.constant({}), fc.string({ maxLength: 5 }), fc.double());
  const broken: Arbitrary<unknown>[] = [wrongType, hostile];
  if (schema.enum || schema.const !== undefined) broken.push(fc.string({ maxLength: 12 }));
  const types = typesOf(schema);
  if (types.includes('string')) {
    if (schema.maxLength !== undefined) broken.push(fc.constant('y'.repeat(schema.maxLength + 1)));
    if ((schema.minLength ?? 0) > 0) broken.push(fc.constant('z'.repeat((schema.minLength ?? 1) - 1)));
    if (schema.pattern !== undefined) broken.push(fc.string({ maxLength: 20 }).filter((value) => !new RegExp(schema.pattern as string, 'u').test(value)));
  }
  if (types.includes('integer') || types.includes('number')) {
    if (schema.minimum !== undefined) broken.push(fc.constant(schema.minimum - 1));
    if (schema.maximum !== undefined) broken.push(fc.constant(schema.maximum + 1));
    broken.push(fc.constantFrom(1.5, -0, Number.MAX_SAFE_INTEGER + 2, '12'));
  }
  if (types.includes('array') && schema.items) {
    broken.push(fc.array(invalid(schema.items, pool, name), { minLength: 1, maxLength: 3 }));
    if (schema.maxItems !== undefined) broken.push(fc.constant(Array.from({ length: schema.maxItems + 1 }, () => 'a')));
  }
  if (types.includes('object') || schema.properties) broken.push(invalidObject(schema, pool));
  return fc.oneof(...broken);
}

function invalidObject(schema: Schema, pool: Pool): Arbitrary<unknown> {
  const properties = schema.properties ?? {};
  const keys = Object.keys(properties);
  const base = validObject(schema, pool);
  const options: Arbitrary<unknown>[] = [
    // An unknown member, or a prototype key (issue 12).
    fc.tuple(base, fc.constantFrom('unknown_field', '__proto__', 'constructor', 'x\u0000')).map(([value, key]) => ({ ...value, [key]: 1 })),
  ];
  if (keys.length > 0) {
    // One member broken, the rest valid.
    options.push(
      fc.tuple(base, fc.constantFrom(...keys)).chain(([value, key]) => invalid(properties[key] as Schema, pool, key).map((bad) => ({ ...value, [key]: bad }))),
    );
  }
  for (const key of schema.required ?? []) {
    options.push(base.map((value) => Object.fromEntries(Object.entries(value).filter(([k]) => k !== key))));
  }
  return fc.oneof(...options);
}
