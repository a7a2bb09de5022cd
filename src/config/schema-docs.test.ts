import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ENV_SETTINGS } from './env-mapping.js';
import { configSchema } from './schema.js';

const documentation = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');

/** Every leaf key of the schema, as the YAML would spell it (models[].deployments[].mock.ttft → "ttft"). */
function leafKeys(schema: z.ZodType, into = new Set<string>()): Set<string> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const walk = (node: unknown) => {
    if (!node || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if (record.properties && typeof record.properties === 'object') {
      for (const [key, child] of Object.entries(record.properties as Record<string, unknown>)) {
        into.add(key);
        walk(child);
      }
    }
    for (const nested of ['items', 'anyOf', 'oneOf', 'allOf', 'additionalProperties']) {
      const value = record[nested];
      if (Array.isArray(value)) value.forEach(walk);
      else walk(value);
    }
  };
  walk(json);
  return into;
}

describe('docs/configuration.md', () => {
  it('documents every setting of the schema', () => {
    const missing = [...leafKeys(configSchema)].filter(
      (key) => !new RegExp(`\\b${key}\\b`).test(documentation),
    );
    expect(missing).toEqual([]);
  });

  it('documents every environment variable', () => {
    const missing = ENV_SETTINGS.map((setting) => setting.env).filter(
      (name) => !documentation.includes(`\`${name}\``),
    );
    expect(missing).toEqual([]);
  });
});
